"""The answer page in a real browser (Debian's Chromium, never a downloaded one): no
sideways scrolling on a phone, the page's language, and screenshots kept as artifacts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import CHROMIUM, FLAGS, needs_chromium
from tests.reports.test_answer import HEADINGS, answer, assert_in_one_language

ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "answer"
pytestmark = needs_chromium


async def test_the_page_fits_a_phone_and_a_desktop(client, staff, runtime, worker, backend):
    if backend != "sqlite":
        pytest.skip("the page is the same on every database")
    from playwright.async_api import async_playwright

    pages = {}
    for language in ("nb", "en"):
        request_id = await answer(client, staff, runtime, worker, language)
        response = await client.get(
            f"/v1/requests/{request_id}/report", params={"format": "html"}, headers=staff["auditor"]
        )
        pages[language] = response.text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            for language, html in pages.items():
                for width in (375, 1280):
                    page = await browser.new_page(viewport={"width": width, "height": 800})
                    await page.set_content(html)
                    assert await page.evaluate("document.documentElement.lang") == language
                    wide = await page.evaluate(
                        "document.documentElement.scrollWidth > window.innerWidth"
                    )
                    assert not wide, f"{language} at {width}px scrolls sideways"
                    # What a reader sees, as the browser laid it out (not the source).
                    seen = await page.evaluate("document.body.innerText")
                    assert_in_one_language(seen, language)
                    headings = await page.locator("h2, h3").all_inner_texts()
                    for heading in HEADINGS[language]:
                        assert heading in headings, heading
                    await page.screenshot(
                        path=str(ARTIFACTS / f"answer-{language}-{width}.png"), full_page=True
                    )
                    await page.close()
        finally:
            await browser.close()
