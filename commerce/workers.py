"""Worker wiring: one client connection, one worker per domain task queue.

`manage.py runworkers` and the tests build workers here, so what the tests run is what
operators run. Each worker has its own bounded thread pool for sync activities, sized by
TEMPORAL_ACTIVITY_THREADS (or TEMPORAL_ACTIVITY_THREADS_<QUEUE>), and takes no more activity
tasks than it has threads: a flood on one queue (say inventory projections) cannot starve the
cart's activities. On stop each worker gives in-flight activities
TEMPORAL_GRACEFUL_SHUTDOWN_SECONDS to finish.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from temporalio.client import Client
from temporalio.worker import Worker

from commerce.env import ConfigError

logger = logging.getLogger("commerce.workers")

# One module per domain; each defines TASK_QUEUE, WORKFLOWS and ACTIVITIES.
WORKER_MODULES = (
    "cart.worker",
    "checkout.worker",
    "orders.worker",
    "fulfillment.worker",
    "inventory.worker",
    "identity.worker",
)


@dataclass(frozen=True)
class WorkerSpec:
    task_queue: str
    workflows: tuple
    activities: tuple
    # Threads of this worker's own activity pool, and the most activity tasks it runs at once.
    activity_threads: int
    # What the domain starts once its worker polls (a long-running workflow such as a sweep), if anything.
    on_start: Callable[[Client], Awaitable[None]] | None = None


def _activity_threads(known: set[str]) -> dict[str, int]:
    """Threads per task queue: the default, or its TEMPORAL_ACTIVITY_THREADS_<QUEUE> override."""
    overrides = settings.TEMPORAL_ACTIVITY_THREADS_BY_QUEUE
    # A misspelt override would silently size nothing: refuse it by name.
    unknown = sorted(set(overrides) - known)
    if unknown:
        names = ", ".join(f"TEMPORAL_ACTIVITY_THREADS_{queue.upper()}" for queue in unknown)
        raise ConfigError(f"{names} names no task queue; known: {', '.join(sorted(known))}")
    threads = {queue: overrides.get(queue, settings.TEMPORAL_ACTIVITY_THREADS) for queue in known}
    too_small = sorted(queue for queue, count in threads.items() if count < 1)
    if too_small:
        raise ConfigError(f"activity threads must be at least 1 (task queue(s) {', '.join(too_small)})")
    return threads


def worker_specs(queues: list[str] | None = None) -> list[WorkerSpec]:
    modules = [importlib.import_module(name) for name in WORKER_MODULES]
    known = {module.TASK_QUEUE for module in modules}
    threads = _activity_threads(known)
    specs = [
        WorkerSpec(module.TASK_QUEUE, tuple(module.WORKFLOWS), tuple(module.ACTIVITIES), threads[module.TASK_QUEUE],
                   getattr(module, "on_start", None))
        for module in modules
    ]
    if queues:
        unknown = sorted(set(queues) - known)
        if unknown:
            raise ValueError(f"unknown task queue(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        specs = [spec for spec in specs if spec.task_queue in queues]
    return specs


def activity_executor(spec: WorkerSpec) -> ThreadPoolExecutor:
    """The worker's own pool; its threads are named after the queue, so a thread dump says who is busy."""
    return ThreadPoolExecutor(max_workers=spec.activity_threads, thread_name_prefix=f"activity-{spec.task_queue}")


def build_worker(client: Client, spec: WorkerSpec, executor: ThreadPoolExecutor) -> Worker:
    return Worker(
        client,
        task_queue=spec.task_queue,
        workflows=list(spec.workflows),
        activities=list(spec.activities),
        activity_executor=executor,
        # Never more tasks than threads: a task beyond that would wait in the pool with its
        # start-to-close timeout already running.
        max_concurrent_activities=spec.activity_threads,
        graceful_shutdown_timeout=timedelta(seconds=settings.TEMPORAL_GRACEFUL_SHUTDOWN_SECONDS),
    )


async def _start_domain_workflows(client: Client, spec: WorkerSpec) -> None:
    """A failure here is logged, not fatal: the workers still serve, and the next start tries again."""
    try:
        await spec.on_start(client)
    except Exception:  # noqa: BLE001 - any failure; the log says which
        logger.exception("task queue %r: starting its long-running workflows failed", spec.task_queue)


async def run_workers(client: Client, queues: list[str] | None, stop: asyncio.Event,
                      on_started: Callable[[], None] | None = None) -> None:
    """Run the workers until `stop` is set, then drain them: in-flight tasks finish first.

    `on_started` is called once every worker is polling (runshop waits for it before it prints the URL).
    """
    specs = worker_specs(queues)
    with ExitStack() as pools:
        # Closed last (ExitStack unwinds after the workers' shutdown): every activity is done by then.
        workers = [build_worker(client, spec, pools.enter_context(activity_executor(spec))) for spec in specs]
        runs = [asyncio.create_task(worker.run(), name=f"worker-{worker.task_queue}") for worker in workers]
        for spec in specs:
            logger.info(
                "worker started on task queue %r (namespace %s): %d workflow(s), %d activit%s, %d thread(s)",
                spec.task_queue, client.namespace, len(spec.workflows), len(spec.activities),
                "y" if len(spec.activities) == 1 else "ies", spec.activity_threads,
            )
        for spec in specs:
            if spec.on_start is not None:
                await _start_domain_workflows(client, spec)
        if on_started:
            on_started()
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopper, *runs], return_when=asyncio.FIRST_COMPLETED)
        if stopper not in done:
            # A worker died on its own (a fatal poll error): stop the others and surface it.
            stop.set()
        await asyncio.gather(*(worker.shutdown() for worker in workers))
        for run in runs:
            if run.done() and not run.cancelled() and run.exception():
                raise run.exception()
        logger.info("all workers stopped")
