"""The person's pages act only for the browser holding the request's real status token: a
made-up token taken into the cookie (``?token=``) opens nothing, not even the code page."""

from __future__ import annotations

from pathlib import Path

import httpx

from app.main import create_app
from tests.web.centre.helpers import csrf_of, post_form

OLA = "ola.nordmann@example.no"


async def _filed(client: httpx.AsyncClient) -> str:
    data = {"right": "access", "email": OLA, "name": "Ola Nordmann"}
    answer = await post_form(client, "/personvern/", data)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"].split("/")[3]


async def test_a_made_up_token_does_not_open_the_code_page(client, settings, runtime):
    victim = await _filed(client)
    mails = len(list(Path(settings.outbox_dir).glob("*.eml")))
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://innsyn.test") as other:
        await other.get(f"/personvern/requests/{victim}?token=made-up-token-123")
        page = await other.get(f"/personvern/requests/{victim}/code")
        assert page.status_code == 404
        form = await other.get("/personvern/")
        token = csrf_of(form.text)
        guessed = await other.post(
            f"/personvern/requests/{victim}/code", data={"csrf_token": token, "code": "123456"}
        )
        assert guessed.status_code == 404
        resent = await other.post(
            f"/personvern/requests/{victim}/code/resend", data={"csrf_token": token}
        )
        assert resent.status_code == 404
    assert len(list(Path(settings.outbox_dir).glob("*.eml"))) == mails
