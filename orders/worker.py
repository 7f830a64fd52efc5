"""What `runworkers` registers on the oms task queue."""

from commerce.probe import ProbeWorkflow, probe_worker
from orders.contracts import TASK_QUEUE
from orders.workflows import OrderWorkflow

__all__ = ["TASK_QUEUE", "WORKFLOWS", "ACTIVITIES"]

# The probe stays registered beside the domain's workflows so any queue can be probed.
WORKFLOWS = [ProbeWorkflow, OrderWorkflow]
ACTIVITIES = [probe_worker]
