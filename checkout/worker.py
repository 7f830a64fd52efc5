"""What `runworkers` registers on the checkout task queue."""

from checkout.activities import (
    authorize_payment,
    confirm_holds,
    hold_lines,
    price_lines,
    release_lines,
    send_order_confirmation,
    start_order_workflow,
    void_payment,
    write_order,
)
from checkout.contracts import TASK_QUEUE
from checkout.workflows import CheckoutWorkflow
from commerce.probe import ProbeWorkflow, probe_worker

__all__ = ["TASK_QUEUE", "WORKFLOWS", "ACTIVITIES"]

WORKFLOWS = [CheckoutWorkflow, ProbeWorkflow]
ACTIVITIES = [hold_lines, release_lines, confirm_holds, price_lines, authorize_payment, void_payment, write_order,
              start_order_workflow, send_order_confirmation, probe_worker]
