"""The officer's path in a real browser against a real ``innsyn demo``, in Norwegian and in
English: log in, find Ola's access request in the queue, open it, do the paper-archive work
with a finding, and see the request answered (with answer review on: released by hand)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.demo.process import Demo, running_demo, settled
from tests.web.conftest import needs_chromium, screenshot_path

pytestmark = needs_chromium

OLA = {"email": "ola.nordmann@example.no", "name": "Ola Nordmann", "national_id": "30108299920"}
WORDS = {
    "nb": {
        "login": "Logg inn lokalt",
        "done": "Arbeidet er merket som gjort",
        "answered": "besvart",
        "release": "Frigi svaret",
        "released": "Svaret er frigitt",
        "finding": "Signert kundeavtale fra 2019, perm 4",
    },
    "en": {
        "login": "Log in locally",
        "done": "The work is marked as done",
        "answered": "answered",
        "release": "Release the answer",
        "released": "The answer is released",
        "finding": "Signed customer contract from 2019, binder 4",
    },
}


@pytest.fixture(scope="module")
def reviewed_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """A second demo in which an approver reviews every answer before it goes out."""
    root = tmp_path_factory.mktemp("demo-review")
    with running_demo(root, ("INNSYN_REVIEW_ANSWERS", "true")) as (demo, _, _):
        yield demo


def _file_ola(demo: Demo) -> tuple[str, dict[str, Any]]:
    """Ola's access request, filed by an operator who checked who he is."""
    body = {"kind": "access", "subject": OLA, "verification": {"method": "staff", "note": "demo"}}
    request_id = str(demo.post("/v1/requests", body, expected=201)["id"])
    view = demo.wait_for(request_id, settled)
    [task] = [t for t in view["tasks"] if t["status"] == "manual"]
    return request_id, task


async def _log_in(page: Any, base: str, lang: str, *roles: str) -> None:
    await page.goto(f"{base}/console/")
    assert "/console/login" in page.url
    await page.goto(f"{base}/console/login?lang={lang}")  # remembered from now on
    await page.screenshot(path=screenshot_path(f"console-login-{lang}"), full_page=True)
    for role in roles:
        await page.check(f"#role-{role}")
    await page.click(f"text={WORDS[lang]['login']}")
    await page.wait_for_url(re.compile(r"/console/(\?.*)?$"))


async def _do_the_paper_archive(page: Any, lang: str, task: dict[str, Any]) -> None:
    form = page.locator(f"#act-complete_task-{task['id']}")
    await form.locator("summary").click()
    for box in await form.locator("input[name=done]").all():
        await box.check()
    await form.locator("select[name=finding_1_category]").select_option("paper_contracts")
    await form.locator("textarea[name=finding_1]").fill(WORDS[lang]["finding"])
    await page.screenshot(path=screenshot_path(f"console-task-{lang}"), full_page=True)
    await form.locator("button[type=submit]").click()
    await page.wait_for_selector(f"text={WORDS[lang]['done']}")


@pytest.mark.parametrize("lang", ["nb", "en"])
async def test_the_officer_answers_olas_access_request(demo_site, browser, lang):
    request_id, task = _file_ola(demo_site)
    context = await browser.new_context(locale="nb-NO" if lang == "nb" else "en-GB")
    page = await context.new_page()
    await _log_in(page, demo_site.base, lang)
    assert await page.locator(f"a[href='/console/requests/{request_id}']").count() == 1
    await page.screenshot(path=screenshot_path(f"console-queue-{lang}"), full_page=True)

    await page.click(f"a[href='/console/requests/{request_id}']")
    await page.wait_for_url(f"**/console/requests/{request_id}")
    assert await page.locator("html").get_attribute("lang") == lang
    await page.screenshot(path=screenshot_path(f"console-request-{lang}"), full_page=True)

    await _do_the_paper_archive(page, lang, task)
    facts = await page.locator("dl.facts").first.inner_text()
    assert WORDS[lang]["answered"] in facts
    await page.screenshot(path=screenshot_path(f"console-answered-{lang}"), full_page=True)
    assert demo_site.get(f"/v1/requests/{request_id}")["status"] == "completed"
    report = await context.new_page()
    await report.goto(f"{demo_site.base}/console/requests/{request_id}/answer")
    assert WORDS[lang]["finding"] in await report.content()
    await context.close()


@pytest.mark.parametrize("lang", ["nb", "en"])
async def test_an_approver_releases_the_reviewed_answer(reviewed_site, browser, lang):
    request_id, task = _file_ola(reviewed_site)
    context = await browser.new_context()
    page = await context.new_page()
    await _log_in(page, reviewed_site.base, lang, "approver")
    await page.goto(f"{reviewed_site.base}/console/requests/{request_id}")
    await _do_the_paper_archive(page, lang, task)
    assert reviewed_site.get(f"/v1/requests/{request_id}")["status"] == "awaiting_review"

    release = page.locator("#act-release_answer")
    await release.locator("summary").click()
    await page.screenshot(path=screenshot_path(f"console-review-{lang}"), full_page=True)
    await release.locator("button[type=submit]").click()
    await page.wait_for_selector(f"text={WORDS[lang]['released']}")
    assert reviewed_site.get(f"/v1/requests/{request_id}")["status"] == "completed"
    await page.screenshot(path=screenshot_path(f"console-released-{lang}"), full_page=True)
    await context.close()
