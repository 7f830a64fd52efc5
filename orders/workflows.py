"""Workflows of the OMS. Deterministic: no Django, no I/O here (activities do that).

`OrderWorkflow` (`order-{order_number}`, queue `oms`): started by a checkout activity once the
order is written to Cassandra, with the `OrderInput` the checkout placed. Its id and input are the
contract the OMS keeps. For now it records `placed` and waits, for at most `ORDER_LIFETIME`, for
the order to reach an end (delivered, cancelled, refunded); the transitions that get it there
(approval, fulfillment, cancel, refund) are signals and updates of a later issue. The query
`get_order` answers the order with its current status.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from orders.contracts import OrderInput, OrderQueries, OrderStatus, OrderView, OrderWorkflows

# An order left open this long ends anyway (nothing is delivered a year after it was placed).
ORDER_LIFETIME = timedelta(days=365)
FINAL_STATUSES = frozenset({OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.REFUNDED})


@workflow.defn(name=OrderWorkflows.ORDER)
class OrderWorkflow:
    @workflow.init
    def __init__(self, order: OrderInput) -> None:
        self.order = order
        self.status = OrderStatus.PLACED

    @workflow.run
    async def run(self, order: OrderInput) -> str:
        try:
            await workflow.wait_condition(lambda: self.status in FINAL_STATUSES, timeout=ORDER_LIFETIME)
        except TimeoutError:
            pass
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status

    @workflow.query(name=OrderQueries.GET)
    def get_order(self) -> OrderView:
        order = self.order
        return OrderView(
            order_number=order.order_number, status=self.status, email=order.email,
            shipping_address=order.shipping_address, shipping_method=order.shipping_method,
            lines=tuple(order.lines), totals=order.totals, card_brand=order.card_brand,
            card_last4=order.card_last4, placed_at=order.placed_at,
        )
