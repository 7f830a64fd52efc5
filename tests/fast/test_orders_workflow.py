"""The order workflow as it was before its lifecycle: runs started then recorded `placed` and waited
out ORDER_LIFETIME. `tests/histories/order.json` is such a run (recorded before the lifecycle, never
re-recorded): it still replays, on the branch without the `oms-lifecycle` patch. The lifecycle itself
is tested in test_order_lifecycle.py."""

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from orders.contracts import OrderStatus
from orders.workflows import ORDER_LIFETIME, OrderWorkflow
from tests.histories import HISTORY_DIR

PATH = HISTORY_DIR / "order.json"


def _history() -> WorkflowHistory:
    if not PATH.exists():
        pytest.skip("tests/histories/order.json is missing")
    return WorkflowHistory.from_json("order", PATH.read_text())


def test_the_recorded_order_history_is_a_run_from_before_the_lifecycle():
    history = _history()
    kinds = [event.WhichOneof("attributes") for event in history.events]
    assert "marker_recorded_event_attributes" not in kinds  # no patch marker: the branch before "oms-lifecycle"
    assert "activity_task_scheduled_event_attributes" not in kinds
    timers = [event.timer_started_event_attributes for event in history.events
              if event.HasField("timer_started_event_attributes")]
    assert [timer.start_to_fire_timeout.ToTimedelta() for timer in timers] == [ORDER_LIFETIME]
    completed = history.events[-1].workflow_execution_completed_event_attributes
    assert completed.result.payloads[0].data == f'"{OrderStatus.PLACED}"'.encode()


async def test_the_recorded_order_history_replays():
    replay = await Replayer(workflows=[OrderWorkflow]).replay_workflow(_history(), raise_on_replay_failure=False)
    assert replay.replay_failure is None
