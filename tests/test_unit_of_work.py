"""The request is the unit of work: it commits before the answer is sent, so a commit that
fails never answers 2xx, and a letter leaves only for a change that committed.

Driven against a real ``innsyn serve`` process (an in-process transport waits for the whole
app and would hide the order). PostgreSQL only: a deferred constraint trigger makes exactly
the commit fail, after every statement of the request succeeded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.test_smoke_serve import run, serving

REFUSE_COMMIT = """
CREATE OR REPLACE FUNCTION refuse_commit() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'the commit is refused'; END $$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER refuse_request_commit AFTER INSERT ON requests
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_commit();
"""
ALLOW_COMMIT = """
DROP TRIGGER IF EXISTS refuse_request_commit ON requests;
DROP FUNCTION IF EXISTS refuse_commit();
"""


async def _execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def served(service_env: dict[str, str], backend: str) -> Iterator[tuple[str, dict[str, str]]]:
    if backend != "postgresql":
        pytest.skip("the failing commit is made with a PostgreSQL deferred trigger")
    env = service_env
    run(env, "migrate")
    with serving(env) as base:
        yield base, env


@pytest.mark.usefixtures("runtime")
def test_a_commit_that_fails_never_answers_2xx_nor_sends_a_letter(
    served: tuple[str, dict[str, str]], database_url: str
) -> None:
    base, env = served
    api_key = run(env, "apikey", "create", "--name", "website").splitlines()[-1]
    outbox = Path(env["INNSYN_VAR_DIR"]) / "outbox"
    asyncio.run(_execute(database_url, REFUSE_COMMIT))
    try:
        body = {"kind": "access", "subject": {"email": "uow@example.no"}}
        created = httpx.post(
            f"{base}/v1/requests", json=body, headers={"X-API-Key": api_key}, timeout=30
        )
        assert created.status_code >= 500, created.text
        assert created.headers["content-type"].startswith("application/problem+json")
        assert "id" not in created.json()
    finally:
        asyncio.run(_execute(database_url, ALLOW_COMMIT))
    assert not list(outbox.glob("*.eml")), "a letter left for a change that did not commit"
    accepted = httpx.post(
        f"{base}/v1/requests", json=body, headers={"X-API-Key": api_key}, timeout=30
    )
    assert accepted.status_code == 201, accepted.text
    staff = {"Authorization": f"Bearer {run(env, 'token', '--role', 'operator')}"}
    view = httpx.get(f"{base}/v1/requests/{accepted.json()['id']}", headers=staff, timeout=30)
    assert view.status_code == 200
