"""What `runworkers` registers on the fulfillment task queue."""

from commerce.probe import ProbeWorkflow, probe_worker
from fulfillment.activities import (
    begin_shipment,
    commit_stock,
    load_timings,
    partner_cancel,
    partner_release,
    partner_status,
    partner_submit,
)
from fulfillment.contracts import TASK_QUEUE
from fulfillment.workflows import FulfillmentWorkflow, SupplierOrderWorkflow

__all__ = ["TASK_QUEUE", "WORKFLOWS", "ACTIVITIES"]

# The probe stays registered beside the domain's workflows so any queue can be probed.
WORKFLOWS = [ProbeWorkflow, FulfillmentWorkflow, SupplierOrderWorkflow]
ACTIVITIES = [probe_worker, load_timings, begin_shipment, commit_stock, partner_submit, partner_status,
              partner_release, partner_cancel]
