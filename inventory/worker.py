"""What `runworkers` registers on the inventory task queue. (The cart runs the hold activities
as its local activities and registers them on its own queue.)"""

from commerce.probe import ProbeWorkflow, probe_worker
from inventory.activities import (
    abandon_catalog_reindex,
    apply_stock_change,
    begin_catalog_reindex,
    index_collections,
    index_products_page,
    notify_stock_changed,
    project_availability,
    publish_catalog_reindex,
    release_holds,
    sweep_expired_holds,
)
from inventory.contracts import TASK_QUEUE
from inventory.workflows import CatalogReindexWorkflow, InventoryServiceWorkflow, StockChangeWorkflow

__all__ = ["TASK_QUEUE", "WORKFLOWS", "ACTIVITIES"]

WORKFLOWS = [InventoryServiceWorkflow, StockChangeWorkflow, CatalogReindexWorkflow, ProbeWorkflow]
ACTIVITIES = [release_holds, notify_stock_changed, project_availability, sweep_expired_holds, apply_stock_change,
              begin_catalog_reindex, index_collections, index_products_page, publish_catalog_reindex,
              abandon_catalog_reindex, probe_worker]
