"""The console's actions: each form calls the API's use case under the API's roles, goes back
to the request page with a notice in words, and refuses a role that may not, or a form
without its CSRF token."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from app.connectors.registry import ConnectorInstance, ConnectorRegistry
from app.connectors.testing.server import serve_app
from app.db.models import Task
from app.domain.requests import Role
from app.web.console.actions import ACTIONS
from tests.api.test_manual_truth import CHECKLIST, SCAN, archive
from tests.api.test_partial_refusal import SUBJECT as PART_SUBJECT
from tests.api.test_partial_refusal import crm as crm_with_orders
from tests.holds.test_objection_decision import crm, objection
from tests.holds.test_restriction_lift import restricted
from tests.jobs.systems import MemorySystem, registry
from tests.recipients.test_art19 import directory, fail_every_try, file, notices, systems
from tests.web.console.conftest import file_request
from tests.webhooks.receiver import Receiver

IDS = {"task_id": "task_x", "hold_id": "hold_x", "notice_id": "ntc_x"}


def _path(name: str, request_id: str = "req_x") -> str:
    return f"/console/requests/{request_id}" + ACTIONS[name].path.format(**IDS)


REFUSED = [
    (name, role)
    for name, action in ACTIONS.items()
    for role in Role
    if role is not Role.admin and role not in action.roles
]


def test_the_actions_follow_the_apis_roles():
    """The table the refusals below iterate over is the API's policy."""
    assert ACTIONS["refuse"].roles == ACTIONS["extend"].roles == {Role.approver}
    assert ACTIONS["refuse_part"].roles == {Role.approver}  # the API's refuse-part: Approver
    assert ACTIONS["attest"].roles == ACTIONS["complete_task"].roles == {Role.operator}
    assert ACTIONS["withdraw"].roles == {Role.operator, Role.approver}
    assert all(Role.auditor not in a.roles for a in ACTIONS.values())
    assert {(n, Role.auditor) for n in ACTIONS} <= set(REFUSED)
    assert {("refuse_part", Role.operator), ("refuse_part", Role.auditor)} <= set(REFUSED)


@pytest.mark.parametrize(("name", "role"), REFUSED, ids=[f"{n}-{r.value}" for n, r in REFUSED])
async def test_every_action_is_refused_to_a_role_that_may_not(console, client, staff, name, role):
    filed = await file_request(client, staff)
    await console.login(role)
    refused = await console.post(_path(name, filed["id"]), {"reason": "because of it"})
    assert refused.status_code == 403, refused.text
    assert "Du har ikke tilgang" in refused.text
    view = (await client.get(f"/v1/requests/{filed['id']}", headers=staff["auditor"])).json()
    assert view["status"] == filed["status"] and view["extension"] is None


@pytest.mark.parametrize("name", list(ACTIONS))
async def test_every_action_is_refused_without_the_form_token(console, name):
    await console.login(Role.admin)
    refused = await console.client.post(_path(name), data={"reason": "because of it"})
    assert refused.status_code == 403
    assert "Skjemaet kunne ikke sendes" in refused.text


async def test_an_action_without_a_log_in_asks_for_one(console):
    console.client.cookies.delete("innsyn_console", path="/console")
    answer = await console.post(_path("withdraw"))
    assert answer.status_code == 303 and answer.headers["location"].startswith("/console/login")


async def _view(client, staff, request_id: str) -> dict:
    return (await client.get(f"/v1/requests/{request_id}", headers=staff["auditor"])).json()


async def _notice(console, answer) -> str:
    assert answer.status_code == 303, answer.text
    page = await console.client.get(answer.headers["location"])
    assert page.status_code == 200
    return page.text.split('<div id="notice">')[1].split("</div>\n</div>")[0]


async def test_an_operator_attests_identity(console, client, staff):
    filed = await file_request(client, staff, verified=False)
    assert filed["status"] == "received"
    await console.login(Role.operator)
    page = (await console.page(f"/console/requests/{filed['id']}")).text
    assert "Bekreft hvem personen er" in page
    empty = await console.post(_path("attest", filed["id"]), {"note": ""})
    assert "Identiteten ble ikke bekreftet" in await _notice(console, empty)
    done = await console.post(
        _path("attest", filed["id"]), {"note": "passport at the counter", "checked": "email"}
    )
    assert "Identiteten er bekreftet" in await _notice(console, done)
    view = await _view(client, staff, filed["id"])
    assert view["verification"]["state"] == "verified"
    assert view["identity"]["proven"] == ["email"]


