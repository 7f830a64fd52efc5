"""Staff's order functions against the real stack: a real Order workflow on real workers (manual
fulfillment, so nothing moves unless staff move it), the order list from the `orders` index, actions
applied once per action id, refusals with the workflow's reason, and an ended order shown from
Cassandra with no actions."""

import asyncio
import re
import uuid
from datetime import datetime

import pytest
from asgiref.sync import sync_to_async

from commerce.search import es, index_name
from orders import history, projection, staff
from orders import store as order_store
from orders.contracts import (
    TASK_QUEUE,
    OrderDetail,
    OrderErrors,
    OrderInput,
    OrderRecord,
    OrderStatus,
    OrderUpdates,
    OrderWorkflows,
    SupplierOrderStage,
    order_workflow_id,
)
from orders.numbers import new_order_number
from tests.order_helpers import placed_order
from tests.stock_helpers import fresh_sku

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog")]

STAFF = "staff:grace"
WAIT_SECONDS = 60


@pytest.fixture(autouse=True)
def oms_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.FULFILLMENT_MANUAL = True  # nothing ships unless staff advance it
    settings.ORDER_APPROVAL_THRESHOLD_CENTS = 10_000_000
    settings.FULFILLMENT_PROCESSING_SECONDS = 0.2
    settings.FULFILLMENT_SHIPPING_SECONDS = 0.2
    settings.FULFILLMENT_DELIVERY_SECONDS = 0.2


@pytest.fixture
def sku(catalog):
    """A fresh-stocked catalog SKU (each call a new one): planning finds its supplier's stock row."""
    taken = iter(catalog.variants[1800:1900])

    def take(on_hand: int = 10) -> str:
        variant = next(taken)
        fresh_sku(on_hand, sku=variant.sku)
        return variant.sku

    return take


async def start_order(temporal_client, sku: str, **kwargs) -> tuple[OrderInput, object]:
    order = await sync_to_async(placed_order)(sku, **kwargs)
    handle = await temporal_client.start_workflow(OrderWorkflows.ORDER, order, id=order_workflow_id(order.order_number),
                                                  task_queue=TASK_QUEUE)
    return order, handle


async def until(number: str, predicate, what: str) -> OrderDetail:
    detail = None
    for _ in range(WAIT_SECONDS * 10):
        detail = await sync_to_async(staff.order_detail)(number)
        if detail is not None and predicate(detail):
            return detail
        await asyncio.sleep(0.1)
    raise AssertionError(f"order {number} never {what}: {detail}")


def manual_step_offered(detail: OrderDetail) -> bool:
    return detail.status == OrderStatus.PROCESSING and bool(detail.supplier_orders) and all(
        state.manual_actions for state in detail.supplier_orders)


async def indexed(number: str, predicate) -> list[staff.OrderSummary]:
    rows = []
    for _ in range(WAIT_SECONDS * 10):
        es().indices.refresh(index=index_name("orders"))
        rows = await sync_to_async(staff.list_orders)(query=number)
        if rows and predicate(rows[0]):
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"order {number} never indexed as expected: {rows}")


# -- against a running order workflow -------------------------------------------------------------

@pytest.mark.usefixtures("running_workers")
async def test_staff_see_a_running_order_with_the_actions_allowed_now_and_find_it_in_the_list(
        temporal_client, sku):
    order, _ = await start_order(temporal_client, sku(), quantity=2, name="Grace Brewster")

    detail = await until(order.order_number, manual_step_offered, "offered a manual step")

    assert detail.order == order and detail.version > 0
    assert OrderUpdates.CANCEL in detail.allowed_actions and OrderUpdates.ADD_NOTE in detail.allowed_actions
    assert OrderUpdates.APPROVE not in detail.allowed_actions and OrderUpdates.REFUND not in detail.allowed_actions
    rows = await indexed(order.order_number, lambda row: row.status == OrderStatus.PROCESSING)
    assert [(r.order_number, r.item_count, r.total_cents, r.customer_name) for r in rows] == [
        (order.order_number, 2, order.totals.total_cents, "Grace Brewster")]
    by_name = await sync_to_async(staff.list_orders)(status=OrderStatus.PROCESSING, query="grace brewster")
    assert order.order_number in [row.order_number for row in by_name]


