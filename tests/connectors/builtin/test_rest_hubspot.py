"""The rest connector against a real HubSpot-style CRM API on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import pytest
from innsyn_peers.hubspot import HubspotState, seed_demo

from app.connectors.builtin.rest import RestConnector
from app.connectors.errors import ConnectorPermanentError, ConnectorTransientError
from app.connectors.protocol import ErasureOutcome, SubjectRef
from app.connectors.testing import ConnectorContract
from tests.connectors.builtin.test_rest_support import (
    HUBSPOT_TOKEN,
    build,
    built,
    category,
    hubspot_config,
    hubspot_peer,
    hubspot_server,
)

__all__ = ["built", "hubspot_peer", "hubspot_server"]  # fixtures used below

Built = Callable[..., RestConnector]
Peer = tuple[str, HubspotState]
KARI = "kari.nordmann@example.com"
PER = "per.olsen@example.com"


def seed_kari(state: HubspotState) -> str:
    kari = state.add_contact(
        email=KARI, firstname="Kari", lastname="Nordmann", phone="+4791234567", company="Bygg AS"
    )
    for n in range(3):
        state.add_email(kari["id"], f"Tilbud {n}", f"Tekst {n}")
    return str(kari["id"])


def seed_per(state: HubspotState) -> str:
    per = state.add_contact(email=PER, firstname="Per", lastname="Olsen", phone="+4740000000")
    state.add_email(per["id"], "Møte", "Passer tirsdag?")
    return str(per["id"])


def kari_ref() -> SubjectRef:
    return SubjectRef(request_id="r-kari", emails=[KARI], name="Kari Nordmann")


class TestHubspotContract(ConnectorContract):
    kind = "rest"

    @pytest.fixture
    async def connector(self, hubspot_peer: Peer) -> AsyncIterator[RestConnector]:
        connector = build(hubspot_config(hubspot_peer[0]), name="hubspot")
        yield connector
        await connector.aclose()

    @pytest.fixture
    def seed_subject(self, hubspot_peer: Peer) -> SubjectRef:
        seed_kari(hubspot_peer[1])
        return kari_ref()

    @pytest.fixture
    def other_subject(self, hubspot_peer: Peer) -> SubjectRef:
        seed_per(hubspot_peer[1])
        return SubjectRef(
            request_id="r-per", emails=[PER], phones=["+4740000000"], name="Per Olsen"
        )

    @pytest.fixture
    async def broken_connector(self, hubspot_peer: Peer) -> AsyncIterator[RestConnector]:
        connector = build(hubspot_config(hubspot_peer[0], token="wrong-token-456"))
        yield connector
        await connector.aclose()

    @pytest.fixture
    def rectify_changes(self) -> Mapping[str, Any]:
        return {"lastname": "Nordmann-Berg", "phone": "+4790000001"}

    @pytest.fixture
    def expected_categories(self) -> set[str]:
        return {"crm_contact", "crm_emails"}


@pytest.fixture
async def connector(hubspot_peer: Peer) -> AsyncIterator[RestConnector]:
    connector = build(hubspot_config(hubspot_peer[0]), name="hubspot")
    yield connector
    await connector.aclose()


@pytest.mark.parametrize("next_url_path", ["paging.next.link", None])
async def test_next_page_links_from_body_or_link_header(
    built: Built, hubspot_peer: Peer, next_url_path: str | None
) -> None:
    base_url, state = hubspot_peer
    seed_kari(state)
    config = hubspot_config(base_url)
    category(config, "crm_emails")["paging"] = {"type": "link", "next_url_path": next_url_path}
    connector = built(config)
    before = state.requests
    records = (await connector.collect(kari_ref())).by_category()["crm_emails"]
    assert sorted(r.data["subject"] for r in records) == ["Tilbud 0", "Tilbud 1", "Tilbud 2"]
    assert state.requests - before == 3  # one search, two pages of e-mails


async def test_search_cursor_goes_back_in_the_body(
    connector: RestConnector, hubspot_peer: Peer
) -> None:
    _, state = hubspot_peer
    ids = {seed_kari(state), state.add_contact(email=KARI.upper())["id"]}
    ids.add(state.add_contact(email=KARI, firstname="Kari", lastname="N")["id"])
    contacts = (await connector.collect(kari_ref())).by_category()["crm_contact"]
    assert {r.id for r in contacts} == ids  # three hits, pages of two


async def test_next_link_to_another_origin_is_refused(built: Built, hubspot_peer: Peer) -> None:
    base_url, state = hubspot_peer
    seed_kari(state)
    state.link_origin = "innsyn-peer.invalid:8443"
    connector = built(hubspot_config(base_url))
    with pytest.raises(ConnectorPermanentError, match="outside the configured base_url"):
        await connector.collect(kari_ref())


async def test_api_key_header_auth(built: Built, hubspot_peer: Peer) -> None:
    base_url, state = hubspot_peer
    state.auth_header = "X-Api-Key"
    seed_kari(state)
    auth = {"type": "header", "header": "X-Api-Key", "value": HUBSPOT_TOKEN}
    connector = built(hubspot_config(base_url, auth=auth))
    assert (await connector.check()).ok
    assert len((await connector.collect(kari_ref())).records) == 4
    assert HUBSPOT_TOKEN not in repr(connector._client.auth)


async def test_server_error_is_transient(connector: RestConnector, hubspot_peer: Peer) -> None:
    hubspot_peer[1].fail_next = 1
    with pytest.raises(ConnectorTransientError, match="HTTP 503"):
        await connector.check()
    assert (await connector.check()).ok


async def test_children_are_erased_before_the_contact(
    connector: RestConnector, hubspot_peer: Peer
) -> None:
    _, state = hubspot_peer
    kari_id = seed_kari(state)
    seed_per(state)
    result = await connector.erase(kari_ref(), ["crm_contact", "crm_emails"])
    outcomes = {e.category: (e.outcome, e.count) for e in result.categories}
    assert outcomes == {
        "crm_contact": (ErasureOutcome.erased, 1),
        "crm_emails": (ErasureOutcome.erased, 3),
    }
    assert kari_id not in state.contacts
    assert all(e["contact_id"] != kari_id for e in state.emails.values())
    assert len(state.emails) == 1


async def test_contact_with_kept_emails_is_not_erased(
    connector: RestConnector, hubspot_peer: Peer
) -> None:
    _, state = hubspot_peer
    kari_id = seed_kari(state)
    result = await connector.erase(kari_ref(), ["crm_contact"])
    [entry] = result.categories
    assert entry.outcome is ErasureOutcome.not_erasable
    assert entry.reason == "erasing it would remove or orphan kept data in crm_emails"
    assert kari_id in state.contacts and len(state.emails) == 3
    emails_only = await connector.erase(kari_ref(), ["crm_emails"])
    assert emails_only.categories[0].count == 3 and not state.emails
    contact_now = await connector.erase(kari_ref(), ["crm_contact"])
    assert contact_now.categories[0].outcome is ErasureOutcome.erased
    assert not state.contacts


async def test_archive_by_delete(built: Built, hubspot_peer: Peer) -> None:
    base_url, state = hubspot_peer
    seed_kari(state)
    config = hubspot_config(base_url)
    category(config, "crm_contact")["erase"] = {
        "method": "DELETE",
        "path": "/crm/v3/objects/contacts/{id}",
    }
    connector = built(config)
    result = await connector.erase(kari_ref(), ["crm_contact", "crm_emails"])
    assert [e.outcome for e in result.categories] == [ErasureOutcome.erased] * 2
    assert not state.contacts and not state.emails


async def test_rectify_patches_nested_properties(
    connector: RestConnector, hubspot_peer: Peer
) -> None:
    _, state = hubspot_peer
    kari_id = seed_kari(state)
    result = await connector.rectify(kari_ref(), {"lastname": "Berg", "company": "Ny AS"})
    outcomes = {c.category: c for c in result.categories}
    assert outcomes["crm_contact"].fields == ["lastname"]  # company is not correctable here
    assert outcomes["crm_emails"].outcome == "not_supported"
    properties = state.contacts[kari_id]["properties"]
    assert (properties["lastname"], properties["company"]) == ("Berg", "Bygg AS")


async def test_demo_data_is_found_by_the_example(
    connector: RestConnector, hubspot_peer: Peer
) -> None:
    seed_demo(hubspot_peer[1])
    result = await connector.collect(kari_ref())
    counts = {name: len(records) for name, records in result.by_category().items()}
    assert counts == {"crm_contact": 1, "crm_emails": 3}