async def test_an_approver_extends_then_refuses(console, client, staff):
    filed = await file_request(client, staff)
    await console.login(Role.approver)
    done = await console.post(
        _path("extend", filed["id"]), {"months": "1", "reason": "data in twelve systems"}
    )
    assert "Fristen er forlenget" in await _notice(console, done)
    assert (await _view(client, staff, filed["id"]))["extension"]["months"] == 1
    wrong = await console.post(
        _path("refuse", filed["id"]), {"reason_code": "legal_obligation", "explanation": "no"}
    )
    notice = await _notice(console, wrong)
    assert "Forespørselen ble ikke avslått" in notice and "skjemaet" in notice
    done = await console.post(
        _path("refuse", filed["id"]),
        {"reason_code": "excessive", "explanation": "the fifth request this month"},
    )
    assert "Forespørselen er avslått" in await _notice(console, done)
    assert (await _view(client, staff, filed["id"]))["status"] == "refused"
    again = await console.post(_path("withdraw", filed["id"]))
    notice = await _notice(console, again)
    assert "ble ikke trukket tilbake" in notice and "tilstand" in notice


async def test_an_approver_refuses_part_of_an_erasure(console, client, staff, worker, runtime):
    system = crm_with_orders()
    runtime.connectors = registry(system)
    filed = await file_request(client, staff, "erasure", subject=PART_SUBJECT)
    await console.login(Role.approver)
    page = await console.page(f"/console/requests/{filed['id']}")
    assert 'value="system:crm::orders"' in page.text and "Avslå en del" in page.text
    form = {
        "part": "system:crm::orders",
        "reason_code": "legal_claims",
        "explanation": "Order A-1 is part of a dispute before the conciliation board.",
    }
    wrong = await console.post(
        _path("refuse_part", filed["id"]), form | {"part": "system:crm::tax"}
    )
    assert "ble ikke avslått" in await _notice(console, wrong)
    done = await console.post(_path("refuse_part", filed["id"]), form)
    assert "Delen er avslått" in await _notice(console, done)
    await worker.run_until_idle()
    view = await _view(client, staff, filed["id"])
    assert view["status"] == "completed"
    assert view["outcome"]["refused_parts"] == [
        {"system": "crm", "category": "orders", "reason_code": "legal_claims"}
    ]
    assert system.data[PART_SUBJECT["email"]] == {"orders": [{"order": "A-1"}]}


async def test_an_operator_withdraws(console, client, staff):
    filed = await file_request(client, staff)
    await console.login(Role.operator)
    done = await console.post(_path("withdraw", filed["id"]), {"reason": "asked by phone"})
    assert "trukket tilbake" in await _notice(console, done)
    assert (await _view(client, staff, filed["id"]))["status"] == "withdrawn"


async def _manual_task(client, staff, worker, runtime, **filed) -> tuple[str, str]:
    runtime.connectors = ConnectorRegistry.of([archive()])
    request = await file_request(client, staff, **filed)
    await worker.run_until_idle()
    [task] = (await _view(client, staff, request["id"]))["tasks"]
    return request["id"], task["id"]


async def test_an_operator_completes_the_paper_archive_with_a_finding_and_a_scan(
    console, client, staff, worker, runtime
):
    request_id, task_id = await _manual_task(client, staff, worker, runtime)
    await console.login(Role.operator)
    path = _path("complete_task", request_id).replace("task_x", task_id)
    form = await console.page(f"/console/requests/{request_id}")
    # The kind of data is offered in words; the form posts its name.
    assert (
        '<option value="paper_contracts">Signed customer contracts on paper.</option>' in form.text
    )
    half = await console.post(path, {"item": CHECKLIST, "done": CHECKLIST[:1]})
    notice = await _notice(console, half)
    assert "ble ikke merket som gjort" in notice and "sjekklisten" in notice
    done = await console.post(
        path,
        {
            "item": CHECKLIST,
            "done": CHECKLIST,
            "finding_1_category": "paper_contracts",
            "finding_1": "Signed contract from 2019, binder 4",
            "file_category": "paper_contracts",
            "file_description": "the scan",
        },
        files={"file": ("contract.pdf", SCAN, "application/pdf")},
    )
    assert "Arbeidet er merket som gjort" in await _notice(console, done)
    view = await _view(client, staff, request_id)
    assert view["status"] == "completed"
    report = await client.get(f"/v1/requests/{request_id}/report", headers=staff["auditor"])
    assert "Signed contract from 2019, binder 4" in report.text
    assert "contract.pdf" in report.text
    answer = await console.page(f"/console/requests/{request_id}/answer")
    assert "Signed contract from 2019" in answer.text


