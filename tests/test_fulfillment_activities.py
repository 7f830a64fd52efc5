"""Fulfillment's activities against the real stack: COMMIT_STOCK takes a confirmed hold's units off the
shelf once and refuses a hold the order does not own; BEGIN_SHIPMENT against an order workflow that is
not running fails clearly and for good; the partner activities turn the partner's answers into
retryable and non-retryable errors; LOAD_TIMINGS reads the settings. Last, all of them on the real
fulfillment worker: a dropship and a simulated supplier order delivered against the partner's tables
and the stock rows, reporting to a stand-in order workflow; and a manual one moved by staff through
fulfillment's services, which answer refusals with the workflow's reason."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from checkout.contracts import Address, CheckoutLine
from fulfillment import partner, services
from fulfillment.activities import (
    ORDER_NOT_RUNNING,
    begin_shipment,
    commit_stock,
    load_timings,
    partner_release,
    partner_status,
    partner_submit,
)
from fulfillment.contracts import (
    TASK_QUEUE,
    BeginShipment,
    CommitStock,
    FulfillmentErrors,
    FulfillmentRequest,
    FulfillmentTimings,
    FulfillmentWorkflows,
    PartnerOrder,
    PartnerStage,
    SupplierOrderView,
    fulfillment_workflow_id,
)
from inventory import stock
from inventory.contracts import StockErrors
from orders.contracts import (
    ActionResult,
    FulfillmentStrategy,
    OrderSignals,
    OrderUpdates,
    ShipmentRequest,
    SupplierOrderEvent,
    SupplierOrderPlan,
    SupplierOrderStage,
    order_workflow_id,
    supplier_order_id,
)
from orders.numbers import new_order_number
from tests.stock_helpers import fresh_sku, levels

pytestmark = pytest.mark.usefixtures("cassandra_schema")

ADDRESS = Address("ada@example.com", "Ada Lovelace", "1 Loop Rd", "", "Portland", "OR", "97201")


def _line(sku: str, rid: str, quantity: int) -> CheckoutLine:
    return CheckoutLine(sku, "shirt", "Shirt", "Blue", "M", 2500, quantity, "/a.svg", rid)


def _held(on_hand: int, quantity: int, confirmed: bool = True) -> CheckoutLine:
    sku = fresh_sku(on_hand)
    rid = f"cart-{uuid.uuid4().hex[:8]}-{sku}"
    stock.hold(rid, sku, quantity, datetime.now(UTC) + timedelta(minutes=15))
    if confirmed:
        stock.confirm(rid, sku)
    return _line(sku, rid, quantity)


def _refusal(call, *args) -> ApplicationError:
    with pytest.raises(ApplicationError) as refused:
        ActivityEnvironment().run(call, *args)
    return refused.value


def test_commit_stock_takes_confirmed_holds_off_the_shelf_once():
    shirts, hats = _held(on_hand=5, quantity=2), _held(on_hand=3, quantity=1)
    request = CommitStock("HC-TEST-so-1", (shirts, hats))

    ActivityEnvironment().run(commit_stock, request)
    ActivityEnvironment().run(commit_stock, request)  # a retried activity commits nothing twice

    assert levels(shirts.sku) == (3, 0, {}) and levels(hats.sku) == (2, 0, {})


def test_commit_stock_refuses_a_hold_the_order_does_not_own_and_changes_nothing():
    unconfirmed = _held(on_hand=5, quantity=2, confirmed=False)
    released = _held(on_hand=4, quantity=1)
    stock.release(released.reservation_id, released.sku)

    not_confirmed = _refusal(commit_stock, CommitStock("HC-TEST-so-1", (unconfirmed,)))
    gone = _refusal(commit_stock, CommitStock("HC-TEST-so-2", (released,)))

    for refusal in (not_confirmed, gone):
        assert refusal.type == StockErrors.HOLD_NOT_ACTIVE and refusal.non_retryable
        assert "cannot ship Shirt" in refusal.message and "not held" in refusal.message
    assert levels(unconfirmed.sku) == (5, 2, {unconfirmed.reservation_id: 2})
    assert levels(released.sku) == (4, 0, {})


async def test_begin_shipment_of_an_order_whose_workflow_is_not_running_fails_clearly(temporal_client):
    number = new_order_number(uuid.uuid4().int >> 78)

    with pytest.raises(ApplicationError) as failed:
        await ActivityEnvironment(client=temporal_client).run(begin_shipment, BeginShipment(number, f"{number}-so-1"))

    assert failed.value.type == ORDER_NOT_RUNNING and failed.value.non_retryable
    assert f"order-{number} is not running" in failed.value.message and f"{number}-so-1" in failed.value.message


def test_partner_activities_make_transient_failures_retryable_and_refusals_final(settings):
    settings.FULFILLMENT_PROCESSING_SECONDS = 3600
    settings.DROPSHIP_FAILURE_RATE = 0.0
    partner_order_id = ActivityEnvironment().run(
        partner_submit, PartnerOrder(f"HC-TEST{uuid.uuid4().hex[:6]}-so-1", (_line("SKU-A", "r-a", 1),), ADDRESS))

    early = _refusal(partner_release, partner_order_id)
    settings.DROPSHIP_FAILURE_RATE = 0.9
    transient = None
    for _ in range(50):
        try:
            ActivityEnvironment().run(partner_status, partner_order_id)
        except ApplicationError as error:
            transient = error
            break

    assert early.type == "PartnerRefused" and early.non_retryable and "not packed" in early.message
    assert transient is not None and transient.type == FulfillmentErrors.PARTNER_UNAVAILABLE
    assert not transient.non_retryable
    assert partner.read(partner_order_id).failures == 1


def test_load_timings_reads_the_settings_and_bounds_them(settings):
    settings.FULFILLMENT_PROCESSING_SECONDS = 1.5
    settings.FULFILLMENT_SHIPPING_SECONDS = 0
    settings.FULFILLMENT_DELIVERY_SECONDS = -5
    settings.DROPSHIP_POLL_SECONDS = 2

    timings = ActivityEnvironment().run(load_timings)

    assert timings == FulfillmentTimings(processing_seconds=1.5, shipping_seconds=0.0, delivery_seconds=0.0,
                                         partner_poll_seconds=2.0)


@workflow.defn(name="Order", sandboxed=False)
class StandInOrder:
    """The order's side of the handshake only: records the reports, accepts begin_shipment."""

    def __init__(self) -> None:
        self.events: list[SupplierOrderEvent] = []
        self.begun: list[str] = []

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal(name=OrderSignals.SUPPLIER_ORDER_PROGRESS)
    def progress(self, event: SupplierOrderEvent) -> None:
        self.events.append(event)

    @workflow.update(name=OrderUpdates.BEGIN_SHIPMENT)
    def begin_shipment(self, request: ShipmentRequest) -> ActionResult:
        self.begun.append(request.supplier_order_id)
        return ActionResult(OrderUpdates.BEGIN_SHIPMENT, True, "processing")

    @workflow.query
    def reports(self) -> list[SupplierOrderEvent]:
        return self.events


