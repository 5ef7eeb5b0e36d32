"""What people and systems typed is shown as text, never as markup: a name, a finding, a
file name on the console; a field sent back on the privacy centre's form."""

from __future__ import annotations

from app.connectors.registry import ConnectorRegistry
from app.domain.requests import Role
from tests.api.test_manual_truth import CHECKLIST, SCAN, archive
from tests.web.centre.helpers import post_form
from tests.web.console.conftest import OLA, file_request

EVIL = '"><img src=x onerror=alert(1)><svg><text>x</text></svg>'
ESCAPED = "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"


def _safe(page: str) -> None:
    assert "<img src=x" not in page and "<svg><text>" not in page
    assert ESCAPED in page


async def test_the_console_shows_names_findings_and_file_names_as_text(
    console, client, staff, worker, runtime
):
    runtime.connectors = ConnectorRegistry.of([archive()])
    filed = await file_request(client, staff, subject=OLA | {"name": "Ola " + EVIL})
    await worker.run_until_idle()
    view = (await client.get(f"/v1/requests/{filed['id']}", headers=staff["auditor"])).json()
    [task] = view["tasks"]
    await console.login(Role.operator)
    done = await console.post(
        f"/console/requests/{filed['id']}/tasks/{task['id']}/complete",
        {
            "item": CHECKLIST,
            "done": CHECKLIST,
            "finding_1_category": "paper_contracts",
            "finding_1": "binder " + EVIL,
            "file_category": "paper_contracts",
        },
        files={"file": (EVIL + ".pdf", SCAN, "application/pdf")},
    )
    assert done.status_code == 303
    assert "done=complete_task" in done.headers["location"]
    _safe((await console.page(f"/console/requests/{filed['id']}")).text)
    for path in (f"/console/requests/{filed['id']}/answer", "/console/"):
        page = (await console.page(path)).text  # the answer keeps findings as plain text
        assert "<img src=x" not in page and "<svg><text>" not in page


async def test_the_form_sends_back_what_was_typed_as_text(client):
    shown = await post_form(
        client, "/personvern/", {"right": "access", "email": EVIL, "name": "Ola " + EVIL}
    )
    assert shown.status_code == 422
    _safe(shown.text)