@pytest.mark.usefixtures("running_workers")
async def test_an_approval_sent_twice_with_one_action_id_applies_once(temporal_client, sku, settings):
    settings.ORDER_APPROVAL_THRESHOLD_CENTS = 1
    order, _ = await start_order(temporal_client, sku())
    number = order.order_number
    detail = await until(number, lambda d: d.status == OrderStatus.AWAITING_APPROVAL, "awaited approval")
    assert OrderUpdates.APPROVE in detail.allowed_actions
    rows = await indexed(number, lambda row: row.needs_approval)
    assert rows[0].status == OrderStatus.AWAITING_APPROVAL

    action = uuid.uuid4().hex
    first = await sync_to_async(staff.approve)(number, STAFF, action_id=action)
    again = await sync_to_async(staff.approve)(number, STAFF, action_id=action)

    assert first.applied and first.status == OrderStatus.PROCESSING
    assert again.status == OrderStatus.PROCESSING and (again == first or not again.applied)
    await until(number, manual_step_offered, "went on to fulfillment")
    approvals = [(t.to_status, t.actor) for t in await sync_to_async(history.read_history)(number)
                 if t.from_status == OrderStatus.AWAITING_APPROVAL]
    assert approvals == [(OrderStatus.PROCESSING, STAFF)]


@pytest.mark.usefixtures("running_workers")
async def test_refusals_carry_the_workflows_reason_and_change_nothing(temporal_client, sku):
    order, _ = await start_order(temporal_client, sku())
    number = order.order_number
    before = await until(number, manual_step_offered, "offered a manual step")

    with pytest.raises(staff.ActionRefused, match="(?i)approv|already processing") as not_awaiting:
        await sync_to_async(staff.approve)(number, STAFF)
    with pytest.raises(staff.ActionRefused, match="(?i)refund|ship") as nothing_shipped:
        await sync_to_async(staff.refund)(number, STAFF, "Nothing shipped yet", amount_cents=100)
    # Refused here, before anything is sent: a cancel needs a reason, a note has a length.
    with pytest.raises(staff.ActionRefused, match="reason") as no_reason:
        await sync_to_async(staff.cancel)(number, STAFF, "   ")
    with pytest.raises(staff.ActionRefused, match="too long"):
        await sync_to_async(staff.add_note)(number, STAFF, "x" * 2001)
    with pytest.raises(staff.ActionRefused, match="cents"):
        await sync_to_async(staff.refund)(number, STAFF, "Negative", amount_cents=-5)

    workflow_types = {value for name, value in vars(OrderErrors).items() if name.isupper()}
    assert not_awaiting.value.error_type in workflow_types and nothing_shipped.value.error_type in workflow_types
    assert no_reason.value.error_type == OrderErrors.INVALID_REQUEST
    after = await sync_to_async(staff.order_detail)(number)
    assert after.status == OrderStatus.PROCESSING and after.history == before.history and not after.notes


@pytest.mark.usefixtures("running_workers")
async def test_a_note_sent_twice_with_one_action_id_is_added_once(temporal_client, sku):
    order, _ = await start_order(temporal_client, sku())
    number = order.order_number
    await until(number, manual_step_offered, "offered a manual step")

    action = uuid.uuid4().hex
    await sync_to_async(staff.add_note)(number, STAFF, "Shopper called: gift wrap please", action_id=action)
    await sync_to_async(staff.add_note)(number, STAFF, "Shopper called: gift wrap please", action_id=action)

    detail = await sync_to_async(staff.order_detail)(number)
    assert [(note.actor, note.text) for note in detail.notes] == [(STAFF, "Shopper called: gift wrap please")]


@pytest.mark.usefixtures("running_workers")
async def test_advance_moves_each_manual_supplier_order_to_delivered_with_a_generated_tracking_number(
        temporal_client, sku, settings):
    settings.ORDER_REFUND_WINDOW_SECONDS = 0  # a delivered order's workflow ends at once
    order, handle = await start_order(temporal_client, sku())
    number = order.order_number
    await until(number, manual_step_offered, "offered a manual step")

    for stage in (SupplierOrderStage.PACKED, SupplierOrderStage.SHIPPED, SupplierOrderStage.DELIVERED):
        action = uuid.uuid4().hex
        steps = await sync_to_async(staff.advance)(number, STAFF, action_id=action)
        assert [(step.stage, step.refused) for step in steps] == [(stage, "")]
        if stage != SupplierOrderStage.DELIVERED:  # (delivered ends the supplier order: nothing to retry on)
            again = await sync_to_async(staff.advance)(number, STAFF, action_id=action)
            assert again == steps  # the same action id moves nothing twice
        await until(number, lambda d, stage=stage: d.supplier_orders[0].stage == stage, f"heard {stage}")

    assert await asyncio.wait_for(handle.result(), WAIT_SECONDS) == OrderStatus.DELIVERED
    detail = await sync_to_async(staff.order_detail)(number)  # the workflow has ended: from Cassandra
    assert detail.status == OrderStatus.DELIVERED and detail.allowed_actions == ()
    assert re.fullmatch(r"MAN[0-9]{10}", detail.supplier_orders[0].tracking_number)
    with pytest.raises(staff.ActionRefused) as closed:
        await sync_to_async(staff.advance)(number, STAFF)
    assert closed.value.error_type == staff.ORDER_CLOSED


