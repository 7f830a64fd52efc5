"""What `runworkers` registers on the oms task queue."""

from commerce.probe import ProbeWorkflow, probe_worker
from orders.activities import (
    cancel_fulfillment,
    capture_payment,
    link_guest_orders,
    load_settings,
    plan_supplier_orders,
    reauthorize_payment,
    record,
    refund_payment,
    release_stock,
    send_email,
    start_fulfillment,
    void_payment,
)
from orders.contracts import TASK_QUEUE
from orders.workflows import LinkGuestOrdersWorkflow, OrderWorkflow

__all__ = ["TASK_QUEUE", "WORKFLOWS", "ACTIVITIES"]

# The probe stays registered beside the domain's workflows so any queue can be probed.
WORKFLOWS = [ProbeWorkflow, OrderWorkflow, LinkGuestOrdersWorkflow]
ACTIVITIES = [load_settings, plan_supplier_orders, record, start_fulfillment, cancel_fulfillment, capture_payment,
              reauthorize_payment, void_payment, refund_payment, release_stock, send_email, link_guest_orders,
              probe_worker]
