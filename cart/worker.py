"""What `runworkers` registers on the cart task queue."""

from commerce.probe import ProbeWorkflow, probe_worker

TASK_QUEUE = "cart"

# The probe stays registered beside the domain's workflows so any queue can be probed.
WORKFLOWS = [ProbeWorkflow]
ACTIVITIES = [probe_worker]