@pytest.mark.usefixtures("running_workers")
async def test_a_cancelled_order_is_shown_from_cassandra_once_its_workflow_has_ended(temporal_client, sku):
    order, handle = await start_order(temporal_client, sku(), quantity=3)
    number = order.order_number
    await until(number, manual_step_offered, "offered a manual step")

    result = await sync_to_async(staff.cancel)(number, STAFF, "Customer asked by phone")
    assert result.applied and result.status == OrderStatus.CANCELLED
    assert await asyncio.wait_for(handle.result(), WAIT_SECONDS) == OrderStatus.CANCELLED

    detail = await sync_to_async(staff.order_detail)(number)
    assert detail.order == order and detail.status == OrderStatus.CANCELLED and detail.allowed_actions == ()
    assert detail.history[-1].to_status == OrderStatus.CANCELLED
    assert (detail.history[-1].actor, detail.history[-1].reason) == (STAFF, "Customer asked by phone")
    assert [state.stage for state in detail.supplier_orders] == [SupplierOrderStage.CANCELLED]
    with pytest.raises(staff.ActionRefused, match="closed") as closed:
        await sync_to_async(staff.approve)(number, STAFF)
    assert closed.value.error_type == staff.ORDER_CLOSED


# -- without a workflow ---------------------------------------------------------------------------------

def test_unknown_and_malformed_numbers_are_not_found():
    unknown = new_order_number(uuid.uuid4().int >> 78)

    assert staff.order_detail(unknown) is None
    assert staff.order_detail("not-a-number") is None
    with pytest.raises(staff.OrderNotFound, match="no order"):
        staff.approve(unknown, STAFF)
    with pytest.raises(staff.OrderNotFound, match="not an order number"):
        staff.cancel("HC-'; DROP", STAFF, "typo")
    with pytest.raises(staff.OrderNotFound):
        staff.advance(unknown, STAFF)
    assert order_store.read_order(unknown) is None


def test_an_order_without_a_workflow_is_rebuilt_from_cassandra_with_no_actions(sku):
    order = placed_order(sku(), quantity=2)
    projection.record(OrderRecord(OrderDetail(order=order, status=OrderStatus.PLACED, version=1,
                                              captured_cents=0)))

    detail = staff.order_detail(order.order_number.lower())  # read back as a person typed it

    assert detail.order == order and detail.status == OrderStatus.PLACED
    assert detail.allowed_actions == () and detail.version == 1


def test_the_order_list_filters_by_status_and_query_newest_first(sku):
    email = f"lister.{uuid.uuid4().hex[:8]}@example.com"
    orders = [placed_order(sku(), email=email, name="Lister Tester") for _ in range(3)]
    statuses = [OrderStatus.PROCESSING, OrderStatus.AWAITING_APPROVAL, OrderStatus.PROCESSING]
    for order, status in zip(orders, statuses, strict=True):
        projection.record(OrderRecord(OrderDetail(order=order, status=status, version=2)))
    es().indices.refresh(index=index_name("orders"))

    mine = staff.list_orders(query=email.upper())
    processing = staff.list_orders(status=OrderStatus.PROCESSING, query=email)
    waiting = staff.list_orders(status=OrderStatus.AWAITING_APPROVAL, query=email)

    assert [row.order_number for row in mine] == [order.order_number for order in reversed(orders)]
    assert datetime.fromisoformat(mine[0].placed_at) == datetime.fromisoformat(orders[-1].placed_at)
    assert [row.order_number for row in processing] == [orders[2].order_number, orders[0].order_number]
    assert [(row.order_number, row.needs_approval) for row in waiting] == [(orders[1].order_number, True)]
    assert [row.order_number for row in staff.list_orders(query=orders[1].order_number.lower())] == [
        orders[1].order_number]
    assert len(staff.list_orders(query=email, limit=1)) == 1
    with pytest.raises(ValueError):
        staff.list_orders(status="lost")
