"""Where a log-in sends the browser: only a console page, never another site; the chosen
language and the page's whole query come along."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from app.domain.requests import Role
from app.web.console.auth import safe_next
from tests.web.centre.helpers import csrf_of

ELSEWHERE = [
    "https://evil.example/",
    "//evil.example/console/",
    "/console//evil.example",
    "/console/\\evil.example",
    "/\\evil.example",
    "javascript:alert(1)",
    "/consolex/",
    "/personvern/",
]


@pytest.mark.parametrize("back", ELSEWHERE)
def test_log_in_never_leads_off_the_console(back):
    assert safe_next(back) == "/console/"


@pytest.mark.parametrize("back", ELSEWHERE)
async def test_the_local_log_in_ignores_a_next_elsewhere(console, back):
    page = await console.client.get("/console/login", params={"next": back})
    assert "evil.example" not in page.text
    done = await console.client.post(
        "/console/login/local",
        data={"csrf_token": csrf_of(page.text), "role": Role.operator.value, "next": back},
    )
    assert done.status_code == 303 and done.headers["location"] == "/console/"


async def test_the_language_and_the_query_survive_the_log_in(console):
    console.client.cookies.clear()
    asked = await console.client.get("/console/", params={"kind": "erasure", "lang": "en"})
    assert asked.status_code == 303
    login = urlsplit(asked.headers["location"])
    query = parse_qs(login.query)
    assert query["lang"] == ["en"]
    assert query["next"] == ["/console/?kind=erasure&lang=en"]
    page = await console.client.get(asked.headers["location"])
    assert page.status_code == 200 and '<html lang="en">' in page.text
    assert console.client.cookies.get("innsyn_lang") == "en"
    done = await console.client.post(
        "/console/login/local",
        data={"csrf_token": csrf_of(page.text), "role": Role.operator.value, **query},
    )
    assert done.headers["location"] == "/console/?kind=erasure&lang=en"
    queue = await console.client.get(done.headers["location"])
    assert queue.status_code == 200 and '<html lang="en">' in queue.text
