"""System status: /healthz (the whole system: stores and every task queue's workers) and
/readyz (this web process can serve: its own stores answer).

Bodies name what is down and nothing else; the reasons go to the log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from asgiref.sync import sync_to_async
from django.db import connections
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import PollerInfo, TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from commerce.cassandra import session as cassandra_session
from commerce.search import es
from commerce.temporal import get_client

logger = logging.getLogger("commerce.health")

CHECK_TIMEOUT_SECONDS = 3.0
# An idle worker's long poll lasts about a minute before it polls again, and Temporal keeps listing
# a stopped worker's poller for minutes: a queue is served when a poller was seen this recently.
POLLER_FRESH_SECONDS = 90.0


@dataclass(frozen=True)
class Status:
    """Each checked dependency, up or down."""

    dependencies: dict[str, bool]

    @property
    def up(self) -> bool:
        return all(self.dependencies.values())

    def as_json(self) -> dict:
        return {
            "status": "up" if self.up else "down",
            "dependencies": {name: "up" if up else "down" for name, up in self.dependencies.items()},
        }


@dataclass(frozen=True)
class QueueSpec:
    name: str
    poll_types: tuple[int, ...]  # TaskQueueType values the queue's worker polls


def has_live_poller(pollers: Iterable[PollerInfo], now: float, fresh_seconds: float = POLLER_FRESH_SECONDS) -> bool:
    """Whether any poller was seen within `fresh_seconds` of `now` (seconds since the epoch)."""
    return any(now - poller.last_access_time.ToSeconds() <= fresh_seconds for poller in pollers)


@lru_cache(maxsize=1)
def task_queues() -> tuple[QueueSpec, ...]:
    """The six domain task queues, and which task types each worker polls, as runworkers registers them."""
    from commerce.workers import worker_specs  # imports every app's worker: only when first asked

    return tuple(
        QueueSpec(spec.task_queue, tuple(
            kind for kind, registered in ((TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, spec.workflows),
                                          (TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY, spec.activities))
            if registered
        ))
        for spec in worker_specs()
    )


def _ping_sql() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")


def _ping_cassandra() -> None:
    cassandra_session().execute("SELECT release_version FROM system.local", timeout=CHECK_TIMEOUT_SECONDS)


def _ping_elasticsearch() -> None:
    health = es().options(request_timeout=CHECK_TIMEOUT_SECONDS).cluster.health()
    if health["status"] not in ("green", "yellow"):
        raise RuntimeError(f"cluster status {health['status']}")


async def _ping_temporal() -> None:
    client = await get_client()
    await client.service_client.check_health(timeout=timedelta(seconds=CHECK_TIMEOUT_SECONDS))


def _queue_check(queue: QueueSpec) -> Callable[[], Awaitable[None]]:
    async def check() -> None:
        client = await get_client()
        for poll_type in queue.poll_types:
            response = await client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(namespace=client.namespace, task_queue=TaskQueue(name=queue.name),
                                         task_queue_type=poll_type),
                timeout=timedelta(seconds=CHECK_TIMEOUT_SECONDS),
            )
            if not has_live_poller(response.pollers, time.time()):
                raise LookupError(f"no poller seen in {POLLER_FRESH_SECONDS:.0f}s for "
                                  f"{TaskQueueType.Name(poll_type)} tasks")
    return check


async def _check(name: str, check: Callable[[], Awaitable[None]]) -> tuple[str, bool]:
    try:
        await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure reads as "down"; the reason is for operators, not the body
        logger.warning("health check %s is down: %s", name, str(exc) or type(exc).__name__)
        return name, False
    return name, True


def _store_checks() -> dict[str, Callable[[], Awaitable[None]]]:
    return {
        "sql": sync_to_async(_ping_sql),
        "cassandra": sync_to_async(_ping_cassandra, thread_sensitive=False),
        "elasticsearch": sync_to_async(_ping_elasticsearch, thread_sensitive=False),
        "temporal": _ping_temporal,
    }


async def _run(checks: dict[str, Callable[[], Awaitable[None]]]) -> Status:
    results = await asyncio.gather(*(_check(name, check) for name, check in checks.items()))
    return Status(dict(results))


async def readiness() -> Status:
    """This web process can serve: SQL, Cassandra, Elasticsearch and the Temporal frontend answer."""
    return await _run(_store_checks())


async def system_health() -> Status:
    """Readiness, and each domain task queue has a worker polling it now."""
    checks = _store_checks()
    for queue in task_queues():
        checks[f"queue:{queue.name}"] = _queue_check(queue)
    return await _run(checks)
