"""The registry connector against a fake Elhub served over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from innsyn_peers.elhub import ElhubPeer, gsrn_check_digit

from app.connectors import (
    ConnectorConfigError,
    ConnectorTransientError,
    ErasureOutcome,
    SubjectRef,
)
from app.connectors.builtin.registry import LEGAL_REFERENCE, RegistryConfig, RegistryConnector
from app.connectors.testing import ConnectorContract, closed_url, serve_app

KARI_FNR = "15076500565"
PER_FNR = "24058012345"
TOKEN = "elhub-test-token-5b1f0c"


@pytest.fixture(scope="module")
def peer() -> ElhubPeer:
    return ElhubPeer(token=TOKEN)


@pytest.fixture(scope="module")
def peer_url(peer: ElhubPeer) -> Iterator[str]:
    with serve_app(peer.app) as url:
        yield url


@pytest.fixture
def fresh_peer(peer: ElhubPeer) -> ElhubPeer:
    peer.end_users.clear()
    peer.requests.clear()
    peer.fail_next.clear()
    return peer


def make(url: str, token: str = TOKEN, **extra: Any) -> RegistryConnector:
    config = RegistryConfig(base_url=url, token=token, **extra)  # type: ignore[arg-type]
    return RegistryConnector("elhub", config)


@pytest.fixture
async def elhub(peer_url: str, fresh_peer: ElhubPeer) -> AsyncIterator[RegistryConnector]:
    connector = make(peer_url)
    yield connector
    await connector.aclose()


@pytest.fixture
def kari(fresh_peer: ElhubPeer) -> SubjectRef:
    fresh_peer.add_end_user(
        national_id=KARI_FNR,
        name="Kari Nordmann",
        email="kari@example.no",
        mobile="+4791234567",
        metering_points=2,
    )
    return SubjectRef(request_id="r-kari", national_id=KARI_FNR, name="Kari Nordmann")


@pytest.fixture
def per(fresh_peer: ElhubPeer) -> SubjectRef:
    fresh_peer.add_end_user(
        national_id=PER_FNR, name="Per Hansen", email="per@example.no", address="Elveveien 2"
    )
    return SubjectRef(request_id="r-per", national_id=PER_FNR, name="Per Hansen")


class TestRegistryContract(ConnectorContract):
    kind = "registry"

    @pytest.fixture
    def connector(self, elhub: RegistryConnector) -> RegistryConnector:
        return elhub

    @pytest.fixture
    def seed_subject(self, kari: SubjectRef) -> SubjectRef:
        return kari

    @pytest.fixture
    def other_subject(self, per: SubjectRef) -> SubjectRef:
        return per

    @pytest.fixture
    def held_subject(self, kari: SubjectRef) -> SubjectRef:
        return kari

    @pytest.fixture
    async def broken_connector(self, peer_url: str) -> AsyncIterator[RegistryConnector]:
        connector = make(peer_url, token="wrong-token-d41d8c")
        yield connector
        await connector.aclose()

    @pytest.fixture
    def rectify_changes(self) -> dict[str, Any]:
        return {"email": "kari.nordmann@example.no", "mobile": "+4799887766"}

    @pytest.fixture
    def expected_categories(self) -> set[str]:
        return {"master_data", "metering_points"}


async def test_collect_gives_master_data_gsrn_and_the_external_controller(
    elhub: RegistryConnector, kari: SubjectRef
) -> None:
    result = await elhub.collect(kari)

    assert result.external_controller == "Elhub"
    assert result.self_service_url == "https://plugin.elhub.no"
    master = result.by_category()["master_data"]
    assert [r.data["national_id"] for r in master] == [KARI_FNR]
    assert master[0].data["email"] == "kari@example.no"
    gsrns = [r.id for r in result.by_category()["metering_points"]]
    assert len(gsrns) == 2
    assert all(len(g) == 18 and g[-1] == gsrn_check_digit(g[:17]) for g in gsrns)


async def test_erase_never_deletes_and_cites_the_law(
    elhub: RegistryConnector, kari: SubjectRef, fresh_peer: ElhubPeer
) -> None:
    result = await elhub.erase(kari, ["master_data", "metering_points"])

    assert [(c.category, c.outcome, c.reason) for c in result.categories] == [
        ("master_data", ErasureOutcome.not_erasable, LEGAL_REFERENCE),
        ("metering_points", ErasureOutcome.not_erasable, LEGAL_REFERENCE),
    ]
    assert fresh_peer.writes() == []
    assert len((await elhub.collect(kari)).records) == 3


async def test_holds_report_the_regulatory_basis_only_for_known_people(
    elhub: RegistryConnector, kari: SubjectRef
) -> None:
    [hold] = await elhub.find_holds(kari)
    assert hold.basis_code == "regulatory_registry"
    assert hold.categories == ["master_data", "metering_points"]
    stranger = SubjectRef(request_id="r-x", national_id="02013299997")
    assert await elhub.find_holds(stranger) == []


async def test_rectify_puts_corrected_master_data_to_the_registry(
    elhub: RegistryConnector, kari: SubjectRef, fresh_peer: ElhubPeer
) -> None:
    result = await elhub.rectify(kari, {"address": "Nygata 5, 0159 Oslo", "shoe_size": 42})

    [change] = result.categories
    assert (change.outcome, change.fields) == ("rectified", ["postal_address"])
    [(method, path)] = fresh_peer.writes()
    assert method == "PUT" and path.endswith("/master-data")
    user = next(iter(fresh_peer.end_users.values()))
    assert user.postalAddress == "Nygata 5, 0159 Oslo"
    assert user.email == "kari@example.no"  # untouched fields are sent back unchanged


async def test_rectify_without_correctable_fields_is_not_supported(
    elhub: RegistryConnector, kari: SubjectRef, fresh_peer: ElhubPeer
) -> None:
    result = await elhub.rectify(kari, {"shoe_size": 42})
    assert [c.outcome for c in result.categories] == ["not_supported"]
    assert fresh_peer.writes() == []


async def test_a_person_without_national_id_is_not_looked_up(
    elhub: RegistryConnector, fresh_peer: ElhubPeer
) -> None:
    result = await elhub.collect(SubjectRef(request_id="r", emails=["kari@example.no"]))
    assert result.records == []
    assert fresh_peer.requests == []


async def test_national_id_never_travels_in_a_url(
    elhub: RegistryConnector, kari: SubjectRef, fresh_peer: ElhubPeer
) -> None:
    await elhub.collect(kari)
    await elhub.rectify(kari, {"email": "new@example.no"})
    assert fresh_peer.requests, "the connector made no requests"
    assert not [p for _m, p in fresh_peer.requests if KARI_FNR in p]


@pytest.mark.parametrize("status", [429, 503])
async def test_overload_is_transient(
    elhub: RegistryConnector, kari: SubjectRef, fresh_peer: ElhubPeer, status: int
) -> None:
    fresh_peer.fail_next.append(status)
    with pytest.raises(ConnectorTransientError) as raised:
        await elhub.collect(kari)
    assert str(status) in raised.value.message
    assert KARI_FNR not in raised.value.internal_message


async def test_wrong_token_is_a_configuration_error(peer_url: str, kari: SubjectRef) -> None:
    connector = make(peer_url, token="not-the-token")
    try:
        with pytest.raises(ConnectorConfigError, match="refused the credentials"):
            await connector.check()
    finally:
        await connector.aclose()


async def test_unreachable_registry_is_transient(kari: SubjectRef) -> None:
    connector = make(closed_url())
    try:
        with pytest.raises(ConnectorTransientError, match="could not be reached"):
            await connector.collect(kari)
    finally:
        await connector.aclose()


def test_config_rejects_a_non_http_url() -> None:
    with pytest.raises(ValueError, match="base_url"):
        RegistryConfig(base_url="ftp://elhub", token="x")  # type: ignore[arg-type]


def test_the_categories_speak_norwegian_on_a_norwegian_page() -> None:
    from app.domain import letter_words
    from tests.reports.language import NOT_NORWEGIAN

    for category in make("https://registry.invalid").categories():
        texts = [category.text(name, "nb") for name in ("description", "purpose", "retention")]
        texts += [category.text("legal_basis", "nb"), category.text("source", "nb")]
        texts += [*category.recipients_in("nb"), category.automated_decisions_in("nb") or ""]
        texts.append(letter_words.category(category.name, "nb"))
        for text in texts:
            for word in [*NOT_NORWEGIAN, "GDPR", "registry", "grid", "independent"]:
                assert word not in text, (category.name, text)
        assert "nettselskapet ditt" in category.recipients_in("nb")
        assert category.recipients_in("en") == category.recipients  # routing names stay
