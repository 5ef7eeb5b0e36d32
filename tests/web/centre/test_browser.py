"""The person's path in a real browser against a real ``innsyn demo``: the form, the code
from the demo's mail outbox, the status page, and (after staff complete the paper archive
through the API) the answer's download page; in Norwegian and English, on a 375 px phone and
a 1280 px screen, with no sideways scrolling on the phone. Screenshots are kept as artifacts
under ``test-artifacts/pages/``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.demo.process import Demo, settled
from tests.web.centre.helpers import last_code
from tests.web.conftest import needs_chromium, screenshot_path

pytestmark = needs_chromium
OLA = {"email": "ola.nordmann@example.no", "name": "Ola Nordmann"}
WIDTHS = (375, 1280)
WORDS = {
    "nb": {"send": "Send forespørselen", "confirm": "Bekreft", "ready": "Svaret ditt er klart"},
    "en": {"send": "Send the request", "confirm": "Confirm", "ready": "Your answer is ready"},
}


async def _shoot(page: Any, name: str, lang: str) -> None:
    """The page at each width: its language, no sideways scroll on a phone, a screenshot."""
    assert await page.get_attribute("html", "lang") == lang
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 900})
        if width == 375:
            overflow = await page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at 375px"
        await page.screenshot(path=screenshot_path(f"centre-{name}-{lang}-{width}"), full_page=True)


def _staff_finish(demo: Demo, request_id: str) -> None:
    """Staff close the paper archive's checklist and go on without the registry (Ola did not
    log in), as the README's walk-through does."""
    view = demo.wait_for(request_id, settled)
    for task in view["tasks"]:
        path = f"/v1/requests/{request_id}/tasks/{task['id']}"
        if task["status"] == "manual":
            answers = dict.fromkeys(task["checklist"]["items"], True)
            demo.post(f"{path}/complete", {"answers": answers})
        elif task["status"] == "needs_stronger_identity":
            demo.post(f"{path}/skip", {"note": "He did not log in"})
    demo.wait_for(request_id, lambda v: v["status"] == "completed")


@pytest.mark.parametrize("lang", ["nb", "en"])
async def test_the_persons_path_from_form_to_answer(demo_site: Demo, browser, lang: str):
    said = WORDS[lang]
    context = await browser.new_context(viewport={"width": 375, "height": 900})
    page = await context.new_page()
    await page.goto(demo_site.url(f"/personvern/?lang={lang}"))
    await _shoot(page, "form", lang)

    await page.check("#right-access")
    await page.fill("#f-email", OLA["email"])
    await page.fill("#f-name", OLA["name"])
    await page.click(f"button:has-text('{said['send']}')")
    await page.wait_for_url("**/code")
    request_id = page.url.split("/")[-2]
    await _shoot(page, "code", lang)

    await page.fill("#f-code", last_code(demo_site.var_dir / "outbox"))
    await page.click(f"button:has-text('{said['confirm']}')")
    await page.wait_for_url(f"**/personvern/requests/{request_id}")
    await _shoot(page, "status", lang)

    _staff_finish(demo_site, request_id)
    await page.reload()
    assert said["ready"] in await page.content()
    await _shoot(page, "status-done", lang)

    await page.click("a.button[href^='/personvern/answers/']")
    await page.wait_for_url("**/personvern/answers/**")
    await _shoot(page, "download", lang)
    answer = await page.request.get(
        page.url.replace("/personvern/answers/", "/v1/answers/") + "?format=html"
    )
    assert answer.status == 200
    await context.close()