@pytest.mark.usefixtures("running_workers")
async def test_the_fulfillment_worker_delivers_a_dropship_and_a_simulated_supplier_order(settings, temporal_client):
    for name in ("FULFILLMENT_PROCESSING_SECONDS", "FULFILLMENT_SHIPPING_SECONDS", "FULFILLMENT_DELIVERY_SECONDS",
                 "DROPSHIP_POLL_SECONDS"):
        setattr(settings, name, 0.2)
    settings.DROPSHIP_FAILURE_RATE = 0.3
    dropshipped, simulated = _held(on_hand=5, quantity=2), _held(on_hand=5, quantity=1)
    number = new_order_number(uuid.uuid4().int >> 78)
    plans = tuple(SupplierOrderPlan(supplier_order_id(number, index), index, f"supplier-{index}", "Supplier",
                                    strategy, (index - 1,), 1000)
                  for index, strategy in ((1, FulfillmentStrategy.DROPSHIP), (2, FulfillmentStrategy.SIMULATED)))
    queue = f"test-oms-{number}"
    async with Worker(temporal_client, task_queue=queue, workflows=[StandInOrder]):
        order = await temporal_client.start_workflow(StandInOrder.run, id=order_workflow_id(number), task_queue=queue)
        handle = await temporal_client.start_workflow(
            FulfillmentWorkflows.FULFILLMENT, FulfillmentRequest(number, ADDRESS, (dropshipped, simulated), plans),
            id=fulfillment_workflow_id(number), task_queue=TASK_QUEUE, result_type=list[SupplierOrderView])
        try:
            views = await asyncio.wait_for(handle.result(), timeout=120)
            reports = await order.query(StandInOrder.reports)
        finally:
            await order.terminate("test done")

    forward = [SupplierOrderStage.ACCEPTED, SupplierOrderStage.PACKED, SupplierOrderStage.SHIPPED,
               SupplierOrderStage.DELIVERED]
    for index in (1, 2):
        assert [e.stage for e in reports if e.supplier_order_id == supplier_order_id(number, index)] == forward
    dropship_view, simulated_view = views
    assert dropship_view.tracking_number.startswith("NW") and simulated_view.tracking_number.startswith("HRN")
    record = await asyncio.to_thread(partner.read, dropship_view.partner_order_id)
    assert record.reference == supplier_order_id(number, 1) and record.status == PartnerStage.DELIVERED
    assert record.tracking_number == dropship_view.tracking_number
    assert await asyncio.to_thread(levels, dropshipped.sku) == (3, 0, {})
    assert await asyncio.to_thread(levels, simulated.sku) == (4, 0, {})


