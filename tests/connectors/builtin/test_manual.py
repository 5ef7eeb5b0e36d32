"""The manual connector: every action is a checklist for a person."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.connectors import Capability, ManualWork, SubjectRef
from app.connectors.builtin.manual import ManualConfig, ManualConnector
from app.connectors.testing import ConnectorContract

ARCHIVE: dict[str, Any] = {
    "system": "Locked paper archive, Oslo office",
    "categories": [
        {
            "name": "paper_contracts",
            "description": "Signed customer contracts on paper.",
            "purpose": "Documenting the agreement.",
            "legal_basis": "GDPR 6(1)(b) contract",
            "automated_decisions": "none",
            "transfers": [],
            "retention": "10 years after the customer relationship ends.",
        }
    ],
    "instructions": "The archive key is with the office manager. Folders are by customer number.",
    "checklist": ["Searched the customer folders", "Searched the unsorted box"],
    "actions": {
        "erase": {
            "instructions": "Shred the documents in the secure bin.",
            "checklist": ["Shredded", "Noted the date in the archive log"],
        }
    },
}


def archive() -> ManualConnector:
    return ManualConnector("paper_archive", ManualConfig.model_validate(ARCHIVE))


KARI = SubjectRef(request_id="req-123", emails=["kari@example.no"], name="Kari Nordmann")


class TestManualContract(ConnectorContract):
    kind = "manual"

    @pytest.fixture
    def connector(self) -> ManualConnector:
        return archive()

    @pytest.fixture
    def seed_subject(self) -> SubjectRef:
        return KARI

    @pytest.fixture
    def other_subject(self) -> SubjectRef:
        return SubjectRef(request_id="req-456", emails=["per@example.no"])

    @pytest.fixture
    def rectify_changes(self) -> dict[str, Any]:
        return {"email": "kari.nordmann@example.no"}


async def test_collect_is_a_checklist_naming_the_request_not_the_person() -> None:
    work = await archive().collect(KARI)

    assert isinstance(work, ManualWork)
    assert "req-123" in work.instructions
    assert "Locked paper archive" in work.instructions
    assert "kari" not in work.instructions.lower()
    assert work.checklist == ["Searched the customer folders", "Searched the unsorted box"]


async def test_an_action_can_have_its_own_instructions() -> None:
    work = await archive().erase(KARI, ["paper_contracts"])

    assert "Shred the documents" in work.instructions
    assert "paper_contracts" in work.instructions
    assert work.checklist == ["Shredded", "Noted the date in the archive log"]


async def test_rectify_names_the_fields_but_not_the_new_values() -> None:
    work = await archive().rectify(KARI, {"email": "kari.nordmann@example.no"})
    assert "email" in work.instructions
    assert "kari.nordmann@example.no" not in work.instructions


async def test_lifting_a_restriction_says_so() -> None:
    work = await archive().restrict(KARI, lift=True)
    assert "Lift the restriction" in work.instructions


def test_every_data_action_is_declared_but_holds_are_not() -> None:
    assert archive().capabilities == {
        Capability.collect,
        Capability.erase,
        Capability.rectify,
        Capability.restrict,
    }


def test_a_checklist_is_required() -> None:
    with pytest.raises(ValidationError, match="checklist"):
        ManualConfig.model_validate({**ARCHIVE, "checklist": []})
