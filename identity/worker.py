"""What `runworkers` registers on the identity task queue."""

from commerce.probe import ProbeWorkflow, probe_worker
from identity.activities import persist_store_config
from identity.contracts import TASK_QUEUE
from identity.workflows import StoreConfigWorkflow

__all__ = ["TASK_QUEUE", "WORKFLOWS", "ACTIVITIES"]

# The probe stays registered beside the domain's workflows so any queue can be probed.
WORKFLOWS = [StoreConfigWorkflow, ProbeWorkflow]
ACTIVITIES = [persist_store_config, probe_worker]
