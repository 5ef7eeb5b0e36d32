"""The person's answer is never cached, never leaks its URL, and its HTML can run nothing."""

from __future__ import annotations

from tests.reports.test_report_and_logs import run_request


async def test_report_responses_are_not_stored_and_html_is_locked_down(
    client, staff, runtime, worker
):
    created = await run_request(client, staff, runtime, worker, "access")
    url = f"/v1/requests/{created['id']}/report"
    as_json = await client.get(url, headers=staff["auditor"])
    as_html = await client.get(url, params={"format": "html", "token": created["status_token"]})
    for response in (as_json, as_html):
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "no-referrer"
    csp = as_html.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
