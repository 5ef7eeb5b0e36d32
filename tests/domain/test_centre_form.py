"""The privacy centre's form rules and the person's view of what each system did."""

from __future__ import annotations

from app.domain import centre_form, subject_outcome
from app.domain.centre_form import FormValues


def test_the_form_asks_only_what_the_right_needs():
    assert centre_form.check(FormValues(), "nb").errors == {
        "right": "error_right",
        "email": "error_email_missing",
    }
    fixed = FormValues(right="rectification", email="a@example.no", changes=(("address", ""),))
    assert centre_form.check(fixed, "nb").errors == {"change_what_1": "error_changes_incomplete"}
    objection = FormValues(right="objection", email="a@example.no", purposes=("bogus",))
    assert "purpose-direct_marketing" in centre_form.check(objection, "nb").errors


def test_a_filled_in_form_becomes_the_apis_request_body():
    values = FormValues(
        right="objection",
        email="a@example.no",
        national_id="30108299920",
        purposes=("direct_marketing",),
    )
    checked = centre_form.check(values, "en")
    assert checked.errors == {}
    assert checked.body == {
        "kind": "objection",
        "subject": {"email": "a@example.no", "national_id": "30108299920"},
        "language": "en",
        "details": {"purposes": ["direct_marketing"]},
    }
    assert FormValues.from_dict(values.as_dict()) == values


def test_only_offered_rights_are_preselected():
    assert centre_form.preselect("erasure") == "erasure"
    assert centre_form.preselect("drop table") == ""
    assert centre_form.preselect(None) == ""


def test_each_system_says_what_it_did():
    outcome = {
        "connectors": {
            "crm": {"actions": {"collect": {"status": "succeeded", "categories": {"contact": 1}}}},
            "chat": {"actions": {"collect": {"status": "succeeded", "categories": {}}}},
            "elhub": {"actions": {"collect": {"status": "cancelled", "not_searched": "identity"}}},
            "billing": {
                "actions": {
                    "erase": {
                        "status": "succeeded",
                        "categories": [
                            {"category": "billing", "outcome": "anonymised"},
                            {"category": "invoices", "outcome": "held"},
                        ],
                    },
                    "collect": {"status": "succeeded", "categories": {"invoices": 2}},
                }
            },
            "paper": {"actions": {"erase": {"status": "succeeded", "not_possible": "burnt"}}},
            "mail": {"actions": {"rectify": {"status": "failed"}}},
        }
    }
    done = {
        (d.system, d.action): (d.result, d.categories) for d in subject_outcome.systems(outcome)
    }
    assert done == {
        ("billing", "collect"): ("found", ("invoices",)),
        ("billing", "erase"): ("erased", ("billing",)),
        ("chat", "collect"): ("nothing_found", ()),
        ("crm", "collect"): ("found", ("contact",)),
        ("elhub", "collect"): ("not_searched", ()),
        ("mail", "rectify"): ("not_done", ()),
        ("paper", "erase"): ("not_possible", ()),
    }
    order = [(d.system, d.action) for d in subject_outcome.systems(outcome)][:2]
    assert order == [("billing", "collect"), ("billing", "erase")]
    assert subject_outcome.systems(None) == []
