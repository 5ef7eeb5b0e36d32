"""The overview pages in a real browser against a real ``innsyn demo``: logged in through the
local log-in, in Norwegian and English, on a wide screen and a phone (no sideways scrolling
of the page: wide tables scroll inside their own box). Screenshots are kept as artifacts."""

from __future__ import annotations

from tests.web.conftest import needs_chromium, screenshot_path

PAGES = ("connectors", "holds", "webhooks", "summary")


@needs_chromium
async def test_every_overview_in_both_languages_on_a_wide_screen_and_a_phone(demo_site, browser):
    for kind, email in (("access", "ola.nordmann@example.no"), ("erasure", "nils.berg@example.no")):
        demo_site.post("/v1/requests", {"kind": kind, "subject": {"email": email}}, expected=201)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(demo_site.url("/console/overview/summary"))
    assert "/console/login" in page.url
    await page.check("#role-admin")
    await page.click('form[action="/console/login/local"] button[type=submit]')
    await page.wait_for_url("**/console/overview/summary")
    for lang in ("nb", "en"):
        for width in (1280, 375):
            await page.set_viewport_size({"width": width, "height": 900})
            for name in PAGES:
                answer = await page.goto(demo_site.url(f"/console/overview/{name}?lang={lang}"))
                assert answer is not None and answer.status == 200, name
                assert await page.get_attribute("html", "lang") == lang
                assert await page.locator("main h1").count() == 1, (
                    name,
                    await page.locator("h1").all_inner_texts(),
                )
                sideways = await page.evaluate(
                    "document.documentElement.scrollWidth - window.innerWidth"
                )
                assert sideways <= 0, f"{name} scrolls sideways at {width} px in {lang}"
                await page.screenshot(
                    path=screenshot_path(f"overview-{name}-{lang}-{width}"), full_page=True
                )
            if width == 1280:
                assert await page.locator("svg[role=img] > title").count() == 1
    connectors = await page.goto(demo_site.url("/console/overview/connectors?lang=en"))
    assert connectors is not None
    assert "billing" in await page.content() and "works" in await page.content()
    await context.close()
