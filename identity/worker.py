"""What `runworkers` registers on the identity task queue, and what it starts there."""

from django.conf import settings
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from commerce.probe import ProbeWorkflow, probe_worker
from identity.activities import expire_api_token, persist_store_config, sweep_expired_sessions
from identity.contracts import SESSION_SWEEP_WORKFLOW_ID, TASK_QUEUE, SessionSweepInput
from identity.workflows import ApiTokenWorkflow, SessionSweepWorkflow, StoreConfigWorkflow

__all__ = ["TASK_QUEUE", "WORKFLOWS", "ACTIVITIES", "on_start"]

# The probe stays registered beside the domain's workflows so any queue can be probed.
WORKFLOWS = [StoreConfigWorkflow, ApiTokenWorkflow, SessionSweepWorkflow, ProbeWorkflow]
ACTIVITIES = [persist_store_config, expire_api_token, sweep_expired_sessions, probe_worker]


async def on_start(client: Client) -> None:
    """Start the session sweep unless it runs already (one per shop: the first identity worker wins)."""
    if settings.SESSION_SWEEP_SECONDS <= 0:
        return
    await client.start_workflow(SessionSweepWorkflow.run, SessionSweepInput(settings.SESSION_SWEEP_SECONDS),
                                id=SESSION_SWEEP_WORKFLOW_ID, task_queue=TASK_QUEUE,
                                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
