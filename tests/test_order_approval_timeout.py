"""An order waiting for approval past its deadline is cancelled by itself: on the time-skipping server
with the OMS's real activities, so the payment ledger, the stock rows, the history and the email are
the real ones."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from checkout import payments
from checkout.contracts import Address, AuthorizeRequest, CheckoutLine, Totals
from commerce.temporal import binary_path
from inventory import stock
from inventory.worker import ACTIVITIES as INVENTORY_ACTIVITIES
from inventory.worker import TASK_QUEUE as INVENTORY_QUEUE
from inventory.worker import WORKFLOWS as INVENTORY_WORKFLOWS
from orders import history
from orders import store as order_store
from orders.contracts import TASK_QUEUE, Actor, OrderDetail, OrderInput, OrderQueries, OrderStatus, order_workflow_id
from orders.numbers import new_order_number
from orders.worker import ACTIVITIES, WORKFLOWS
from tests.stock_helpers import fresh_sku, levels

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]


@pytest.fixture
async def skipping_env():
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(binary_path("temporal-test-server")))
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with Worker(env.client, task_queue=TASK_QUEUE, workflows=WORKFLOWS, activities=ACTIVITIES,
                          activity_executor=executor), \
                Worker(env.client, task_queue=INVENTORY_QUEUE, workflows=INVENTORY_WORKFLOWS,
                       activities=INVENTORY_ACTIVITIES, activity_executor=executor):
            yield env
    await env.shutdown()


def _placed_order(sku: str, quantity: int) -> OrderInput:
    """What a checkout leaves behind: the hold confirmed, the payment authorized, the rows written."""
    number = new_order_number(uuid.uuid4().int >> 78)
    checkout_id = f"checkout-test-{number}-1"
    rid = f"{checkout_id}-{sku}"
    stock.hold(rid, sku, quantity, datetime.now(UTC) + timedelta(hours=1))
    stock.confirm(rid, sku)
    total = 2500 * quantity
    card = payments.tokenize("4242424242424242", 12, datetime.now(UTC).year + 2, "123", "Ada Shopper")
    authorization_key = f"{checkout_id}/payment-1"
    payments.authorize(AuthorizeRequest(authorization_key, card.token, total))
    order = OrderInput(
        order_number=number, checkout_id=checkout_id, cart_id=f"cart-{number}", email="ada@example.com",
        customer_id="", shipping_address=Address("ada@example.com", "Ada Shopper", "1 Main St", "", "Portland",
                                                 "OR", "97201"),
        shipping_method="standard",
        lines=(CheckoutLine(sku, "a-product", "A product", "Blue", "M", 2500, quantity, "", rid),),
        totals=Totals(total, 0, 0, 0, total), payment_authorization_key=authorization_key,
        card_brand=card.brand, card_last4=card.last4, placed_at=datetime.now(UTC).isoformat())
    order_store.write_order(order)
    return order


async def test_an_order_not_approved_in_time_is_cancelled_voided_and_its_stock_released(
        skipping_env, catalog, settings):
    settings.ORDER_APPROVAL_THRESHOLD_CENTS = 1
    settings.ORDER_APPROVAL_TIMEOUT_SECONDS = 48 * 3600
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sku = catalog.variants[1940].sku
    fresh_sku(5, sku=sku)
    order = _placed_order(sku, 2)
    assert levels(sku)[1] == 2

    handle = await skipping_env.client.start_workflow(
        "Order", order, id=order_workflow_id(order.order_number), task_queue=TASK_QUEUE)
    # Nobody approves: two days later the order has cancelled itself.
    await skipping_env.sleep(timedelta(hours=49))

    detail = await handle.query(OrderQueries.GET, result_type=OrderDetail)
    assert detail.status == OrderStatus.CANCELLED
    transitions = history.read_history(order.order_number)
    assert [t.to_status for t in transitions] == [OrderStatus.PLACED, OrderStatus.AWAITING_APPROVAL,
                                                  OrderStatus.CANCELLED]
    assert transitions[-1].actor == Actor.SYSTEM and transitions[-1].reason
    assert [(r.kind, r.status) for r in payments.ledger(order.payment_authorization_key)] == [
        ("authorize", "authorized"), ("void", "voided")]
    assert levels(sku) == (5, 0, {})
    assert len([m for m in mail.outbox if order.order_number in m.subject]) == 1
    assert order_store.read_order(order.order_number).status == OrderStatus.CANCELLED
