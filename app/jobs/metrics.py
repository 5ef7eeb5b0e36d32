"""Prometheus metrics of the task queue (served at ``/metrics``, or ``innsyn worker
--metrics-port``). Labels are connector instance names and actions: a small, fixed set."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LABELS = ("connector", "action")

TASKS_CLAIMED = Counter("innsyn_tasks_claimed", "Tasks claimed by a worker", LABELS)
TASKS_SUCCEEDED = Counter("innsyn_tasks_succeeded", "Tasks that succeeded", LABELS)
TASKS_FAILED = Counter("innsyn_tasks_failed", "Tasks that failed for good", (*LABELS, "error_kind"))
TASKS_RETRIED = Counter(
    "innsyn_tasks_retried", "Failed attempts scheduled for a retry", (*LABELS, "error_kind")
)
TASKS_MANUAL = Counter("innsyn_tasks_manual", "Tasks handed to a person", LABELS)
LEASES_LOST = Counter(
    "innsyn_task_leases_lost", "Attempts whose lease another worker took over", LABELS
)
TASK_DURATION = Histogram(
    "innsyn_task_duration_seconds",
    "Duration of one attempt (the connector call)",
    (*LABELS, "outcome"),
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
TASKS_IN_FLIGHT = Gauge("innsyn_tasks_in_flight", "Attempts running in this process")
