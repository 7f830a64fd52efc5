"""The order workflow on the time-skipping server: it records `placed`, answers `get_order` with the
order as the checkout placed it, and ends by itself after ORDER_LIFETIME. Its history is recorded for
replay (RECORD_HISTORIES=1 writes tests/histories/order.json)."""

import uuid
from datetime import timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from checkout.contracts import Address, CheckoutLine, Totals
from commerce.temporal import binary_path
from orders.contracts import TASK_QUEUE, OrderInput, OrderQueries, OrderStatus, OrderView, order_workflow_id
from orders.numbers import new_order_number
from orders.workflows import ORDER_LIFETIME, OrderWorkflow
from tests.histories import HISTORY_DIR, record


@pytest.fixture
async def env():
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(binary_path("temporal-test-server")))
    yield environment
    await environment.shutdown()


def _order() -> OrderInput:
    number = new_order_number(uuid.uuid4().int >> 78)
    return OrderInput(
        order_number=number, checkout_id=f"checkout-cart-{number}-1", cart_id=f"cart-{number}",
        email="Shopper@Example.com", customer_id="",
        shipping_address=Address("shopper@example.com", "Ada Shopper", "1 Main St", "", "Portland", "OR", "97201"),
        shipping_method="standard",
        lines=(CheckoutLine("SKU-1", "linen-shirt", "Linen shirt", "Blue", "M", 2500, 2, "/img/1.svg", "r-1"),
               CheckoutLine("SKU-2", "mug", "Mug", "White", "One size", 1200, 1, "/img/2.svg", "r-2")),
        totals=Totals(subtotal_cents=6200, discount_cents=0, shipping_cents=595, tax_cents=0, total_cents=6795),
        payment_authorization_key=f"checkout-cart-{number}-1", card_brand="Visa", card_last4="4242",
        placed_at="2025-03-01T12:00:00.123000+00:00",
    )


async def test_an_order_records_placed_answers_its_query_and_ends_after_its_lifetime(env):
    order = _order()
    async with Worker(env.client, task_queue=TASK_QUEUE, workflows=[OrderWorkflow]):
        handle = await env.client.start_workflow(
            OrderWorkflow.run, order, id=order_workflow_id(order.order_number), task_queue=TASK_QUEUE)

        view = await handle.query(OrderQueries.GET, result_type=OrderView)
        assert view.status == OrderStatus.PLACED
        assert view == OrderView(
            order_number=order.order_number, status=OrderStatus.PLACED, email=order.email,
            shipping_address=order.shipping_address, shipping_method="standard", lines=order.lines,
            totals=order.totals, card_brand="Visa", card_last4="4242", placed_at=order.placed_at)
        assert handle.id == f"order-{order.order_number}"

        # Nothing moves it on yet (a later issue signals it): it waits out its lifetime, then ends.
        started = await env.get_current_time()
        assert await handle.result() == OrderStatus.PLACED
        assert await env.get_current_time() - started >= ORDER_LIFETIME - timedelta(minutes=1)
        assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
        history = await record(handle, "order")

    replay = await Replayer(workflows=[OrderWorkflow]).replay_workflow(history, raise_on_replay_failure=False)
    assert replay.replay_failure is None


async def test_the_recorded_order_history_replays():
    path = HISTORY_DIR / "order.json"
    if not path.exists():
        pytest.skip("record it with RECORD_HISTORIES=1")
    from temporalio.client import WorkflowHistory

    history = WorkflowHistory.from_json("order", path.read_text())
    replay = await Replayer(workflows=[OrderWorkflow]).replay_workflow(history, raise_on_replay_failure=False)
    assert replay.replay_failure is None
