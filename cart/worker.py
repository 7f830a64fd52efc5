"""What `runworkers` registers on the cart task queue."""

from cart.activities import save_cart_snapshot
from cart.contracts import TASK_QUEUE
from cart.workflows import CartWorkflow
from commerce.probe import ProbeWorkflow, probe_worker
from inventory.activities import hold_stock, hold_variant, lookup_variant, release_stock

__all__ = ["TASK_QUEUE", "WORKFLOWS", "ACTIVITIES"]

# The stock activities run here as local activities of the cart: one Cassandra round trip inside
# the update, with no second task queue hop in its latency.
WORKFLOWS = [CartWorkflow, ProbeWorkflow]
ACTIVITIES = [save_cart_snapshot, lookup_variant, hold_stock, hold_variant, release_stock, probe_worker]
