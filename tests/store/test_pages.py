"""One cursor-pagination helper for every list: pages never overlap or skip a row, and a
cursor that was not handed out is refused."""

from __future__ import annotations

import pytest

from app.db.models import WebhookDelivery
from app.domain.errors import InvalidInput
from app.store.pages import ID, NUMBER, newest_first, oldest_first, prefixed_b64
from app.store.webhooks import DeliveryRepository
from tests.store.test_outbox import _delivery, _subscription


def test_a_loaded_list_pages_oldest_first():
    items = list(range(1, 8))
    seen, cursor = [], None
    while True:
        page = oldest_first(items, lambda n: n, limit=3, cursor=cursor, spelling=NUMBER)
        seen += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == items


@pytest.mark.parametrize(("spelling", "cursor"), [(NUMBER, "x1"), (prefixed_b64("req_"), "@@")])
def test_a_cursor_not_handed_out_is_refused(spelling, cursor):
    with pytest.raises(InvalidInput):
        oldest_first([1], lambda n: n, limit=1, cursor=cursor, spelling=spelling)


def test_a_prefixed_cursor_reads_back_its_id():
    spelling = prefixed_b64("req_")
    assert spelling.decode(spelling.encode("req_01abc")) == "req_01abc"
    with pytest.raises(InvalidInput):
        spelling.decode(spelling.encode("hold_01abc"))


async def test_a_table_pages_newest_first_without_overlap(runtime):
    webhook_id = await _subscription(runtime)
    async with runtime.db.session() as session:
        rows = [_delivery(runtime, webhook_id) for _ in range(5)]
        session.add_all(rows)
    seen, cursor = [], None
    async with runtime.db.session() as session:
        while True:
            page = await DeliveryRepository(session).of_subscription(
                webhook_id, limit=2, cursor=cursor
            )
            seen += [r.id for r in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == sorted((r.id for r in rows), reverse=True)
        query = DeliveryRepository(session).select()
        whole = await newest_first(
            session, query, WebhookDelivery.id, limit=10, cursor=None, spelling=ID
        )
        assert [r.id for r in whole.items] == seen and whole.next_cursor is None
