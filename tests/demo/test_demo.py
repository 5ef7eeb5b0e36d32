"""``innsyn demo`` as a newcomer meets it: the real process, all six connectors, real data.

The demo runs in its own process (embedded SQLite under a temporary var dir, loopback chat,
mailbox and registry), so this drives it only over HTTP and reads its demo databases only to
check what an erasure left behind. Polling is bounded; nothing here asserts a duration.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from tests.demo.process import Demo, completed, running_demo, settled

CONNECTORS = {"crm", "billing", "intercom", "support-mailbox", "elhub", "paper-archive"}
MANUAL = "paper-archive"
CLAIM_BASES = {"outstanding_claim", "debt_collection", "bookkeeping_primary"}

OLA = {"email": "ola.nordmann@example.no", "name": "Ola Nordmann", "national_id": "30108299920"}
KARI = {
    "email": "kari.nordmann@example.no",
    "name": "Kari Nordmann",
    "national_id": "02013299997",
}
NILS = {"email": "nils.berg@example.no", "name": "Nils Berg"}
B2B_CONDITION = "while the person is the registered contact on an active contract"
OTHERS = ("ola.nordmann@example.no", "per.hansen@example.no", "ingrid.berg@example.no")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with running_demo(tmp_path_factory.mktemp("demo")) as (demo, stdout, stderr):
        yield demo
        process = demo.process
    printed, logged = stdout.read_text(), stderr.read_text()
    assert process.returncode == 0, logged[-3000:]
    assert "Kari Nordmann" in printed and "innsyn token --role operator" in printed
    assert "demo stopped" in printed
    assert f"{demo.base}/personvern/" in printed and f"{demo.base}/console/" in printed
    for person in (OLA, KARI):  # the console lists the demo people; the logs never do
        assert person["email"] not in logged and person["national_id"] not in logged
    assert NILS["email"] not in logged and "999888777" not in logged


def _file(demo: Demo, kind: str, subject: dict[str, str]) -> str:
    body = {"kind": kind, "subject": subject, "verification": {"method": "staff", "note": "demo"}}
    created = demo.post("/v1/requests", body, expected=201)
    assert created["verification"]["state"] == "verified"
    return str(created["id"])


def _complete_manual(demo: Demo, request_id: str, view: dict[str, Any], action: str) -> None:
    manual = [t for t in view["tasks"] if t["status"] == "manual"]
    assert [(t["connector"], t["action"]) for t in manual] == [(MANUAL, action)]
    task = manual[0]
    assert request_id in task["checklist"]["instructions"]
    answers = dict.fromkeys(task["checklist"]["items"], True)
    closed = demo.post(
        f"/v1/requests/{request_id}/tasks/{task['id']}/complete", {"answers": answers}
    )
    assert closed["status"] == "succeeded"


def test_connectors_are_all_healthy(demo: Demo) -> None:
    listed = demo.get("/v1/connectors", health="true")["connectors"]
    assert {c["name"] for c in listed} == CONNECTORS
    assert {c["kind"] for c in listed} == {"sql", "invoicing", "rest", "imap", "registry", "manual"}
    assert [c["name"] for c in listed if not c["health"]["ok"]] == []


def test_access_request_finds_ola_in_every_system(demo: Demo) -> None:
    request_id = _file(demo, "access", OLA)
    view = demo.wait_for(request_id, settled)
    assert view["status"] == "awaiting_manual"
    tasks = {t["connector"]: t for t in view["tasks"]}
    assert set(tasks) == CONNECTORS
    assert {t["action"] for t in view["tasks"]} == {"collect"}
    for name, task in tasks.items():
        if name == MANUAL:
            assert task["status"] == "manual"
            continue
        assert task["status"] == "succeeded", (name, task["last_error"])
        assert task["result"]["records"] > 0, name
    assert tasks["billing"]["result"]["categories"] == {"invoices": 2, "billing": 1}
    assert tasks["elhub"]["result"]["categories"] == {"master_data": 1, "metering_points": 2}
    assert tasks["elhub"]["result"]["external_controller"] == "Elhub"

    _complete_manual(demo, request_id, view, "collect")
    done = demo.wait_for(request_id, completed)
    assert set(done["outcome"]["connectors"]) == CONNECTORS
    assert done["outcome"]["tasks"] == {"succeeded": 6}


def test_erasure_for_kari_keeps_only_what_her_unpaid_invoice_holds(demo: Demo) -> None:
    request_id = _file(demo, "erasure", KARI)
    view = demo.wait_for(request_id, settled)
    _complete_manual(demo, request_id, view, "erase")
    done = demo.wait_for(request_id, completed)

    erased = {
        t["connector"]: {c["category"]: c for c in t["result"]["categories"]}
        for t in done["tasks"]
        if t["action"] == "erase" and t["connector"] != MANUAL
    }
    assert set(erased) == CONNECTORS - {MANUAL}
    not_a_contact = erased["crm"].pop("b2b_contact")  # she is no business customer's contact
    assert (not_a_contact["outcome"], not_a_contact["count"]) == ("not_found", 0)
    for name in ("crm", "intercom", "support-mailbox"):
        outcomes = {c: e["outcome"] for c, e in erased[name].items()}
        assert set(outcomes.values()) == {"erased"}, (name, outcomes)
        assert all(e["count"] > 0 for e in erased[name].values()), name
    assert set(erased["crm"]) == {"contact", "orders", "support_notes", "marketing"}
    for category in ("invoices", "billing"):
        entry = erased["billing"][category]
        assert entry["outcome"] == "held"
        assert entry["basis_code"] in CLAIM_BASES
        assert entry["until"] is not None
    [(contact, gone)] = [
        (e["outcome"], e["fields"])
        for t in done["tasks"]
        if (t["connector"], t["action"]) == ("billing", "erase")
        for e in t["result"]["categories"]
        if e["category"] == "billing" and e["outcome"] != "held"
    ]
    assert (contact, gone) == ("anonymised", ["email", "phone"])
    for category in ("master_data", "metering_points"):
        entry = erased["elhub"][category]
        assert (entry["outcome"], entry["basis_code"]) == ("held", "regulatory_registry")

    holds = demo.get("/v1/holds", request_id=request_id)["items"]
    claim = [h for h in holds if h["basis_code"] == "outstanding_claim"]
    assert [(h["connector"], h["reference"]) for h in claim] == [("billing", "invoice 10002")]
    assert claim[0]["until"] is not None and claim[0]["status"] == "active"
    assert {h["basis_code"] for h in holds} == {
        "outstanding_claim",
        "bookkeeping_primary",
        "regulatory_registry",
    }
    _assert_demo_databases_after_erasure(demo.var_dir / "demo")


def _assert_demo_databases_after_erasure(demo_dir: Path) -> None:
    """Kari is gone from the CRM; her invoices and billing details stay; Ola is untouched."""

    def rows(db: str, sql: str) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(demo_dir / db)) as conn:
            return conn.execute(sql, (KARI["email"],)).fetchall()

    assert rows("crm.db", "SELECT id FROM customers WHERE email = ?") == []
    others = {email for (email,) in rows("crm.db", "SELECT email FROM customers WHERE email != ?")}
    assert set(OTHERS) <= others
    # Billing keeps what her invoices show (name, address), not her e-mail and phone.
    assert rows("invoicing.db", "SELECT id FROM customers WHERE email = ?") == []
    with closing(sqlite3.connect(demo_dir / "invoicing.db")) as conn:
        [(email, phone, address)] = conn.execute(
            "SELECT email, phone, billing_address FROM customers WHERE name = 'Kari Nordmann'"
        ).fetchall()
        kept = conn.execute(
            "SELECT i.id, i.status FROM invoices i JOIN customers c ON c.id = i.customer_ref"
            " WHERE c.name = 'Kari Nordmann' ORDER BY i.id"
        ).fetchall()
    assert email.startswith("anonymised-") and phone is None
    assert address == "Eksempelgata 1, 0150 Oslo"
    assert kept == [(10001, "paid"), (10002, "unpaid")]


def test_erasure_for_nils_keeps_his_contact_role_and_erases_the_rest(demo: Demo) -> None:
    """A business customer's contact on an active contract: the role stays, the rest goes."""
    request_id = _file(demo, "erasure", NILS)
    view = demo.wait_for(request_id, settled)
    _complete_manual(demo, request_id, view, "erase")
    # Elhub is searched by a proven national id only; Nils is known by e-mail, so the
    # operator goes on without it, and the outcome says it was not searched.
    waiting = [t for t in view["tasks"] if t["status"] == "needs_stronger_identity"]
    assert {(t["connector"], t["action"]) for t in waiting} == {
        ("elhub", "holds"),
        ("elhub", "erase"),
    }
    assert view["identity"]["waiting_systems"] == ["elhub"]
    skipped = demo.post(
        f"/v1/requests/{request_id}/tasks/{waiting[0]['id']}/skip",
        {"note": "not a private customer: no national id to prove"},
    )
    assert skipped["status"] == "cancelled"
    done = demo.wait_for(request_id, completed)
    assert {
        a["not_searched"] for a in done["outcome"]["connectors"]["elhub"]["actions"].values()
    } == {"identity_not_proven"}

    [crm] = [t for t in done["tasks"] if (t["connector"], t["action"]) == ("crm", "erase")]
    result = {c["category"]: c for c in crm["result"]["categories"]}
    kept = result.pop("b2b_contact")
    assert (kept["outcome"], kept["basis_code"], kept["reason"], kept["until"]) == (
        "held",
        "b2b_contact",
        B2B_CONDITION,
        None,
    )
    assert {c: (e["outcome"], e["count"]) for c, e in result.items()} == {
        "contact": ("erased", 1),
        "orders": ("not_found", 0),
        "support_notes": ("erased", 1),
        "marketing": ("erased", 1),
    }
    holds = demo.get("/v1/holds", request_id=request_id)["items"]
    assert [
        (h["connector"], h["basis_code"], h["reference"], h["categories"], h["status"])
        for h in holds
    ] == [("crm", "b2b_contact", "org_number 999888777", ["b2b_contact"], "active")]

    with closing(sqlite3.connect(demo.var_dir / "demo" / "crm.db")) as conn:
        contact = conn.execute(
            "SELECT company_name, contract_active FROM company_contacts WHERE contact_email = ?",
            (NILS["email"],),
        ).fetchall()
        customer = conn.execute(
            "SELECT id FROM customers WHERE email = ?", (NILS["email"],)
        ).fetchall()
    assert contact == [("Fjordlys Elektro AS", 1)]
    assert customer == []  # his newsletter consent and support note went with it


