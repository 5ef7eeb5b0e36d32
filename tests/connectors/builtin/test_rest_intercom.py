"""The rest connector against a real Intercom-style HTTP API on loopback."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import pytest
from innsyn_peers.intercom import IntercomState, seed_demo

from app.connectors.builtin.rest import RestConnector
from app.connectors.errors import ConnectorConfigError, ConnectorTransientError
from app.connectors.protocol import ErasureOutcome, SubjectRef
from app.connectors.testing import ConnectorContract
from tests.connectors.builtin.test_rest_support import (
    INTERCOM_TOKEN,
    build,
    built,
    category,
    intercom_config,
    intercom_peer,
    intercom_server,
)

__all__ = ["built", "intercom_peer", "intercom_server"]  # fixtures used below

Built = Callable[..., RestConnector]
Peer = tuple[str, IntercomState]
KARI = "kari.nordmann@example.com"
OLA = "ola.hansen@example.com"


def seed_kari(state: IntercomState) -> str:
    kari = state.add_contact(KARI, "Kari Nordmann", "+4791234567")
    for n in range(3):
        state.add_conversation(kari["id"], f"Faktura {n}", f"<p>Spørsmål nummer {n}</p>")
    for n in range(3):
        state.add_note(kari["id"], f"Notat {n}")
    return str(kari["id"])


def seed_ola(state: IntercomState) -> str:
    ola = state.add_contact(OLA, "Ola Hansen", "+4798765432")
    state.add_conversation(ola["id"], "Måler", "<p>Måleren viser feil.</p>")
    return str(ola["id"])


def kari_ref() -> SubjectRef:
    return SubjectRef(
        request_id="r-kari", emails=[KARI], phones=["+4791234567"], name="Kari Nordmann"
    )


@pytest.fixture
async def connector(intercom_peer: Peer) -> AsyncIterator[RestConnector]:
    base_url, _ = intercom_peer
    connector = build(intercom_config(base_url), name="intercom")
    yield connector
    await connector.aclose()


class TestIntercomContract(ConnectorContract):
    kind = "rest"

    @pytest.fixture
    async def connector(self, intercom_peer: Peer) -> AsyncIterator[RestConnector]:
        connector = build(intercom_config(intercom_peer[0]), name="intercom")
        yield connector
        await connector.aclose()

    @pytest.fixture
    def seed_subject(self, intercom_peer: Peer) -> SubjectRef:
        seed_kari(intercom_peer[1])
        return kari_ref()

    @pytest.fixture
    def other_subject(self, intercom_peer: Peer) -> SubjectRef:
        seed_ola(intercom_peer[1])
        return SubjectRef(
            request_id="r-ola", emails=[OLA], phones=["+4798765432"], name="Ola Hansen"
        )

    @pytest.fixture
    async def broken_connector(self, intercom_peer: Peer) -> AsyncIterator[RestConnector]:
        connector = build(intercom_config(intercom_peer[0], token="wrong-token-123"))
        yield connector
        await connector.aclose()

    @pytest.fixture
    def rectify_changes(self) -> Mapping[str, Any]:
        return {"name": "Kari Nordmann-Berg", "phone": "+4790000001"}

    @pytest.fixture
    def expected_categories(self) -> set[str]:
        return {"chat_contact", "chat_conversations", "chat_notes"}


async def test_collect_walks_every_page_of_each_kind(
    connector: RestConnector, intercom_peer: Peer
) -> None:
    _, state = intercom_peer
    kari_id = seed_kari(state)
    duplicate = state.add_contact(KARI.upper(), "Kari N.")  # a second contact, same address
    state.add_contact("kari@example.com", "Another Kari")  # a different address
    state.add_conversation(duplicate["id"], "Lead", "<p>Hei</p>")
    result = await connector.collect(kari_ref())
    by_category = result.by_category()
    assert sorted(r.id for r in by_category["chat_contact"]) == sorted([kari_id, duplicate["id"]])
    assert len(by_category["chat_conversations"]) == 4  # 3 on two pages + 1
    assert sorted(r.data["body"] for r in by_category["chat_notes"]) == [
        "Notat 0",
        "Notat 1",
        "Notat 2",
    ]
    contact = next(r for r in by_category["chat_contact"] if r.id == kari_id)
    assert contact.data == {
        "email": KARI,
        "name": "Kari Nordmann",
        "phone": "+4791234567",
        "created_at": 1_767_225_600,
    }


async def test_rate_limit_is_transient_with_retry_after(
    connector: RestConnector, intercom_peer: Peer
) -> None:
    _, state = intercom_peer
    seed_kari(state)
    state.rate_limit_next, state.retry_after = 1, "7"
    with pytest.raises(ConnectorTransientError) as raised:
        await connector.collect(kari_ref())
    assert raised.value.retry_after == 7.0
    assert KARI not in raised.value.internal_message
    assert (await connector.collect(kari_ref())).records  # the next attempt goes through


async def test_rejected_token_is_a_config_error_without_the_secret(
    built: Built, intercom_peer: Peer, caplog: pytest.LogCaptureFixture
) -> None:
    connector = built(intercom_config(intercom_peer[0], token="not-the-token-9"))
    with caplog.at_level(logging.DEBUG), pytest.raises(ConnectorConfigError) as raised:
        await connector.check()
    assert raised.value.message == "credentials rejected"
    texts = [str(raised.value), raised.value.internal_message, repr(raised.value), caplog.text]
    texts += [repr(connector), repr(connector.config), connector.config.model_dump_json()]
    assert not [t for t in texts if "not-the-token-9" in t]


async def test_secret_is_sent_but_never_shown(connector: RestConnector) -> None:
    assert (await connector.check()).ok  # the peer accepted the token, so it was sent
    shown = [repr(connector), str(connector.config), repr(connector._client.auth)]
    assert not [t for t in shown if INTERCOM_TOKEN in t]


async def test_slow_answer_is_transient(built: Built, intercom_peer: Peer) -> None:
    base_url, state = intercom_peer
    state.delay_seconds = 1.0
    connector = built(intercom_config(base_url, timeout_seconds=0.1))
    with pytest.raises(ConnectorTransientError, match="did not answer in time"):
        await connector.check()


async def test_unreachable_system_is_transient(
    built: Built,
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    connector = built(intercom_config(f"http://127.0.0.1:{port}"))
    with pytest.raises(ConnectorTransientError, match="could not reach"):
        await connector.check()


async def test_erase_by_delete_treats_a_concurrent_deletion_as_gone(
    built: Built, intercom_peer: Peer
) -> None:
    base_url, state = intercom_peer
    config = intercom_config(base_url)
    category(config, "chat_contact")["erase"] = {"method": "DELETE", "path": "/contacts/{id}"}
    connector = built(config)
    kari_id = seed_kari(state)
    state.deleted_elsewhere.add(kari_id)
    names = ["chat_contact", "chat_conversations", "chat_notes"]
    result = await connector.erase(kari_ref(), names)
    outcomes = {e.category: (e.outcome, e.count) for e in result.categories}
    assert outcomes["chat_contact"] == (ErasureOutcome.not_found, 0)
    assert kari_id not in state.contacts


async def test_erase_that_leaves_items_listed_fails_for_a_retry(
    built: Built, intercom_peer: Peer
) -> None:
    base_url, state = intercom_peer
    config = intercom_config(base_url)
    category(config, "chat_contact")["erase"] = {"method": "DELETE", "path": "/contacts/{id}"}
    connector = built(config)
    kari_id = seed_kari(state)
    state.stale_index.add(kari_id)  # DELETE says 404, search still lists it
    with pytest.raises(ConnectorTransientError, match="still listed in chat_contact"):
        await connector.erase(kari_ref(), ["chat_contact", "chat_conversations", "chat_notes"])


async def test_parent_is_kept_when_its_children_are_not_requested(
    connector: RestConnector, intercom_peer: Peer
) -> None:
    _, state = intercom_peer
    kari_id = seed_kari(state)
    result = await connector.erase(kari_ref(), ["chat_contact", "chat_conversations"])
    outcomes = {e.category: e for e in result.categories}
    assert outcomes["chat_contact"].outcome is ErasureOutcome.not_erasable
    assert "chat_notes" in (outcomes["chat_contact"].reason or "")
    assert outcomes["chat_conversations"].outcome is ErasureOutcome.not_erasable
    assert kari_id in state.contacts and len(state.conversations) == 3
    alone = await connector.erase(kari_ref(), ["chat_notes"])
    assert alone.categories[0].reason == "erased only together with chat_contact"


async def test_rectify_writes_only_mapped_fields(
    connector: RestConnector, intercom_peer: Peer
) -> None:
    _, state = intercom_peer
    kari_id = seed_kari(state)
    seed_ola(state)
    result = await connector.rectify(kari_ref(), {"name": "Kari Berg", "shoe_size": 38})
    outcomes = {c.category: c for c in result.categories}
    assert outcomes["chat_contact"].outcome == "rectified"
    assert outcomes["chat_contact"].fields == ["name"] and outcomes["chat_contact"].count == 1
    assert outcomes["chat_notes"].outcome == "not_supported"
    assert state.contacts[kari_id]["name"] == "Kari Berg"
    assert {c["name"] for c in state.contacts.values()} == {"Kari Berg", "Ola Hansen"}


async def test_person_without_email_is_not_searched(
    connector: RestConnector, intercom_peer: Peer
) -> None:
    _, state = intercom_peer
    seed_kari(state)
    before = state.requests
    result = await connector.collect(SubjectRef(request_id="r", phones=["+4791234567"]))
    assert result.records == [] and state.requests == before


async def test_demo_data_is_found_by_the_example(intercom_peer: Peer, built: Built) -> None:
    base_url, state = intercom_peer
    seed_demo(state)
    result = await built(intercom_config(base_url)).collect(kari_ref())
    counts = {name: len(records) for name, records in result.by_category().items()}
    assert counts == {"chat_contact": 1, "chat_conversations": 3, "chat_notes": 1}


async def test_changes_carry_an_idempotency_key_per_attempt_and_call(
    built: Built, intercom_peer: Peer
) -> None:
    base_url, state = intercom_peer
    config = intercom_config(base_url)
    category(config, "chat_contact")["erase"] = {"method": "DELETE", "path": "/contacts/{id}"}
    config["idempotency_header"] = "Idempotency-Key"
    seed_kari(state)
    seed_ola(state)
    subject = kari_ref().model_copy(update={"attempt_key": "tsk_1.2"})
    await built(config).erase(subject, ["chat_contact", "chat_conversations", "chat_notes"])
    [key] = state.idempotency_keys  # one DELETE: the contact (its chats go with it)
    assert key is not None and key.startswith("tsk_1.2-")

    # Without the setting, or outside the task queue (no attempt key), nothing is sent.
    state.idempotency_keys.clear()
    del config["idempotency_header"]
    other = SubjectRef(request_id="r-ola", emails=[OLA], attempt_key="tsk_2.1")
    await built(config).erase(other, ["chat_contact", "chat_conversations", "chat_notes"])
    assert state.idempotency_keys == [None]
