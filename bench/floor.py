"""The floor every benchmark is compared with: bare Temporal round trips from this process."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from bench.common import percentiles


@workflow.defn(name="BenchEcho")
class EchoWorkflow:
    """An entity that answers updates and does nothing else: the cheapest possible cart."""

    def __init__(self) -> None:
        self.updates = 0

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.updates >= 10_000, timeout=timedelta(hours=1))

    @workflow.update
    async def echo(self, value: str) -> str:
        self.updates += 1
        return value


async def update_floor(client: Client, rounds: int, concurrency: int) -> dict:
    """p50/p95/p99 and throughput of updates on existing workflows and of update-with-start on new
    ones, `concurrency` at a time."""
    queue = f"bench-echo-{uuid.uuid4().hex[:8]}"
    results = {}
    async with Worker(client, task_queue=queue, workflows=[EchoWorkflow]):
        handles = [await client.start_workflow(EchoWorkflow.run, id=f"{queue}-{i}", task_queue=queue)
                   for i in range(concurrency)]

        async def existing(index: int, samples: list) -> None:
            began = time.perf_counter()
            await handles[index % concurrency].execute_update(EchoWorkflow.echo, "x")
            samples.append((time.perf_counter() - began) * 1000)

        async def new(index: int, samples: list) -> None:
            began = time.perf_counter()
            start = WithStartWorkflowOperation(EchoWorkflow.run, id=f"{queue}-new-{index}", task_queue=queue,
                                               id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
            await client.execute_update_with_start_workflow(EchoWorkflow.echo, "x", start_workflow_operation=start)
            samples.append((time.perf_counter() - began) * 1000)

        for name, call in (("update (existing workflow)", existing), ("update-with-start (new)", new)):
            samples: list[float] = []
            began = time.perf_counter()
            for start_index in range(0, rounds, concurrency):
                await asyncio.gather(*(call(i, samples) for i in range(start_index,
                                                                      min(rounds, start_index + concurrency))))
            results[name] = {**percentiles(samples), "rps": rounds / (time.perf_counter() - began)}
        for handle in handles:
            await handle.terminate("bench done")
        for index in range(rounds):  # the update-with-start ones too: left running, they pile up
            await client.get_workflow_handle(f"{queue}-new-{index}").terminate("bench done")
    return results


async def echo_direct(client: Client, clients: int, seconds: float) -> dict:
    """The echo update on running workflows (one per caller), callers back to back for `seconds`:
    the closed loop of bench/load.py, as the HTTP steps are measured."""
    from bench.load import closed_loop_calls

    queue = f"bench-echo-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[EchoWorkflow]):
        handles = [await client.start_workflow(EchoWorkflow.run, id=f"{queue}-{i}", task_queue=queue)
                   for i in range(clients)]

        async def call(caller: int, index: int) -> float:
            began = time.perf_counter()
            await handles[caller].execute_update(EchoWorkflow.echo, "x")
            return (time.perf_counter() - began) * 1000

        figures = await closed_loop_calls(call, clients, seconds)
        for handle in handles:
            await handle.terminate("bench done")
    return figures
