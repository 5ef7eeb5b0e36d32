"""``innsyn serve`` believes X-Forwarded-For only from INNSYN_TRUSTED_PROXIES (default none),
so a client cannot pick the address every per-client limit counts."""

from __future__ import annotations

import httpx
import pytest

from app.settings import Settings, proxy_options
from tests.test_smoke_serve import run, serving

STATUS = "/v1/requests/req_nothing/status?token=" + "t" * 32


def statuses(base: str, calls: int) -> list[int]:
    """The status page, each call claiming another client address in X-Forwarded-For."""
    return [
        httpx.get(base + STATUS, headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(calls)
    ]


@pytest.fixture
def env(service_env: dict[str, str]) -> dict[str, str]:
    run(service_env, "migrate")
    return service_env | {"INNSYN_RATE_LIMIT_PER_IP_PER_MINUTE": "3", "INNSYN_RUN_WORKERS": "false"}


def test_forwarded_for_is_ignored_by_default(env):
    with serving(env) as base:
        assert statuses(base, 4) == [404, 404, 404, 429]


def test_forwarded_for_is_believed_from_a_trusted_proxy(env):
    with serving(env | {"INNSYN_TRUSTED_PROXIES": '["127.0.0.1"]'}) as base:
        assert statuses(base, 4) == [404, 404, 404, 404]


def test_proxy_options_follow_the_setting(tmp_path):
    plain = Settings(var_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    assert proxy_options(plain) == {"proxy_headers": False, "forwarded_allow_ips": ""}
    behind = plain.model_copy(update={"trusted_proxies": ["10.0.0.5", "10.0.0.6"]})
    assert proxy_options(behind) == {
        "proxy_headers": True,
        "forwarded_allow_ips": ["10.0.0.5", "10.0.0.6"],
    }
