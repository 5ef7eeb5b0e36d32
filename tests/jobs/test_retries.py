"""Transient errors are retried with backoff; permanent ones are not; staff can retry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from app.jobs.policy import RetryPolicy
from app.jobs.runner import Worker
from tests.jobs.conftest import EMAIL, audit_actions, file_verified, load
from tests.jobs.systems import Broken, Flaky, MemorySystem, registry


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_fails_twice_then_succeeds(runtime, worker):
    flaky = Flaky("flaky-crm", failures=2)
    flaky.seed(EMAIL, "contact", {"email": EMAIL})
    runtime.connectors = registry(flaky)
    labels = {"connector": "flaky-crm", "action": "collect"}
    series = {
        "retried": ("innsyn_tasks_retried_total", {**labels, "error_kind": "transient"}),
        "succeeded": ("innsyn_tasks_succeeded_total", labels),
        "claimed": ("innsyn_tasks_claimed_total", labels),
        "timed": ("innsyn_task_duration_seconds_count", {**labels, "outcome": "succeeded"}),
    }
    before = {k: metric(name, **lab) for k, (name, lab) in series.items()}
    request_id = await file_verified(runtime)

    await worker.run_until_idle()

    request, tasks = await load(runtime, request_id)
    task = tasks["flaky-crm"]
    assert (task.status, task.attempts, task.last_error) == ("succeeded", 3, None)
    assert request.status == "completed"
    actions = await audit_actions(runtime, request_id)
    assert actions.count("task.retried") == 2
    assert actions.count("task.succeeded") == 1
    after = {k: metric(name, **lab) for k, (name, lab) in series.items()}
    assert {k: after[k] - before[k] for k in series} == {
        "retried": 2,
        "succeeded": 1,
        "claimed": 3,
        "timed": 1,
    }


async def test_one_that_always_fails_ends_failed_and_does_not_block_the_others(
    runtime, worker, client, staff
):
    broken = Broken("billing", error="transient")
    healthy = [MemorySystem(f"ok-{i}") for i in range(3)]
    runtime.connectors = registry(broken, *healthy, max_attempts=3)
    failed = (
        "innsyn_tasks_failed_total",
        {"connector": "billing", "action": "collect", "error_kind": "transient"},
    )
    failed_before = metric(failed[0], **failed[1])
    request_id = await file_verified(runtime)

    await worker.run_until_idle()

    request, tasks = await load(runtime, request_id)
    assert (tasks["billing"].status, tasks["billing"].attempts) == ("failed", 3)
    assert tasks["billing"].last_error == "the billing system answered 502"
    assert tasks["billing"].error_kind == "transient"
    assert all(tasks[s.name].status == "succeeded" for s in healthy)
    assert all(s.calls.counts == {"collect": 1} for s in healthy)
    # Not silently "completed": a person decides (retry, or close it by hand).
    assert request.status == "awaiting_manual"
    view = (await client.get(f"/v1/requests/{request_id}", headers=staff["auditor"])).json()
    shown = next(t for t in view["tasks"] if t["connector"] == "billing")
    assert (shown["status"], shown["attempts"]) == ("failed", 3)
    assert shown["last_error"] == "the billing system answered 502"
    assert metric(failed[0], **failed[1]) - failed_before == 1

    # The system is fixed; an operator retries the task and the request completes.
    broken.error = "none"
    url = f"/v1/requests/{request_id}/tasks/{tasks['billing'].id}/retry"
    assert (await client.post(url, headers=staff["auditor"])).status_code == 403
    response = await client.post(url, headers=staff["operator"])
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pending"
    request, _ = await load(runtime, request_id)
    assert request.status == "in_progress"

    await worker.run_until_idle()

    request, tasks = await load(runtime, request_id)
    assert (tasks["billing"].status, tasks["billing"].attempts) == ("succeeded", 4)
    assert request.status == "completed"
    assert "task.retry_requested" in await audit_actions(runtime, request_id)
    again = await client.post(url, headers=staff["operator"])
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/invalid-transition"


@pytest.mark.parametrize(
    ("error", "kind"), [("config", "configuration"), ("permanent", "permanent")]
)
async def test_permanent_and_configuration_errors_are_not_retried(runtime, worker, error, kind):
    runtime.connectors = registry(Broken("billing", error=error), max_attempts=5)
    request_id = await file_verified(runtime)

    await worker.run_until_idle()

    _, tasks = await load(runtime, request_id)
    assert (tasks["billing"].status, tasks["billing"].attempts) == ("failed", 1)
    assert tasks["billing"].error_kind == kind
    actions = await audit_actions(runtime, request_id)
    assert "task.retried" not in actions and actions.count("task.failed") == 1


async def test_unexpected_errors_keep_no_personal_data(runtime, worker):
    runtime.connectors = registry(Broken("billing", error="bug"), max_attempts=2)
    request_id = await file_verified(runtime)

    await worker.run_until_idle()

    _, tasks = await load(runtime, request_id)
    task = tasks["billing"]
    assert (task.status, task.attempts, task.error_kind) == ("failed", 2, "internal")
    assert task.last_error == "unexpected RuntimeError in the connector"
    assert "example.no" not in task.last_error


async def test_backoff_is_durable_and_waits_before_the_next_attempt(runtime, clock):
    flaky = Flaky("flaky-crm", failures=1)
    runtime.connectors = registry(flaky)
    policy = RetryPolicy(wait_initial=10.0, wait_jitter=2.0, wait_max=60.0)
    worker = Worker(runtime, policy=policy, poll_seconds=0.05)
    request_id = await file_verified(runtime)

    await worker.run_until_idle()  # first attempt fails; the next is not due yet

    _, tasks = await load(runtime, request_id)
    task = tasks["flaky-crm"]
    assert (task.status, task.attempts) == ("pending", 1)
    wait = task.next_attempt_at - clock.now()
    assert timedelta(seconds=10) <= wait <= timedelta(seconds=12)
    await worker.run_until_idle()
    assert flaky.calls.counts == {"collect": 1}  # still waiting

    clock.advance(timedelta(seconds=12))
    await Worker(runtime, policy=policy).run_until_idle()  # any worker picks it up

    request, tasks = await load(runtime, request_id)
    assert (tasks["flaky-crm"].status, tasks["flaky-crm"].attempts) == ("succeeded", 2)
    assert request.status == "completed"


async def test_retry_after_from_the_system_is_a_lower_bound(runtime, clock):
    runtime.connectors = registry(Flaky("flaky-crm", failures=1, retry_after=120.0))
    worker = Worker(runtime, policy=RetryPolicy(wait_initial=1.0, wait_jitter=0.0))
    request_id = await file_verified(runtime)

    await worker.run_until_idle()

    _, tasks = await load(runtime, request_id)
    assert tasks["flaky-crm"].next_attempt_at == clock.now() + timedelta(seconds=120)


def test_backoff_grows_exponentially_and_is_capped():
    policy = RetryPolicy(wait_initial=5.0, wait_jitter=0.0, wait_max=60.0)
    assert [policy.delay(n) for n in range(1, 6)] == [5.0, 10.0, 20.0, 40.0, 60.0]
    jittered = RetryPolicy(wait_initial=5.0, wait_jitter=1.0)
    assert all(5.0 <= jittered.delay(1) <= 6.0 for _ in range(100))
    assert len({jittered.delay(1) for _ in range(20)}) > 1  # jitter spreads retries apart
    assert policy.delay(10_000) == 60.0


async def test_a_failed_task_can_be_closed_by_hand_with_a_note(runtime, worker, client, staff):
    runtime.connectors = registry(Broken("billing", error="config"), MemorySystem("crm"))
    request_id = await file_verified(runtime)
    await worker.run_until_idle()
    _, tasks = await load(runtime, request_id)
    url = f"/v1/requests/{request_id}/tasks/{tasks['billing'].id}/complete"

    missing_note = await client.post(url, json={"answers": {}}, headers=staff["operator"])
    assert missing_note.status_code == 422
    done = await client.post(
        url, json={"note": "exported by hand from the billing UI"}, headers=staff["operator"]
    )
    assert done.status_code == 200, done.text
    assert done.json()["result"]["closed_by_hand"] is True
    request, tasks = await load(runtime, request_id)
    assert request.status == "completed"
    assert "exported" not in str(tasks["billing"].result)  # the note is sealed, not in results
    assert tasks["billing"].note_ciphertext is not None


async def test_unknown_task_is_404(runtime, client, staff):
    runtime.connectors = registry(MemorySystem("crm"))
    request_id = await file_verified(runtime)
    response = await client.post(
        f"/v1/requests/{request_id}/tasks/tsk_nope/retry", headers=staff["operator"]
    )
    assert response.status_code == 404
    assert response.json()["type"] == "/problems/not-found"


async def test_failures_and_completion_are_announced_to_webhooks(runtime, worker):
    from sqlmodel import select

    from app.db.models import WebhookDelivery
    from app.services import tasks as task_service
    from app.services import webhooks
    from tests.jobs.conftest import OPERATOR

    async with runtime.db.session() as session:
        await webhooks.subscribe(
            runtime,
            session,
            url="http://127.0.0.1:9/hook",
            events=["task.failed", "request.completed"],
            description=None,
            principal=OPERATOR,
        )
    runtime.connectors = registry(Broken("billing", error="permanent"), MemorySystem("crm"))
    request_id = await file_verified(runtime)
    await worker.run_until_idle()
    _, tasks = await load(runtime, request_id)
    async with runtime.db.session() as session:
        await task_service.complete_by_hand(
            runtime,
            session,
            request_id,
            tasks["billing"].id,
            principal=OPERATOR,
            answers={},
            note="handled in the billing system by hand",
        )
        sent = list(await session.exec(select(WebhookDelivery)))

    by_type = {d.event_type: d.payload["data"] for d in sent}
    assert set(by_type) == {"task.failed", "request.completed"}
    assert by_type["task.failed"] == {
        "request_id": request_id,
        "kind": "access",
        "task_id": tasks["billing"].id,
        "connector": "billing",
        "action": "collect",
        "error_kind": "permanent",
    }
    assert by_type["request.completed"]["status"] == "completed"
    assert EMAIL not in str(by_type)
