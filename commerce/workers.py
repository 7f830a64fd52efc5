"""Worker wiring: one client connection, one worker per domain task queue.

`manage.py runworkers` and the tests build workers here, so what the tests run is what
operators run.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from temporalio.client import Client
from temporalio.worker import Worker

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


def worker_specs(queues: list[str] | None = None) -> list[WorkerSpec]:
    specs = []
    for module_name in WORKER_MODULES:
        module = importlib.import_module(module_name)
        specs.append(WorkerSpec(module.TASK_QUEUE, tuple(module.WORKFLOWS), tuple(module.ACTIVITIES)))
    if queues:
        known = {spec.task_queue for spec in specs}
        unknown = sorted(set(queues) - known)
        if unknown:
            raise ValueError(f"unknown task queue(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        specs = [spec for spec in specs if spec.task_queue in queues]
    return specs


def build_workers(client: Client, specs: list[WorkerSpec], executor: ThreadPoolExecutor) -> list[Worker]:
    return [
        Worker(
            client,
            task_queue=spec.task_queue,
            workflows=list(spec.workflows),
            activities=list(spec.activities),
            activity_executor=executor,
            max_concurrent_activities=settings.TEMPORAL_ACTIVITY_THREADS,
        )
        for spec in specs
    ]


async def run_workers(client: Client, queues: list[str] | None, stop: asyncio.Event) -> None:
    """Run the workers until `stop` is set, then drain them: in-flight tasks finish first."""
    specs = worker_specs(queues)
    with ThreadPoolExecutor(max_workers=settings.TEMPORAL_ACTIVITY_THREADS, thread_name_prefix="activity") as executor:
        workers = build_workers(client, specs, executor)
        runs = [asyncio.create_task(worker.run(), name=f"worker-{worker.task_queue}") for worker in workers]
        for spec in specs:
            logger.info(
                "worker started on task queue %r (namespace %s): %d workflow(s), %d activit%s",
                spec.task_queue, client.namespace, len(spec.workflows), len(spec.activities),
                "y" if len(spec.activities) == 1 else "ies",
            )
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
