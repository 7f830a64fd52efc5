"""What `runworkers` registers on the inventory task queue."""

from commerce.probe import ProbeWorkflow, probe_worker
from inventory.activities import (
    hold_stock,
    lookup_variant,
    notify_stock_changed,
    project_availability,
    release_holds,
    release_stock,
    sweep_expired_holds,
)
from inventory.workflows import InventoryServiceWorkflow

TASK_QUEUE = "inventory"

WORKFLOWS = [InventoryServiceWorkflow, ProbeWorkflow]
ACTIVITIES = [
    lookup_variant, hold_stock, release_stock, release_holds, notify_stock_changed, project_availability,
    sweep_expired_holds, probe_worker,
]
