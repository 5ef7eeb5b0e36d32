"""What every page shares: headers that keep personal data out of caches and frames, the
language choice, words in both languages, the brand colour, and CSRF on every form."""

from __future__ import annotations

from importlib import resources

import httpx
import pytest
import yaml
from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse

from app.main import create_app
from app.settings import Settings
from app.web.forms import FormDep
from app.web.language import LANGUAGES
from app.web.words import AREAS, words


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://innsyn.test")


@pytest.fixture
async def probed(runtime):
    """The app with one extra form route, to test the CSRF check every form goes through."""
    app = create_app(runtime=runtime)
    probe = APIRouter()

    @probe.post("/probe-form")
    async def probe_form(form: FormDep) -> HTMLResponse:
        return HTMLResponse("accepted")

    app.include_router(probe)
    async with _client(app) as client:
        yield app, client


def test_every_area_has_the_same_words_in_both_languages():
    for area in AREAS:
        nb, en = (set(words(area, lang)) for lang in LANGUAGES)
        assert nb == en, f"{area}: {sorted(nb ^ en)}"


def test_no_word_is_left_untranslated():
    for area in AREAS:
        nb, en = words(area, "nb"), words(area, "en")
        same = [k for k in nb if nb[k] == en[k] and len(nb[k]) > 3]
        assert not same, f"{area}: {same}"


def test_word_files_are_plain_mappings():
    for area in AREAS:
        for lang in LANGUAGES:
            text = resources.files("app.web").joinpath("texts", f"{area}.{lang}.yaml").read_text()
            assert isinstance(yaml.safe_load(text), dict)


async def test_pages_are_never_cached_nor_framed_by_default(client):
    page = await client.get("/personvern/")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "script-src 'none'" in page.headers["content-security-policy"]


async def test_the_company_may_frame_the_form(runtime):
    runtime.settings.frame_ancestors = ["https://www.example.no"]
    async with _client(create_app(runtime=runtime)) as client:
        page = await client.get("/personvern/")
    assert "frame-ancestors https://www.example.no" in page.headers["content-security-policy"]


def test_frame_ancestors_must_be_origins():
    with pytest.raises(ValueError, match="origin"):
        Settings(frame_ancestors=["https://ok.no; script-src *"], _env_file=None)  # type: ignore[call-arg]


async def test_language_follows_the_choice_then_the_browser(client):
    english = await client.get("/personvern/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert 'lang="en"' in english.text
    nynorsk = await client.get("/personvern/", headers={"Accept-Language": "nn-NO"})
    assert 'lang="nb"' in nynorsk.text
    chosen = await client.get("/personvern/?lang=en", headers={"Accept-Language": "nb"})
    assert 'lang="en"' in chosen.text
    remembered = await client.get("/personvern/", headers={"Accept-Language": "nb"})
    assert 'lang="en"' in remembered.text


async def test_the_brand_colour_comes_from_settings(runtime):
    runtime.settings.brand_colour = "#123456"
    async with _client(create_app(runtime=runtime)) as client:
        css = await client.get("/static/brand.css")
        site = await client.get("/static/site.css")
    assert css.status_code == 200 and "--brand: #123456" in css.text
    assert site.status_code == 200 and "text/css" in site.headers["content-type"]


async def test_the_root_leads_to_the_privacy_centre(client):
    answer = await client.get("/")
    assert answer.status_code == 307 and answer.headers["location"] == "/personvern/"


async def test_a_form_without_its_token_is_refused(probed):
    _, client = probed
    refused = await client.post("/probe-form", data={"x": "1"})
    assert refused.status_code == 403
    assert "kunne ikke sendes" in refused.text


async def test_a_form_passes_only_with_the_token_of_its_own_cookie(probed):
    app, client = probed
    await client.get("/personvern/")
    cookie = client.cookies.get("innsyn_csrf")
    assert cookie
    token = app.state.pages.csrf._mac(cookie)
    assert (await client.post("/probe-form", data={"csrf_token": token})).text == "accepted"
    forged = await client.post("/probe-form", data={"csrf_token": token[:-2] + "xx"})
    assert forged.status_code == 403
    client.cookies.set("innsyn_csrf", "another-browser")
    assert (await client.post("/probe-form", data={"csrf_token": token})).status_code == 403


async def test_the_console_asks_for_a_log_in_and_returns_after(client):
    page = await client.get("/console/")
    assert page.status_code == 303
    assert page.headers["location"] == "/console/login?next=/console/"


async def test_the_local_log_in_is_refused_without_the_form_token(client):
    refused = await client.post("/console/login/local", data={"role": "admin"})
    assert refused.status_code == 403
    assert "innsyn_console" not in refused.headers.get("set-cookie", "")


async def test_log_in_never_sends_the_browser_to_another_site(runtime):
    runtime.settings.env = "development"
    async with _client(create_app(runtime=runtime)) as client:
        for elsewhere in ("//evil.example/console/", "https://evil.example/", "/console//x"):
            login = await client.get("/console/login", params={"next": elsewhere})
            assert 'name="next" value="/console/"' in login.text


async def test_the_local_log_in_opens_the_console_with_the_chosen_roles(runtime):
    runtime.settings.env = "development"
    async with _client(create_app(runtime=runtime)) as client:
        login = await client.get("/console/login", params={"next": "/console/"})
        token = login.text.split('name="csrf_token" value="')[1].split('"')[0]
        done = await client.post(
            "/console/login/local",
            data={"csrf_token": token, "role": "auditor", "next": "/console/"},
        )
        assert done.status_code == 303 and done.headers["location"] == "/console/"
        start = await client.get("/console/")
        assert start.status_code == 200 and "dev-staff" in start.text


async def test_a_body_no_page_could_send_gets_a_page_in_words(probed):
    _, client = probed
    await client.get("/personvern/")
    fields = {f"field{n}": "x" for n in range(250)}
    refused = await client.post("/probe-form", data=fields)
    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("text/html")
    assert "Skjemaet kunne ikke leses" in refused.text
