"""The answer's own download link: apart from the status token, short-lived, revocable,
counted, never logged, and clear in words when it no longer works."""

from __future__ import annotations

import logging
from datetime import timedelta

from app.logging import configure
from tests.jobs.systems import registry
from tests.reports.test_answer import EMAIL, system

DAY = timedelta(days=1)


async def status_link(client, request_id: str, token: str) -> str | None:
    status = await client.get(f"/v1/requests/{request_id}/status", params={"token": token})
    assert status.status_code == 200
    return status.json()["download_url"]


async def filed(client, staff, runtime, worker, language="nb") -> tuple[str, str]:
    runtime.connectors = registry(system())
    created = await client.post(
        "/v1/requests",
        json={
            "kind": "access",
            "language": language,
            "subject": {"email": EMAIL},
            "verification": {"method": "staff", "note": "known customer"},
        },
        headers=staff["operator"],
    )
    await worker.run_until_idle()
    return created.json()["id"], created.json()["status_token"]


async def test_the_status_page_gives_a_link_that_works_and_is_counted(
    client, staff, runtime, worker, capsys, caplog
):
    configure("DEBUG")
    caplog.set_level(logging.DEBUG)
    try:
        request_id, token = await filed(client, staff, runtime, worker)
        link = await status_link(client, request_id, token)
        assert link is not None and link.startswith("/v1/answers/")
        assert token not in link  # a link of its own, not the status token
        assert await status_link(client, request_id, token) == link  # the same while it works
        for fmt, kind in (
            ("html", "text/html"),
            ("pdf", "application/pdf"),
            ("json", "application/json"),
        ):
            got = await client.get(link, params={"format": fmt})
            assert got.status_code == 200, got.text
            assert got.headers["content-type"].startswith(kind)
            assert got.headers["cache-control"] == "no-store"
            assert got.headers["referrer-policy"] == "no-referrer"
            assert "filename=" in got.headers["content-disposition"]
    finally:
        configure("INFO")
    view = (await client.get(f"/v1/requests/{request_id}", headers=staff["auditor"])).json()
    [shown] = view["answer_links"]
    assert shown["state"] == "active"
    assert shown["downloads"] == 3
    secret = link.removeprefix("/v1/answers/")
    assert secret not in str(view)
    captured = capsys.readouterr()
    logged = captured.out + captured.err + "\n".join(r.getMessage() for r in caplog.records)
    assert "answers" in logged  # the calls were logged, by route
    assert secret not in logged


async def test_an_expired_link_says_so_and_the_status_page_makes_a_new_one(
    client, staff, runtime, worker, clock
):
    request_id, token = await filed(client, staff, runtime, worker, language="en")
    link = await status_link(client, request_id, token)
    clock.advance(8 * DAY)
    gone = await client.get(link)
    assert gone.status_code == 410
    assert gone.headers["content-type"] == "application/problem+json"
    problem = gone.json()
    assert problem["type"] == "/problems/link-gone"
    assert problem["detail"].startswith("This link has expired.")
    fresh = await status_link(client, request_id, token)
    assert fresh is not None and fresh != link
    assert (await client.get(fresh)).status_code == 200


async def test_staff_revoke_and_issue_a_link(client, staff, runtime, worker):
    request_id, token = await filed(client, staff, runtime, worker)
    link = await status_link(client, request_id, token)
    url = f"/v1/requests/{request_id}/answer-links"
    assert (await client.post(f"{url}/revoke", headers=staff["auditor"])).status_code == 403
    revoked = await client.post(f"{url}/revoke", headers=staff["operator"])
    assert [x["state"] for x in revoked.json()] == ["revoked"]
    gone = await client.get(link)
    assert gone.status_code == 410
    assert gone.json()["detail"].startswith("Lenken er trukket tilbake.")
    assert await status_link(client, request_id, token) is None
    issued = await client.post(url, headers=staff["operator"])
    assert issued.status_code == 201
    assert await status_link(client, request_id, token) == issued.json()["url"]
    assert (await client.get(issued.json()["url"])).status_code == 200
    assert (await client.get("/v1/answers/" + "x" * 40)).status_code == 404


async def test_no_link_before_the_answer_is_ready(client, form_key):
    created = (
        await client.post(
            "/v1/requests",
            json={"kind": "access", "subject": {"email": "someone@example.no"}},
            headers=form_key,
        )
    ).json()
    assert await status_link(client, created["id"], created["status_token"]) is None
