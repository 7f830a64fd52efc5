"""What `runworkers` registers on the inventory task queue. (The cart runs the hold activities
as its local activities and registers them on its own queue.)"""

from commerce.probe import ProbeWorkflow, probe_worker
from inventory.activities import (
    apply_stock_change,
    notify_stock_changed,
    project_availability,
    release_holds,
    sweep_expired_holds,
)
from inventory.contracts import TASK_QUEUE
from inventory.workflows import InventoryServiceWorkflow, StockChangeWorkflow

__all__ = ["TASK_QUEUE", "WORKFLOWS", "ACTIVITIES"]

WORKFLOWS = [InventoryServiceWorkflow, StockChangeWorkflow, ProbeWorkflow]
ACTIVITIES = [release_holds, notify_stock_changed, project_availability, sweep_expired_holds, apply_stock_change,
              probe_worker]