@pytest.mark.usefixtures("running_workers")
async def test_staff_move_a_manual_supplier_order_through_the_services_and_wrong_steps_get_the_reason(
        temporal_client, monkeypatch):
    line = _held(on_hand=4, quantity=1)
    number = new_order_number(uuid.uuid4().int >> 78)
    plan = SupplierOrderPlan(supplier_order_id(number, 1), 1, "workshop", "Workshop", FulfillmentStrategy.MANUAL,
                             (0,), 1000)
    queue, staff = f"test-oms-{number}", "staff:ada"
    async with Worker(temporal_client, task_queue=queue, workflows=[StandInOrder]):
        order = await temporal_client.start_workflow(StandInOrder.run, id=order_workflow_id(number), task_queue=queue)
        # Staff may act the moment the order is placed: the service waits for fulfillment to start.
        packing = asyncio.create_task(services.amark_packed(number, 1, staff, action_id=f"pack-{number}"))
        await asyncio.sleep(0.3)
        handle = await temporal_client.start_workflow(
            FulfillmentWorkflows.FULFILLMENT, FulfillmentRequest(number, ADDRESS, (line,), (plan,)),
            id=fulfillment_workflow_id(number), task_queue=TASK_QUEUE, result_type=list[SupplierOrderView])
        try:
            packed = await packing
            again = await sync_to_async(services.mark_packed)(number, 1, staff, f"pack-{number}")
            with pytest.raises(services.FulfillmentRefusal) as early:
                await services.amark_delivered(number, 1, staff)
            with pytest.raises(services.FulfillmentRefusal) as bad_tracking:
                await services.amark_shipped(number, 1, staff, "no spaces allowed")
            shipped = await sync_to_async(services.mark_shipped)(number, 1, staff, "TRACK-12345", "Heron Post")
            delivered = await services.amark_delivered(number, 1, staff)
            await asyncio.wait_for(handle.result(), timeout=30)
            with pytest.raises(services.FulfillmentRefusal) as ended:
                await services.amark_delivered(number, 1, staff)
            monkeypatch.setattr(services, "START_WAIT_SECONDS", 0.5)  # not 10 s for one that never starts
            with pytest.raises(services.FulfillmentRefusal) as unknown:
                await services.amark_packed(number, 2, staff)
            view = await services.asupplier_order(number, 1)
            missing = await services.asupplier_order(number, 2)
            reports = await order.query(StandInOrder.reports)
        finally:
            await order.terminate("test done")

    assert packed.stage == SupplierOrderStage.PACKED and again == packed
    assert early.value.error_type == FulfillmentErrors.WRONG_STAGE and "packed stage" in str(early.value)
    assert bad_tracking.value.error_type == FulfillmentErrors.INVALID_TRACKING
    assert (shipped.stage, shipped.tracking_number, shipped.carrier) == ("shipped", "TRACK-12345", "Heron Post")
    assert delivered.stage == SupplierOrderStage.DELIVERED == view.stage and missing is None
    assert ended.value.error_type == services.ENDED
    assert "no longer being fulfilled (it is delivered)" in str(ended.value)
    assert unknown.value.error_type == services.NOT_FOUND
    assert [(e.stage, e.actor) for e in reports] == [("accepted", "fulfillment"), ("packed", staff),
                                                    ("shipped", staff), ("delivered", staff)]
    assert await asyncio.to_thread(levels, line.sku) == (3, 0, {})
