"""An order waiting for approval past its deadline is cancelled by itself: on the time-skipping server
with the OMS's real activities, so the payment ledger, the stock rows, the history and the email are
the real ones."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core import mail
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from checkout import payments
from commerce.temporal import binary_path
from inventory.worker import ACTIVITIES as INVENTORY_ACTIVITIES
from inventory.worker import TASK_QUEUE as INVENTORY_QUEUE
from inventory.worker import WORKFLOWS as INVENTORY_WORKFLOWS
from orders import history
from orders import store as order_store
from orders.contracts import TASK_QUEUE, Actor, OrderDetail, OrderQueries, OrderStatus, order_workflow_id
from orders.worker import ACTIVITIES, WORKFLOWS
from tests.order_helpers import placed_order
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


async def test_an_order_not_approved_in_time_is_cancelled_voided_and_its_stock_released(
        skipping_env, catalog, settings):
    settings.ORDER_APPROVAL_THRESHOLD_CENTS = 1
    settings.ORDER_APPROVAL_TIMEOUT_SECONDS = 48 * 3600
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sku = catalog.variants[1940].sku
    fresh_sku(5, sku=sku)
    order = placed_order(sku, 2)
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
