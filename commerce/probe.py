"""A probe workflow registered on every task queue.

It proves that a worker polls its queue and runs activities, and, with a delay, that timers
fire. Domains keep it registered beside their own workflows so operators can probe any queue.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import activity, workflow


@dataclass(frozen=True)
class ProbeInput:
    delay_seconds: int = 0


@dataclass(frozen=True)
class ProbeResult:
    task_queue: str
    worker_pid: int
    started_at: datetime
    finished_at: datetime


@activity.defn(name="probe_worker")
def probe_worker() -> int:
    return os.getpid()


@workflow.defn(name="Probe")
class ProbeWorkflow:
    @workflow.run
    async def run(self, probe: ProbeInput) -> ProbeResult:
        started_at = workflow.now()
        if probe.delay_seconds:
            await workflow.sleep(timedelta(seconds=probe.delay_seconds))
        pid = await workflow.execute_activity(probe_worker, start_to_close_timeout=timedelta(seconds=30))
        return ProbeResult(
            task_queue=workflow.info().task_queue,
            worker_pid=pid,
            started_at=started_at,
            finished_at=workflow.now(),
        )