async def test_a_failed_task_is_retried(console, client, staff, worker, runtime):
    request_id, task_id = await _manual_task(client, staff, worker, runtime)
    async with runtime.db.session() as session:
        await session.exec(update(Task).where(Task.id == task_id).values(status="failed"))  # type: ignore[call-overload]
    await console.login(Role.operator)
    page = (await console.page(f"/console/requests/{request_id}")).text
    assert "Prøv igjen" in page
    done = await console.post(_path("retry_task", request_id).replace("task_x", task_id))
    assert "Systemet prøves igjen" in await _notice(console, done)


async def test_a_system_waiting_for_a_national_id_is_skipped(
    console, client, staff, worker, runtime
):
    strict = archive()
    runtime.connectors = ConnectorRegistry.of(
        [
            ConnectorInstance(
                name=strict.name,
                kind=strict.kind,
                connector=strict.connector,
                required_identity=frozenset({"national_id"}),
            )
        ]
    )
    request = await file_request(client, staff, subject={"email": "nils@example.no"})
    await worker.run_until_idle()
    [task] = (await _view(client, staff, request["id"]))["tasks"]
    assert task["status"] == "needs_stronger_identity"
    await console.login(Role.operator)
    path = _path("skip_task", request["id"]).replace("task_x", task["id"])
    done = await console.post(path, {"note": "no national id on file"})
    assert "fortsetter uten det systemet" in await _notice(console, done)


async def test_an_approver_places_and_releases_a_hold(console, client, staff, worker, runtime):
    request_id, _ = await _manual_task(client, staff, worker, runtime)
    await console.login(Role.approver)
    wrong = await console.post(
        _path("place_hold", request_id),
        {"basis_code": "legal_claim", "connector": "paper-archive", "categories": "nothing"},
    )
    assert "ble ikke holdt tilbake" in await _notice(console, wrong)
    done = await console.post(
        _path("place_hold", request_id),
        {
            "basis_code": "legal_claim",
            "connector": "paper-archive",
            "categories": "paper_contracts",
            "reason": "a dispute about the contract",
            "until": "2028-01-01",
        },
    )
    assert "Opplysningene holdes tilbake" in await _notice(console, done)
    [hold] = (await _view(client, staff, request_id))["holds"]
    page = (await console.page(f"/console/requests/{request_id}")).text
    assert "1. januar 2028" in page and "gjelder" in page
    path = _path("release_hold", request_id).replace("hold_x", hold["id"])
    done = await console.post(path, {"reason": "the dispute is settled"})
    assert "Tilbakeholdelsen er avsluttet" in await _notice(console, done)


async def test_an_approver_releases_a_reviewed_answer(console, client, staff, worker, runtime):
    runtime.settings.review_answers = True
    request_id, task_id = await _manual_task(client, staff, worker, runtime)
    await console.login(Role.operator, Role.approver)
    path = _path("complete_task", request_id).replace("task_x", task_id)
    await console.post(path, {"item": CHECKLIST, "done": CHECKLIST})
    assert (await _view(client, staff, request_id))["status"] == "awaiting_review"
    page = (await console.page(f"/console/requests/{request_id}")).text
    assert "Gå gjennom og frigi svaret" in page
    bad = await console.post(
        _path("release_answer", request_id),
        {"redact_1_system": "paper-archive", "redact_1_category": "nope", "redact_1_reason": "x"},
    )
    assert "Svaret ble ikke frigitt" in await _notice(console, bad)
    done = await console.post(_path("release_answer", request_id))
    assert "Svaret er frigitt" in await _notice(console, done)
    assert (await _view(client, staff, request_id))["status"] == "completed"