PER = {"email": "per.hansen@example.no", "name": "Per Hansen", "national_id": "15857510027"}
INGRID = {"email": "ingrid.berg@example.no", "name": "Ingrid Berg"}


def _finish(demo: Demo, request_id: str) -> dict[str, Any]:
    """Wait for the request, closing the paper archive's checklist where it asks for one."""
    view = demo.wait_for(request_id, settled)
    manual = [t for t in view["tasks"] if t["status"] == "manual"]
    if manual:
        _complete_manual(demo, request_id, view, manual[0]["action"])
    return demo.wait_for(request_id, completed)


def _letters_to(demo: Demo, address: str) -> list[str]:
    found = []
    for path in sorted((demo.var_dir / "outbox").glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"] == address:
            found.append(message.get_content())
    return found


def test_rectification_for_per_reaches_the_systems_and_every_recipient(demo: Demo) -> None:
    """Art. 16 + 19: the CRM is corrected and each recipient told, or why not is recorded."""
    body = {
        "kind": "rectification",
        "subject": PER,
        "details": {"changes": {"address": "Nygårdsgaten 9, 5015 Bergen"}},
        "verification": {"method": "staff", "note": "demo"},
    }
    request_id = demo.post("/v1/requests", body, expected=201)["id"]
    done = _finish(demo, request_id)
    crm = next(t for t in done["tasks"] if t["connector"] == "crm")
    assert crm["result"]["categories"][0]["outcome"] == "rectified"

    def told(view: dict[str, Any]) -> bool:
        return all(n["status"] != "pending" for n in view["recipient_notices"])

    notices = {n["recipient"]: n for n in demo.wait_for(request_id, told)["recipient_notices"]}
    assert notices["Fraktkompaniet AS (delivery partner)"]["status"] == "sent"
    assert {n["status"] for n in notices.values()} <= {"sent", "disproportionate"}
    letters = _letters_to(demo, "personvern@fraktkompaniet.example")
    [letter] = [text for text in letters if PER["email"] in text]  # others' erasures too
    assert "Nygårdsgaten 9" in letter and "rettet" in letter
    with closing(sqlite3.connect(demo.var_dir / "demo" / "crm.db")) as conn:
        [(address,)] = conn.execute(
            "SELECT address FROM customers WHERE email = ?", (PER["email"],)
        ).fetchall()
    assert address == "Nygårdsgaten 9, 5015 Bergen"


def test_restriction_for_ingrid_is_lifted_only_after_she_is_told(demo: Demo) -> None:
    """Art. 18 + 18(3): the CRM flags her row; the lift is announced, then carried out."""
    request_id = _file(demo, "restriction", INGRID)
    _finish(demo, request_id)
    crm_db = demo.var_dir / "demo" / "crm.db"

    def flag() -> int:
        with closing(sqlite3.connect(crm_db)) as conn:
            [(value,)] = conn.execute(
                "SELECT restricted FROM customers WHERE email = ?", (INGRID["email"],)
            ).fetchall()
        return int(value)

    assert flag() == 1
    now = datetime.now(UTC).isoformat()
    demo.post(
        f"/v1/requests/{request_id}/lift-restriction",
        {"reason": "Vi har kontrollert adressen din.", "effective_at": now},
        approve=True,
    )
    assert "Vi opphever begrensningen" in _letters_to(demo, INGRID["email"])[-1]
    lift_id = demo.get(f"/v1/requests/{request_id}")["outcome"]["restriction_lift"]["request_id"]
    _finish(demo, lift_id)
    assert flag() == 0


def test_objections_and_consent_for_ingrid_and_per(demo: Demo) -> None:
    """Art. 7(3), 21(2)-(3) and 21(1): consent data goes, marketing is suppressed for good, and
    an upheld objection erases what was processed on legitimate interest."""
    withdrawn = demo.wait_for(_file(demo, "withdraw_consent", INGRID), completed)
    erased = withdrawn["outcome"]["connectors"]["crm"]["actions"]["erase"]["categories"]
    assert [(c["category"], c["outcome"]) for c in erased] == [("marketing", "erased")]
    demo.wait_for(_file(demo, "objection", INGRID), completed)
    check = demo.post("/v1/suppression/check", {"email": INGRID["email"]})
    assert check == {"suppressed": True}

    body = {
        "kind": "objection",
        "subject": PER,
        "details": {"purposes": ["customer_service_analytics"]},
        "verification": {"method": "staff", "note": "demo"},
    }
    request_id = demo.post("/v1/requests", body, expected=201)["id"]
    assert demo.wait_for(request_id, settled)["status"] == "awaiting_manual"
    decision = {"decision": "upheld", "grounds": "Ingen tvingende grunner går foran."}
    demo.post(f"/v1/requests/{request_id}/objection-decision", decision, approve=True)
    decided = demo.get(f"/v1/requests/{request_id}")
    assert decided["outcome"]["objection"]["decision"] == "upheld"
    follow_up = demo.wait_for(decided["outcome"]["objection"]["follow_up_request_id"], completed)
    mailbox = follow_up["outcome"]["connectors"]["support-mailbox"]["actions"]["erase"]
    assert [(c["category"], c["outcome"]) for c in mailbox["categories"]] == [
        ("email_correspondence", "erased")
    ]
    assert "crm" not in follow_up["outcome"]["connectors"] or all(
        c["category"] in ("support_notes", "b2b_contact")
        for c in follow_up["outcome"]["connectors"]["crm"]["actions"]["erase"]["categories"]
    )
