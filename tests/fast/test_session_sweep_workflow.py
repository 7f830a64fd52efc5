"""The session sweep under the time-skipping server, with a fake sweep activity: it sweeps once a
round on its own timer, a round whose sweep fails does not stop the next, and after its rounds it
continues as new. Histories are recorded for the replay test."""

import uuid
from datetime import timedelta

from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from identity.contracts import TASK_QUEUE, SessionSweepActivities, SessionSweepInput, SweptRows
from identity.workflows import SessionSweepWorkflow
from tests.histories import record

HOUR = 3600


class FakeSweep:
    def __init__(self, failing_rounds: int = 0) -> None:
        self.calls = 0
        self.failing_rounds = failing_rounds

    def activity(self):
        @activity.defn(name=SessionSweepActivities.SWEEP)
        async def sweep() -> SweptRows:
            self.calls += 1
            if self.calls <= self.failing_rounds:
                raise ApplicationError("database is locked", non_retryable=True)
            return SweptRows(sessions=2, cache_entries=1)

        return sweep


async def _start(env, fake: FakeSweep, rounds_per_run: int = 100):
    worker = Worker(env.client, task_queue=TASK_QUEUE, workflows=[SessionSweepWorkflow], activities=[fake.activity()])
    handle = await env.client.start_workflow(SessionSweepWorkflow.run, SessionSweepInput(HOUR, rounds_per_run),
                                             id=f"session-sweep-{uuid.uuid4().hex[:8]}", task_queue=TASK_QUEUE)
    return worker, handle


async def test_it_sweeps_once_a_round_on_its_own_timer(env):
    fake = FakeSweep()
    worker, handle = await _start(env, fake)
    async with worker:
        await env.sleep(timedelta(seconds=3 * HOUR + 60))
        calls = fake.calls
        history = await record(handle, "session_sweep_rounds")
        description = await handle.describe()
    # One at the start, one after each full interval: the timer runs whether or not anyone visits.
    assert calls == 4
    assert description.status == WorkflowExecutionStatus.RUNNING
    timers = [event for event in history.events if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED]
    assert timers and all(event.timer_started_event_attributes.start_to_fire_timeout.seconds == HOUR
                          for event in timers)


async def test_a_failed_round_is_logged_and_the_next_round_sweeps_again(env):
    fake = FakeSweep(failing_rounds=1)
    worker, handle = await _start(env, fake)
    async with worker:
        await env.sleep(timedelta(seconds=HOUR + 60))
        calls = fake.calls
        await record(handle, "session_sweep_failed_round")
        description = await handle.describe()
    assert calls == 2
    assert description.status == WorkflowExecutionStatus.RUNNING


async def test_after_its_rounds_the_sweep_continues_as_new_with_the_same_input(env):
    fake = FakeSweep()
    worker, handle = await _start(env, fake, rounds_per_run=2)
    async with worker:
        await env.sleep(timedelta(seconds=2 * HOUR + 60))
        first_run = env.client.get_workflow_handle(handle.id, run_id=handle.result_run_id)
        history = await record(first_run, "session_sweep_continued_as_new")
        latest = await env.client.get_workflow_handle(handle.id).describe()
    assert history.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    assert latest.run_id != handle.result_run_id and latest.status == WorkflowExecutionStatus.RUNNING
    assert fake.calls == 3  # two rounds in the first run, the first of the next
