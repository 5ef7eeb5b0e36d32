"""The deadline sweep looks only at requests whose next alert point may have come: a request
whose alerts are all announced, or whose first point is weeks away, is not read at all."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import select

from app.db.models import DsrRequest
from app.domain import deadlines
from app.services import deadline_alerts
from tests.webhooks.test_webhooks import file

DUE = datetime.fromisoformat("2026-04-07T21:59:59.999999+00:00")


def test_the_next_alert_is_the_earliest_point_not_yet_fired():
    target = date(2026, 4, 2)
    first = deadlines.next_alert_at(DUE, target, [7, 1], set())
    assert first == deadlines.end_of_day_utc(date(2026, 3, 25))  # the day before 26 March
    assert deadlines.next_alert_at(DUE, target, [7, 1], {"due_in_7d"}) == (
        deadlines.end_of_day_utc(date(2026, 3, 31))
    )
    assert deadlines.next_alert_at(DUE, target, [7, 1], {"due_in_7d", "due_in_1d"}) == DUE
    assert deadlines.next_alert_at(DUE, target, [7, 1], {"overdue"}) is None


async def next_alert(runtime, request_id):
    async with runtime.db.session() as session:
        row = await session.exec(
            select(DsrRequest.next_alert_at).where(DsrRequest.id == request_id)
        )
        return row.one()


async def test_the_sweep_reads_only_requests_whose_alert_point_has_come(
    client, staff, form_key, runtime, clock
):
    created = await file(client, form_key)  # received 2 March 2026, target 2 April
    assert await next_alert(runtime, created["id"]) == clock.now()  # looked at once
    assert await deadline_alerts.fire_due_alerts(runtime) == 0
    first = await next_alert(runtime, created["id"])
    assert first is not None and first > clock.now() + timedelta(days=20)

    clock.advance(timedelta(days=20))  # nothing is due: the sweep selects no request
    assert await deadline_alerts.fire_due_alerts(runtime, limit=1) == 0
    assert await next_alert(runtime, created["id"]) == first

    clock.advance(timedelta(days=6))  # 28 March: 7 days before
    assert await deadline_alerts.fire_due_alerts(runtime) == 1
    clock.advance(timedelta(days=11))  # 8 April: past the legal deadline (1 day skipped)
    assert await deadline_alerts.fire_due_alerts(runtime) == 1
    assert await next_alert(runtime, created["id"]) is None  # nothing left to announce
    clock.advance(timedelta(days=30))
    assert await deadline_alerts.fire_due_alerts(runtime) == 0


async def test_an_extension_moves_the_next_alert(client, staff, form_key, runtime, clock):
    created = await file(client, form_key)
    clock.advance(timedelta(days=26))  # 28 March
    assert await deadline_alerts.fire_due_alerts(runtime) == 1
    extended = await client.post(
        f"/v1/requests/{created['id']}/extend",
        json={"months": 1, "reason": "the data is spread over many systems"},
        headers=staff["approver"],
    )
    assert extended.status_code == 200, extended.text
    assert await next_alert(runtime, created["id"]) == clock.now()
    assert await deadline_alerts.fire_due_alerts(runtime) == 0  # the new target is a month off
    later = await next_alert(runtime, created["id"])
    assert later is not None and later > clock.now() + timedelta(days=20)


async def test_a_backlog_is_spread_over_ticks(client, form_key, runtime, clock):
    for _ in range(3):
        await file(client, form_key)
    clock.advance(timedelta(days=26))
    assert await deadline_alerts.fire_due_alerts(runtime, limit=2) == 2
    assert await deadline_alerts.fire_due_alerts(runtime, limit=2) == 1
    assert await deadline_alerts.fire_due_alerts(runtime, limit=2) == 0
