"""What `runworkers` registers on the identity task queue, and what it starts there."""

import logging

from django.conf import settings
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from commerce.probe import ProbeWorkflow, probe_worker
from identity.activities import expire_api_token, persist_store_config, sweep_expired_sessions
from identity.contracts import SESSION_SWEEP_WORKFLOW_ID, TASK_QUEUE, SessionSweepInput
from identity.workflows import ApiTokenWorkflow, SessionSweepWorkflow, StoreConfigWorkflow

__all__ = ["TASK_QUEUE", "WORKFLOWS", "ACTIVITIES", "on_start"]

logger = logging.getLogger(__name__)

# The probe stays registered beside the domain's workflows so any queue can be probed.
WORKFLOWS = [StoreConfigWorkflow, ApiTokenWorkflow, SessionSweepWorkflow, ProbeWorkflow]
ACTIVITIES = [persist_store_config, expire_api_token, sweep_expired_sessions, probe_worker]

# The running sweep's interval, kept in its memo (carried over continue-as-new), so a worker started
# with another SESSION_SWEEP_SECONDS can tell and restart it.
INTERVAL_MEMO = "interval_seconds"


async def on_start(client: Client) -> None:
    """The session sweep runs (one per shop) at SESSION_SWEEP_SECONDS: started if it is not running,
    restarted if it runs at another interval, stopped if the setting is 0."""
    interval = settings.SESSION_SWEEP_SECONDS
    handle = client.get_workflow_handle(SESSION_SWEEP_WORKFLOW_ID)
    try:
        running = await handle.describe()
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        running = None
    if running is not None and running.status == WorkflowExecutionStatus.RUNNING:
        if interval and await running.memo_value(INTERVAL_MEMO, None) == interval:
            return
        logger.info("session sweep: interval now %s s; stopping the run at %s s", interval,
                    await running.memo_value(INTERVAL_MEMO, None))
        await handle.terminate(reason=f"SESSION_SWEEP_SECONDS is now {interval}")
    if interval <= 0:
        return
    await client.start_workflow(SessionSweepWorkflow.run, SessionSweepInput(interval), id=SESSION_SWEEP_WORKFLOW_ID,
                                task_queue=TASK_QUEUE, memo={INTERVAL_MEMO: interval},
                                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