async def test_an_approver_decides_an_objection(console, client, staff, worker, runtime):
    runtime.connectors = registry(crm())
    created = await objection(client, staff, ["fraud_prevention_profiling"])
    await worker.run_until_idle()
    await console.login(Role.approver)
    page = (await console.page(f"/console/requests/{created['id']}")).text
    assert "Avgjør protesten" in page
    done = await console.post(
        _path("decide_objection", created["id"]),
        {"decision": "rejected", "grounds": "fraud prevention outweighs it"},
    )
    assert "Avgjørelsen er lagret" in await _notice(console, done)


async def test_an_approver_lifts_a_restriction(console, client, staff, worker, runtime):
    runtime.connectors = registry(MemorySystem("crm"))
    created = await restricted(client, staff, worker, {"email": "restricted@example.no"})
    await console.login(Role.approver)
    page = (await console.page(f"/console/requests/{created['id']}")).text
    assert "Opphev begrensningen" in page
    done = await console.post(
        _path("lift_restriction", created["id"]), {"reason": "the address is correct"}
    )
    assert "begrensningen oppheves" in await _notice(console, done)


async def test_an_operator_answers_without_systems_then_manages_the_links(
    console, client, staff, runtime
):
    filed = await file_request(client, staff)  # no system is configured: nothing to search
    await console.login(Role.operator)
    page = (await console.page(f"/console/requests/{filed['id']}")).text
    assert "Svar uten å søke i noe system" in page
    short = await console.post(_path("complete_request", filed["id"]), {"statement": "none"})
    assert "ble ikke besvart" in await _notice(console, short)
    done = await console.post(
        _path("complete_request", filed["id"]),
        {"statement": "We hold no customer file on you; the archive was checked by hand."},
    )
    assert "Forespørselen er besvart" in await _notice(console, done)
    assert (await _view(client, staff, filed["id"]))["status"] == "completed"

    made = await console.post(_path("issue_link", filed["id"]))
    assert "En ny nedlastingslenke er laget" in await _notice(console, made)
    page = (await console.page(f"/console/requests/{filed['id']}")).text
    assert "Stopp alle nedlastingslenker" in page and "virker" in page
    stopped = await console.post(_path("revoke_links", filed["id"]))
    assert "Alle nedlastingslenker er stoppet" in await _notice(console, stopped)
    links = (await _view(client, staff, filed["id"]))["answer_links"]
    assert links and {link["state"] for link in links} == {"revoked"}


async def test_an_action_address_opened_leads_back_to_the_request(console, client, staff):
    filed = await file_request(client, staff)
    await console.login(Role.operator)
    refused = await console.client.post(_path("withdraw", filed["id"]), data={})
    assert refused.status_code == 403 and _path("withdraw", filed["id"]) in refused.text
    back = await console.client.get(_path("withdraw", filed["id"]))
    assert back.status_code == 303
    assert back.headers["location"] == f"/console/requests/{filed['id']}"
    answer = await console.page(f"/console/requests/{filed['id']}/answer")
    assert answer.status_code == 200


async def test_an_approver_settles_a_failed_recipient_notice(
    console, client, staff, worker, runtime
):
    server = Receiver()
    with serve_app(server.app) as url:
        runtime.connectors = registry(*systems())
        runtime.recipients = directory(f"{url}/hook")
        created = await file(client, staff, "restriction")
        await worker.run_until_idle()
        await fail_every_try(server, runtime)
        hooked = (await notices(client, staff, created["id"]))["Hooked AS"]
        assert hooked["status"] == "failed" and hooked["last_error"] == "HTTP 503"
        await console.login(Role.approver)
        page = await console.page(f"/console/requests/{created['id']}")
        assert f"/notices/{hooked['id']}/resolve" in page.text and "HTTP 503" in page.text
        path = f"/console/requests/{created['id']}/notices/{hooked['id']}/resolve"
        short = await console.post(path, {"resolution": "sent", "reason": "x"})
        assert "ble ikke avsluttet" in await _notice(console, short)
        done = await console.post(
            path, {"resolution": "sent", "reason": "Told their DPO by phone on Monday"}
        )
        assert "Varselet er avsluttet" in await _notice(console, done)
    settled = (await notices(client, staff, created["id"]))["Hooked AS"]
    assert settled["status"] == "sent" and settled["resolved_by"].startswith("staff:")
    assert settled["reason"] == "Told their DPO by phone on Monday"
    page = await console.page(f"/console/requests/{created['id']}")
    assert f"/notices/{hooked['id']}/resolve" not in page.text
