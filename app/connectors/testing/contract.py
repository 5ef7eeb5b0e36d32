"""The contract every connector passes, built-in or third-party.

Subclass ``ConnectorContract`` in a test module (the class name must start with ``Test``),
set ``kind``, and supply the fixtures ``connector``, ``seed_subject`` and ``other_subject``
(optionally ``broken_connector``, ``rectify_changes``, ``held_subject``,
``expected_categories``, ``hold_basis_codes``, ``secret_values``). The standard tests below then run against your system; tests of a
capability you do not declare are skipped with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar, cast

import pytest

import app.connectors.testing.checks as checks
from app.connectors.discovery import validate_connector_class
from app.connectors.errors import ConnectorConfigError
from app.connectors.protocol import (
    HOLD_BASIS_CODES,
    Capability,
    Collector,
    CollectResult,
    Connector,
    Eraser,
    Health,
    HoldFinder,
    ManualWork,
    Rectifier,
    Restrictor,
    SubjectRef,
)
from app.connectors.testing.helpers import ContractHelpers

_TRANSPORT_LOGGERS = ("httpx", "httpcore")


class ConnectorContract(ContractHelpers):
    """Base class of a connector's contract tests. See the module docstring."""

    kind: ClassVar[str]
    """The entry-point name of the connector under test (the meta-test looks it up)."""

    # ----- fixtures the subclass supplies (the defaults explain what is missing) -----

    @pytest.fixture
    def connector(self) -> Connector:
        pytest.fail("supply a `connector` fixture: a configured instance of your connector")

    @pytest.fixture
    def seed_subject(self) -> SubjectRef:
        pytest.fail("supply `seed_subject`: seed a person into the system, return a SubjectRef")

    @pytest.fixture
    def other_subject(self) -> SubjectRef:
        pytest.fail("supply `other_subject`: a second seeded person that must never be touched")

    @pytest.fixture
    def broken_connector(self) -> Connector | None:
        """A misconfigured instance (wrong credentials, missing table): None skips the test."""
        return None

    @pytest.fixture
    def rectify_changes(self) -> Mapping[str, Any] | None:
        """Corrections (field -> new value) for the seeded person; required with rectify."""
        return None

    @pytest.fixture
    def held_subject(self) -> SubjectRef | None:
        """A seeded person whose data the system must keep (e.g. an unpaid invoice)."""
        return None

    @pytest.fixture
    def expected_categories(self) -> set[str] | None:
        """Categories the seeded person must have records in (None: at least one record)."""
        return None

    @pytest.fixture
    def hold_basis_codes(self) -> frozenset[str]:
        """Codes a hold may cite: the built-in catalogue (add a deployment's own policies)."""
        return HOLD_BASIS_CODES

    @pytest.fixture(autouse=True)
    def _use_hold_basis_codes(self, hold_basis_codes: frozenset[str]) -> None:
        self._hold_codes = hold_basis_codes

    @pytest.fixture
    def secret_values(self, connector: Connector, broken_connector: Connector | None) -> list[str]:
        """Secrets that must never leak; by default every SecretStr in the connectors."""
        return checks.secret_values(connector, broken_connector)

    # ----- the class itself -----

    async def test_kind_matches_the_declaration(self, connector: Connector) -> None:
        assert type(connector).kind == self.kind, "set `kind` on the test class to the slug"
        assert isinstance(connector.name, str), "connector.name must be the instance name"
        assert connector.name, "connector.name must be the instance name"

    async def test_class_satisfies_the_protocol(self, connector: Connector) -> None:
        validate_connector_class(type(connector), name=self.kind)

    async def test_secret_config_fields_are_secretstr(self, connector: Connector) -> None:
        bad = checks.secret_like_fields(type(connector).config_model)
        assert not bad, f"config fields {bad} look secret: type them SecretStr"

    async def test_categories_give_the_art15_facts(self, connector: Connector) -> None:
        categories = list(connector.categories())
        checks.check_categories(categories)
        assert list(connector.categories()) == categories, "categories() must be stable"

    async def test_check_is_ok(self, connector: Connector) -> None:
        health = await connector.check()
        assert isinstance(health, Health), f"check() returned {type(health).__name__}"
        assert health.ok, f"check() is not ok: {health.detail}"

    async def test_aclose_is_idempotent(self, connector: Connector) -> None:
        await connector.aclose()
        await connector.aclose()

    # ----- collect -----

    @pytest.mark.usefixtures("other_subject")
    async def test_collect_finds_the_seeded_subject(
        self,
        connector: Connector,
        seed_subject: SubjectRef,
        expected_categories: set[str] | None,
    ) -> None:
        result = await self._collect(connector, seed_subject)
        assert result.records, "collect found nothing for the seeded subject"
        if expected_categories is not None:
            missing = expected_categories - {r.category for r in result.records}
            assert not missing, f"collect found nothing in {sorted(missing)}"

    async def test_collect_returns_only_that_subjects_data(
        self, connector: Connector, seed_subject: SubjectRef, other_subject: SubjectRef
    ) -> None:
        mine = await self._collect(connector, seed_subject)
        theirs = await self._collect(connector, other_subject)
        assert theirs.records, "collect found nothing for other_subject: seed them too"
        shared = {(r.category, r.id) for r in mine.records} & {
            (r.category, r.id) for r in theirs.records
        }
        assert not shared, f"the same records were collected for both people: {sorted(shared)}"
        texts = [r.model_dump_json() for r in mine.records]
        found = checks.leaked(checks.identifiers_of(other_subject), texts)
        assert not found, f"the seeded subject's data contains the other's identifiers {found}"

    async def test_collect_of_an_unknown_person_is_empty(self, connector: Connector) -> None:
        result = await self._collect(connector, checks.unknown_subject())
        assert not result.records, "collect returned records for a person nobody holds"

    async def test_claimed_identifiers_find_nobody(
        self, connector: Connector, seed_subject: SubjectRef
    ) -> None:
        """Only proven identifiers find a person: claiming someone's e-mail, phone, national
        id or customer number beside a proven identifier of nobody finds nothing."""
        self._require(connector, Capability.collect)
        for proven in ("email", "phone", "national_id"):
            impostor = checks.claiming(seed_subject, proven=proven)
            result = await self._collect(connector, impostor)
            assert not result.records, (
                f"collect found {len(result.records)} record(s) by claimed identifiers "
                f"(proven: only a {proven} nobody has)"
            )
            if Capability.holds in connector.capabilities:
                holds = await cast(HoldFinder, connector).find_holds(impostor)
                assert not holds, "find_holds found holds by claimed identifiers"

    async def test_claimed_identifiers_change_nothing(
        self,
        connector: Connector,
        seed_subject: SubjectRef,
        rectify_changes: Mapping[str, Any] | None,
    ) -> None:
        """Erasing, rectifying or restricting for an impostor leaves the person untouched."""
        if not connector.capabilities & {Capability.erase, Capability.rectify, Capability.restrict}:
            pytest.skip("the connector changes nothing")
        before = await self._maybe_snapshot(connector, seed_subject)
        impostor = checks.claiming(seed_subject, proven="email")
        names = self._names(connector)
        if Capability.erase in connector.capabilities:
            result = await cast(Eraser, connector).erase(impostor, names)
            if not isinstance(result, ManualWork):
                touched = [c.category for c in result.categories if c.count]
                assert not touched, f"erase by claimed identifiers touched {touched}"
        if Capability.rectify in connector.capabilities and rectify_changes:
            change = await cast(Rectifier, connector).rectify(impostor, rectify_changes)
            if not isinstance(change, ManualWork):
                touched = [c.category for c in change.categories if c.outcome == "rectified"]
                assert not touched, f"rectify by claimed identifiers touched {touched}"
        if Capability.restrict in connector.capabilities:
            change = await cast(Restrictor, connector).restrict(impostor)
            if not isinstance(change, ManualWork):
                touched = [c.category for c in change.categories if c.outcome == "restricted"]
                assert not touched, f"restrict by claimed identifiers touched {touched}"
        assert await self._maybe_snapshot(connector, seed_subject) == before

    @pytest.mark.usefixtures("other_subject")
    async def test_records_use_declared_categories(
        self, connector: Connector, seed_subject: SubjectRef
    ) -> None:
        checks.check_records(await self._collect(connector, seed_subject), self._names(connector))

    # ----- erase -----

    async def test_erase_then_collect_finds_nothing_left(
        self, connector: Connector, seed_subject: SubjectRef, other_subject: SubjectRef
    ) -> None:
        self._require(connector, Capability.collect)
        before_other = checks.snapshot(await self._collect(connector, other_subject))
        names = self._names(connector)
        kept = self._check_erasure(await self._erase(connector, seed_subject, names), names)
        left = (await self._collect(connector, seed_subject)).records
        unkept = sorted({r.category for r in left if r.category not in kept})
        assert not unkept, f"after erasure, data is still collected in {unkept}"
        after_other = checks.snapshot(await self._collect(connector, other_subject))
        assert after_other == before_other, "erasing one person changed another person's data"

    async def test_erase_only_the_requested_categories(
        self, connector: Connector, seed_subject: SubjectRef
    ) -> None:
        self._require(connector, Capability.collect)
        before = (await self._collect(connector, seed_subject)).by_category()
        if len(before) < 2:
            pytest.skip("the seeded subject has data in fewer than two categories")
        target, *rest = sorted(before)
        kept = self._check_erasure(await self._erase(connector, seed_subject, [target]), [target])
        after = (await self._collect(connector, seed_subject)).by_category()
        for name in rest:
            wanted = checks.snapshot(CollectResult(records=before[name]))
            got = checks.snapshot(CollectResult(records=after.get(name, [])))
            assert got == wanted, f"erasing {target!r} also changed {name!r}"
        if target not in kept:
            assert not after.get(target), f"{target!r} was reported erased but is still there"

    async def test_erase_twice_is_harmless(
        self, connector: Connector, seed_subject: SubjectRef, other_subject: SubjectRef
    ) -> None:
        before_other = await self._maybe_snapshot(connector, other_subject)
        names = self._names(connector)
        kept = self._check_erasure(await self._erase(connector, seed_subject, names), names)
        second = await self._erase(connector, seed_subject, names)
        self._check_erasure(second, names)
        for entry in second.categories:
            if entry.category in kept:
                continue
            assert entry.outcome in checks.GONE, f"second erase of {entry.category}: {entry}"
            assert entry.count == 0, f"second erase of {entry.category} found {entry.count} again"
        assert await self._maybe_snapshot(connector, other_subject) == before_other

    # ----- configuration errors -----

    async def test_config_error_is_a_connector_config_error(
        self, broken_connector: Connector | None, seed_subject: SubjectRef
    ) -> None:
        if broken_connector is None:
            pytest.skip("no `broken_connector` fixture supplied")
        try:
            health = await broken_connector.check()
        except ConnectorConfigError:
            pass
        else:
            assert not health.ok, "check() of a misconfigured instance reported ok"
        with pytest.raises(ConnectorConfigError) as raised:
            await self._first_action(broken_connector, seed_subject)
        texts = [raised.value.message, raised.value.internal_message, repr(raised.value)]
        found = checks.leaked(checks.identifiers_of(seed_subject), texts)
        assert not found, f"the error message contains personal data {found}"

    # ----- holds -----

    async def test_holds_use_catalogue_codes(
        self,
        connector: Connector,
        seed_subject: SubjectRef,
        other_subject: SubjectRef,
        held_subject: SubjectRef | None,
    ) -> None:
        self._require(connector, Capability.holds)
        finder = cast(HoldFinder, connector)
        names = self._names(connector)
        for subject in [seed_subject, other_subject, held_subject]:
            if subject is not None:
                findings = await finder.find_holds(subject)
                checks.check_holds(findings, names, self._hold_codes)
                again = await finder.find_holds(subject)
                assert sorted(f.model_dump_json() for f in again) == sorted(
                    f.model_dump_json() for f in findings
                ), "find_holds is not stable"
        if held_subject is not None:
            assert await finder.find_holds(held_subject), "no hold found for held_subject"

    async def test_held_data_survives_erasure(
        self, connector: Connector, held_subject: SubjectRef | None
    ) -> None:
        self._require(connector, Capability.holds)
        if held_subject is None:
            pytest.skip("no `held_subject` fixture supplied")
        held = {
            c
            for f in await cast(HoldFinder, connector).find_holds(held_subject)
            for c in f.categories
        }
        names = self._names(connector)
        kept = self._check_erasure(await self._erase(connector, held_subject, names), names)
        assert held <= kept, f"held categories {sorted(held - kept)} were not kept"

    # ----- rectify and restrict -----

    async def test_rectify_is_idempotent(
        self,
        connector: Connector,
        seed_subject: SubjectRef,
        other_subject: SubjectRef,
        rectify_changes: Mapping[str, Any] | None,
    ) -> None:
        self._require(connector, Capability.rectify)
        assert rectify_changes, "the connector declares rectify: supply `rectify_changes`"
        before_other = await self._maybe_snapshot(connector, other_subject)
        allowed = {"rectified", "not_found", "not_supported"}
        rectifier = cast(Rectifier, connector)
        for _ in range(2):
            result = await rectifier.rectify(seed_subject, rectify_changes)
            if isinstance(result, ManualWork):
                checks.check_manual(result)
                continue
            checks.check_change(result, self._names(connector), allowed)
            await self._check_rectified(connector, seed_subject, result, rectify_changes)
        assert await self._maybe_snapshot(connector, other_subject) == before_other

    async def test_restrict_is_idempotent_and_can_be_lifted(
        self, connector: Connector, seed_subject: SubjectRef, other_subject: SubjectRef
    ) -> None:
        self._require(connector, Capability.restrict)
        before = await self._maybe_snapshot(connector, seed_subject)
        before_other = await self._maybe_snapshot(connector, other_subject)
        restrictor = cast(Restrictor, connector)
        for lift, allowed in ((False, "restricted"), (True, "lifted")):
            for _ in range(2):
                result = await restrictor.restrict(seed_subject, lift=lift)
                if isinstance(result, ManualWork):
                    checks.check_manual(result)
                    continue
                outcomes = {allowed, "not_found", "not_supported"}
                checks.check_change(result, self._names(connector), outcomes)
            if not lift and before is not None:
                now = await self._maybe_snapshot(connector, seed_subject)
                assert now == before, "restricted data must stay stored and collectable"
        assert await self._maybe_snapshot(connector, other_subject) == before_other

    # ----- secrets and personal data -----

    async def test_secrets_never_leak(
        self,
        connector: Connector,
        broken_connector: Connector | None,
        seed_subject: SubjectRef,
        secret_values: list[str],
        caplog: pytest.LogCaptureFixture,
        capfd: pytest.CaptureFixture[str],
    ) -> None:
        if not secret_values:
            pytest.skip("the connector's configuration holds no secrets")
        texts: list[object] = [repr(connector), str(connector)]
        with caplog.at_level(logging.DEBUG):
            texts.append((await connector.check()).detail)
            if Capability.collect in connector.capabilities:
                await cast(Collector, connector).collect(seed_subject)
            if broken_connector is not None:
                texts += [repr(broken_connector), str(broken_connector)]
                texts += await self._error_texts(broken_connector, seed_subject)
        captured = capfd.readouterr()
        texts += [caplog.text, captured.out, captured.err]
        texts += [repr(getattr(r, "__dict__", {})) for r in caplog.records]
        found = checks.leaked(secret_values, texts)
        assert not found, f"{len(found)} secret value(s) leaked (repr, errors or logs)"

    async def test_no_personal_data_in_logs(
        self,
        connector: Connector,
        seed_subject: SubjectRef,
        caplog: pytest.LogCaptureFixture,
        capfd: pytest.CaptureFixture[str],
    ) -> None:
        with caplog.at_level(logging.INFO):
            await connector.check()
            if Capability.collect in connector.capabilities:
                await cast(Collector, connector).collect(seed_subject)
            if Capability.holds in connector.capabilities:
                await cast(HoldFinder, connector).find_holds(seed_subject)
            if Capability.erase in connector.capabilities:
                await cast(Eraser, connector).erase(seed_subject, self._names(connector))
        captured = capfd.readouterr()
        records = [r for r in caplog.records if not r.name.startswith(_TRANSPORT_LOGGERS)]
        texts = [r.getMessage() for r in records] + [repr(vars(r)) for r in records]
        found = checks.leaked(checks.identifiers_of(seed_subject), [*texts, captured.err])
        assert not found, f"logs contain personal data {found}"
