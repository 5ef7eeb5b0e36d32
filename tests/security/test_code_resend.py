"""A new e-mail code only for whoever filed the request (its form key) or holds its status
token, and only so many codes per request: resends cannot buy endless guesses."""

from __future__ import annotations

from datetime import timedelta

from tests.api.test_lifecycle import last_code

BODY = {"kind": "access", "subject": {"email": "kari@example.no"}, "language": "en"}


async def filed(client, headers) -> dict[str, str]:
    response = await client.post("/v1/requests", json=BODY, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def other_key(runtime) -> dict[str, str]:
    from app.services import apikeys

    async with runtime.db.session() as session:
        _row, key = await apikeys.create(runtime, session, name="another-website")
    return {"X-API-Key": key}


async def test_another_form_key_cannot_ask_for_a_new_code(client, form_key, runtime, clock):
    created = await filed(client, form_key)
    clock.advance(timedelta(minutes=2))
    url = f"/v1/requests/{created['id']}/verification/resend"
    response = await client.post(url, headers=await other_key(runtime))
    assert response.status_code == 403, response.text
    assert response.json()["type"] == "/problems/forbidden"
    assert (await client.post(url, headers=form_key)).status_code == 202


async def test_the_status_token_holder_can_ask_for_a_new_code(client, form_key, clock):
    created = await filed(client, form_key)
    clock.advance(timedelta(minutes=2))
    url = f"/v1/requests/{created['id']}/verification/resend"
    assert (await client.post(url)).status_code == 401
    wrong = await client.post(url, params={"token": "z" * 32})
    assert wrong.status_code == 403
    ok = await client.post(url, params={"token": created["status_token"]})
    assert ok.status_code == 202, ok.text


async def test_codes_per_request_are_capped_across_resends(client, form_key, settings, clock):
    created = await filed(client, form_key)
    url = f"/v1/requests/{created['id']}/verification"
    guesses = 0
    for _code in range(settings.verification_max_sends):
        real = last_code(settings)
        wrong = "123456" if real != "123456" else "654321"
        for _ in range(settings.verification_max_attempts):
            assert (
                await client.post(url, json={"code": wrong}, headers=form_key)
            ).status_code == 422
            guesses += 1
        clock.advance(timedelta(seconds=settings.verification_resend_seconds + 1))
        resend = await client.post(f"{url}/resend", headers=form_key)
        if resend.status_code != 202:
            break
    assert resend.status_code == 429, resend.text
    assert resend.json()["type"] == "/problems/too-many-attempts"
    assert guesses == settings.verification_max_sends * settings.verification_max_attempts
    # The last code's tries are used up, and no new code comes: the request stays unverified.
    last = await client.post(url, json={"code": last_code(settings)}, headers=form_key)
    assert last.status_code == 429
