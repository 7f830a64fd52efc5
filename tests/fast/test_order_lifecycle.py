"""The order workflow's lifecycle on the time-skipping server, with fake activities registered under
the contract names (each keeps what it was asked, per order): approval, planning and fulfillment,
the begin_shipment handshake, supplier orders' progress, captures (re-authorized when the
authorization is old or the processor says it lapsed; a declined re-authorization holds the order for
staff), cancel, refunds, notes, refusals with their reasons and update-id idempotency. A history of
each branch is recorded (RECORD_HISTORIES=1 writes tests/histories/order_<branch>.json) and replayed."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner, Worker

from checkout.contracts import Address, CheckoutLine, PaymentErrors, PaymentResult, Totals
from commerce.temporal import binary_path
from fulfillment.contracts import FulfillmentRequest, FulfillmentUpdates
from identity.contracts import StoreConfig
from inventory.contracts import TASK_QUEUE as INVENTORY_QUEUE
from inventory.contracts import InventoryActivities
from orders.apportion import apportion
from orders.contracts import (
    TASK_QUEUE,
    ActionResult,
    Actor,
    CaptureRequest,
    FulfillmentStrategy,
    NoteRequest,
    OrderActivities,
    OrderDetail,
    OrderEmailKind,
    OrderEmailRequest,
    OrderErrors,
    OrderInput,
    OrderQueries,
    OrderRecord,
    OrderSettings,
    OrderSignals,
    OrderStatus,
    OrderUpdates,
    ReauthorizeRequest,
    RefundPaymentRequest,
    RefundRequest,
    ShipmentRequest,
    StaffAction,
    SupplierOrderEvent,
    SupplierOrderPlan,
    SupplierOrderStage,
    order_workflow_id,
    supplier_order_id,
)
from orders.numbers import new_order_number
from orders.workflows import LIFECYCLE_PATCH, ORDER_LIFETIME, OrderWorkflow
from tests.histories import record

LINES = (CheckoutLine("SKU-1", "linen-shirt", "Linen shirt", "Blue", "M", 2500, 2, "/img/1.svg", "r-1"),
         CheckoutLine("SKU-2", "mug", "Mug", "White", "One size", 1200, 1, "/img/2.svg", "r-2"))
TOTALS = Totals(subtotal_cents=6200, discount_cents=0, shipping_cents=595, tax_cents=0, total_cents=6795)
SHARES = apportion(TOTALS.total_cents, [line.line_total_cents for line in LINES])  # [5480, 1315]
STAFF = "staff.ada"
DAY = 24 * 3600


@dataclass
class Fakes:
    """One order's activities: what they were asked, and how they should answer."""

    settings: OrderSettings
    strategies: tuple[str, ...] = (FulfillmentStrategy.SIMULATED, FulfillmentStrategy.MANUAL)
    records: list[OrderRecord] = field(default_factory=list)
    planned: int = 0
    started: list[FulfillmentRequest] = field(default_factory=list)
    fulfillment_cancelled: list[str] = field(default_factory=list)
    captures: list[CaptureRequest] = field(default_factory=list)
    reauthorizations: list[ReauthorizeRequest] = field(default_factory=list)
    voids: list[str] = field(default_factory=list)
    refunds: list[RefundPaymentRequest] = field(default_factory=list)
    released: list[tuple[CheckoutLine, ...]] = field(default_factory=list)
    notified: list[list[str]] = field(default_factory=list)  # SKUs the inventory service was told of
    emails: list[OrderEmailRequest] = field(default_factory=list)
    declined_reauthorizations: int = 0  # the next ones are declined
    expired_captures: int = 0  # the next captures are refused: the authorization lapsed
    start_gate: asyncio.Event | None = None  # START_FULFILLMENT waits for it
    capture_gate: asyncio.Event | None = None  # CAPTURE waits for it
    log: list[str] = field(default_factory=list)  # the activities in the order they ran

    @property
    def captured(self) -> list[int]:
        return [capture.amount_cents for capture in self.captures]


FAKES: dict[str, Fakes] = {}


def _fakes() -> Fakes:
    number = activity.info().workflow_id.removeprefix("order-")
    return FAKES[number]


def _logged(name: str) -> Fakes:
    fakes = _fakes()
    fakes.log.append(name)
    return fakes


@activity.defn(name=OrderActivities.LOAD_SETTINGS)
async def load_settings() -> OrderSettings:
    return _logged("settings").settings


@activity.defn(name=OrderActivities.RECORD)
async def record_order(entry: OrderRecord) -> None:
    _logged("record").records.append(entry)


@activity.defn(name=OrderActivities.PLAN_SUPPLIER_ORDERS)
async def plan_supplier_orders(order: OrderInput) -> tuple[SupplierOrderPlan, ...]:
    fakes = _logged("plan")
    fakes.planned += 1
    shares = apportion(order.totals.total_cents, [line.line_total_cents for line in order.lines])
    return tuple(SupplierOrderPlan(supplier_order_id(order.order_number, index), index, f"sup-{index}",
                                   f"Supplier {index}", fakes.strategies[index - 1], (index - 1,), share)
                 for index, share in enumerate(shares, start=1))


@activity.defn(name=OrderActivities.START_FULFILLMENT)
async def start_fulfillment(request: FulfillmentRequest) -> None:
    fakes = _logged("start_fulfillment")
    if fakes.start_gate is not None:
        await fakes.start_gate.wait()
    fakes.started.append(request)


@activity.defn(name=OrderActivities.CANCEL_FULFILLMENT)
async def cancel_fulfillment(order_number: str) -> None:
    _logged("cancel_fulfillment").fulfillment_cancelled.append(order_number)


@activity.defn(name=OrderActivities.CAPTURE)
async def capture(request: CaptureRequest) -> PaymentResult:
    fakes = _logged("capture")
    if fakes.capture_gate is not None:
        await fakes.capture_gate.wait()
        fakes.log.append("captured")
    if fakes.expired_captures:
        fakes.expired_captures -= 1
        raise ApplicationError("The authorization has lapsed.", type=PaymentErrors.AUTHORIZATION_EXPIRED,
                               non_retryable=True)
    fakes.captures.append(request)
    return PaymentResult(request.idempotency_key, "capture", "captured", request.amount_cents,
                         request.authorization_key)


@activity.defn(name=OrderActivities.REAUTHORIZE)
async def reauthorize(request: ReauthorizeRequest) -> PaymentResult:
    fakes = _logged("reauthorize")
    if fakes.declined_reauthorizations:
        fakes.declined_reauthorizations -= 1
        raise ApplicationError("Your card was declined.", type=PaymentErrors.DECLINED, non_retryable=True)
    fakes.reauthorizations.append(request)
    return PaymentResult(request.idempotency_key, "authorize", "authorized", request.amount_cents,
                         request.idempotency_key)


@activity.defn(name=OrderActivities.VOID)
async def void(authorization_key: str) -> PaymentResult:
    _logged("void").voids.append(authorization_key)
    return PaymentResult(f"void:{authorization_key}", "void", "voided", TOTALS.total_cents, authorization_key)


@activity.defn(name=OrderActivities.REFUND)
async def refund(request: RefundPaymentRequest) -> PaymentResult:
    _logged("refund").refunds.append(request)
    return PaymentResult(request.idempotency_key, "refund", "refunded", request.amount_cents,
                         request.authorization_key)


@activity.defn(name=OrderActivities.RELEASE_STOCK)
async def release_stock(lines: tuple[CheckoutLine, ...]) -> int:
    _logged("release").released.append(tuple(lines))
    return len(lines)


@activity.defn(name=OrderActivities.SEND_EMAIL)
async def send_email(request: OrderEmailRequest) -> None:
    _logged("email").emails.append(request)


@activity.defn(name=InventoryActivities.NOTIFY_STOCK_CHANGED)
async def notify_stock_changed(skus: list[str]) -> None:
    _logged("notify").notified.append(list(skus))


ACTIVITIES = [load_settings, record_order, plan_supplier_orders, start_fulfillment, cancel_fulfillment, capture,
              reauthorize, void, refund, release_stock, send_email]


@pytest.fixture(scope="module")
async def env():
    """One test server and worker for the module (each test has its own order and fakes). Runs a test
    leaves open are not terminated: terminating makes the test server stop skipping time now and then;
    the environment's shutdown ends them."""
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(binary_path("temporal-test-server")))
    async with Worker(environment.client, task_queue=TASK_QUEUE, workflows=[OrderWorkflow], activities=ACTIVITIES), \
            Worker(environment.client, task_queue=INVENTORY_QUEUE, activities=[notify_stock_changed]):
        yield environment
    await environment.shutdown()


def settings(threshold_cents: int = 100_000, approval_hours: int = 48, validity_days: int = 7,
             refund_window_hours: int = 0) -> OrderSettings:
    """No refund window by default: a delivered order's run ends at once (tests read its result)."""
    return OrderSettings(StoreConfig(approval_threshold_cents=threshold_cents,
                                     approval_timeout_seconds=approval_hours * 3600,
                                     refund_window_seconds=refund_window_hours * 3600),
                         authorization_validity_seconds=validity_days * DAY)


@dataclass
class Order:
    """A running order workflow and its fakes."""

    handle: WorkflowHandle
    input: OrderInput
    fakes: Fakes

    @property
    def number(self) -> str:
        return self.input.order_number

    def so(self, index: int) -> str:
        return supplier_order_id(self.number, index)

    async def detail(self) -> OrderDetail:
        return await self.handle.query(OrderQueries.GET, result_type=OrderDetail)

    async def until(self, predicate, what: str) -> OrderDetail:
        """The detail once `predicate` holds and the workflow has recorded it: watched on the records
        (every change is recorded), then confirmed by the query (no newer version since)."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            last = self.fakes.records[-1].detail if self.fakes.records else None
            if last is not None and predicate(last):
                detail = await self.detail()
                if detail.version == last.version and predicate(detail):
                    return detail
            await asyncio.sleep(0.005)
        raise AssertionError(f"never {what}: {self.fakes.records[-1:]}")

    async def result(self) -> str:
        """The run's result once it has ended by itself. (Awaiting the result of a run still going lets
        the test server skip time: the lifetime timers of every run open would fire.)"""
        await self.until(lambda d: all(s.stage in (SupplierOrderStage.DELIVERED, SupplierOrderStage.CANCELLED)
                                       for s in d.supplier_orders), "supplier orders final")
        deadline = time.monotonic() + 20
        while (await self.handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            assert time.monotonic() < deadline, "the run never ended"
            await asyncio.sleep(0.005)
        return await self.handle.result()

    async def report(self, index: int, stage: str, tracking: str = "") -> None:
        await self.handle.signal(OrderSignals.SUPPLIER_ORDER_PROGRESS, SupplierOrderEvent(
            self.number, self.so(index), stage, datetime.now().isoformat(), tracking_number=tracking,
            carrier="Heron Post" if tracking else ""))

    async def reached(self, index: int, stage: str) -> OrderDetail:
        return await self.until(lambda d: d.supplier_orders[index - 1].stage == stage,
                                f"{self.so(index)} {stage}")

    async def ship(self, index: int, status: str) -> OrderDetail:
        """Begin and report the shipment, then wait until it is captured, emailed and the order `status`."""
        await self.begin(index)
        await self.report(index, SupplierOrderStage.SHIPPED, f"HRN00000000000{index}")
        return await self.until(lambda d: d.supplier_orders[index - 1].captured_cents > 0 and d.status == status
                                and any(e.key == f"shipped:{self.so(index)}" for e in self.fakes.emails)
                               , f"{self.so(index)} captured")

    async def begin(self, index: int) -> ActionResult:
        return await self.handle.execute_update(OrderUpdates.BEGIN_SHIPMENT, ShipmentRequest(self.so(index)),
                                                id=f"begin-shipment-{self.so(index)}", result_type=ActionResult)

    async def staff(self, name: str, request, update_id: str | None = None) -> ActionResult:
        return await self.handle.execute_update(name, request, id=update_id or uuid.uuid4().hex,
                                                result_type=ActionResult)

    async def refused(self, name: str, request) -> ApplicationError:
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await self.staff(name, request)
        assert isinstance(refused.value.cause, ApplicationError)
        return refused.value.cause

    def transitions(self) -> list[tuple[str, str, str]]:
        return [(r.transition.from_status, r.transition.to_status, r.transition.actor)
                for r in self.fakes.records if r.transition]


async def start(env: WorkflowEnvironment, fakes: Fakes | None = None, lines=LINES, totals=TOTALS,
                placed_at: datetime | None = None) -> Order:
    number = new_order_number(uuid.uuid4().int >> 78)
    placed_at = placed_at or await env.get_current_time()
    order = OrderInput(
        order_number=number, checkout_id=f"checkout-cart-{number}-1", cart_id=f"cart-{number}",
        email="shopper@example.com", customer_id="",
        shipping_address=Address("shopper@example.com", "Ada Shopper", "1 Main St", "", "Portland", "OR", "97201"),
        shipping_method="standard", lines=lines, totals=totals,
        payment_authorization_key=f"checkout-cart-{number}-1/payment-1", card_brand="Visa", card_last4="4242",
        placed_at=placed_at.isoformat())
    fakes = fakes or Fakes(settings())
    FAKES[number] = fakes
    handle = await env.client.start_workflow(OrderWorkflow.run, order, id=order_workflow_id(number),
                                             task_queue=TASK_QUEUE)
    return Order(handle, order, fakes)


async def processing(env: WorkflowEnvironment, fakes: Fakes | None = None) -> Order:
    order = await start(env, fakes)
    await order.until(lambda d: order.fakes.started, "fulfillment started")
    return order


async def replays(handle: WorkflowHandle, name: str) -> None:
    history = await record(handle, name)
    markers = [event.marker_recorded_event_attributes for event in history.events
               if event.HasField("marker_recorded_event_attributes")]
    assert any(LIFECYCLE_PATCH.encode() in marker.SerializeToString() for marker in markers)  # the new branch
    # Unsandboxed: the live worker ran it in the sandbox already; tests/test_replay.py replays it there too.
    replay = await Replayer(workflows=[OrderWorkflow], workflow_runner=UnsandboxedWorkflowRunner()).replay_workflow(
        history, raise_on_replay_failure=False)
    assert replay.replay_failure is None, replay.replay_failure


# -- processing to delivered -----------------------------------------------------------------------

async def test_an_order_ships_in_two_supplier_orders_and_is_delivered_with_captures_summing_to_the_total(env):
    order = await processing(env)
    placed = await order.detail()
    assert placed.status == OrderStatus.PROCESSING and placed.order == order.input
    assert [s.plan.amount_cents for s in placed.supplier_orders] == SHARES and sum(SHARES) == TOTALS.total_cents
    assert placed.allowed_actions == (OrderUpdates.CANCEL, OrderUpdates.ADD_NOTE)
    assert order.fakes.started[0].supplier_orders == tuple(s.plan for s in placed.supplier_orders)

    await order.report(2, SupplierOrderStage.ACCEPTED)
    accepted = await order.reached(2, SupplierOrderStage.ACCEPTED)
    assert accepted.supplier_orders[1].manual_actions == (FulfillmentUpdates.MARK_PACKED,)
    assert accepted.supplier_orders[0].manual_actions == ()  # simulated

    first = await order.ship(1, OrderStatus.PARTIALLY_SHIPPED)
    assert first.status == OrderStatus.PARTIALLY_SHIPPED and first.captured_cents == SHARES[0]
    assert first.supplier_orders[0].tracking_number == "HRN000000000001"
    # A repeated report, one that comes late (packed after shipped) and one of a supplier order the
    # order does not have change nothing.
    await order.report(1, SupplierOrderStage.SHIPPED, "HRN000000000001")
    await order.report(1, SupplierOrderStage.PACKED)
    await order.report(9, SupplierOrderStage.SHIPPED, "HRN000000000009")
    await order.report(1, SupplierOrderStage.DELIVERED)
    await order.reached(1, SupplierOrderStage.DELIVERED)
    assert order.fakes.captured == [SHARES[0]]

    await order.ship(2, OrderStatus.SHIPPED)
    await order.report(2, SupplierOrderStage.DELIVERED)
    assert await order.result() == OrderStatus.DELIVERED
    done = await order.detail()
    await replays(order.handle, "order_delivered")

    fakes = order.fakes
    assert fakes.captured == SHARES and sum(fakes.captured) == TOTALS.total_cents == done.captured_cents
    assert [s.plan.supplier_order_id for s in done.supplier_orders] == [order.so(1), order.so(2)]
    assert [c.idempotency_key for c in fakes.captures] == [f"{order.handle.id}/capture-{order.so(i)}" for i in (1, 2)]
    assert {c.authorization_key for c in fakes.captures} == {order.input.payment_authorization_key}
    assert [(e.kind, e.key, e.tracking_number) for e in fakes.emails] == [
        (OrderEmailKind.SHIPPED, f"shipped:{order.so(i)}", f"HRN00000000000{i}") for i in (1, 2)]
    assert order.transitions() == [
        ("", OrderStatus.PLACED, Actor.CHECKOUT), (OrderStatus.PLACED, OrderStatus.PROCESSING, Actor.SYSTEM),
        (OrderStatus.PROCESSING, OrderStatus.PARTIALLY_SHIPPED, Actor.SYSTEM),
        (OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, Actor.SYSTEM),
        (OrderStatus.SHIPPED, OrderStatus.DELIVERED, Actor.SYSTEM)]
    versions = [r.detail.version for r in fakes.records]
    assert versions == list(range(1, len(versions) + 1)) and done.version == versions[-1]
    assert [t.seq for t in done.history] == [1, 2, 3, 4, 5]
    assert fakes.voids == [] and fakes.released == [] and fakes.refunds == [] and fakes.reauthorizations == []


# -- approval --------------------------------------------------------------------------------------

async def test_an_order_above_the_threshold_waits_for_approval_and_goes_on_once_approved(env):
    order = await start(env, Fakes(settings(threshold_cents=5_000)))
    waiting = await order.until(lambda d: d.status == OrderStatus.AWAITING_APPROVAL,
                                "awaiting approval")
    assert waiting.allowed_actions == (OrderUpdates.APPROVE, OrderUpdates.CANCEL, OrderUpdates.ADD_NOTE)
    assert waiting.history[-1].reason == "total above the approval threshold of $50.00"
    assert datetime.fromisoformat(waiting.approval_deadline) - datetime.fromisoformat(
        waiting.history[-1].at) == timedelta(hours=48)
    assert order.fakes.planned == 0

    refused = await order.refused(OrderUpdates.APPROVE, StaffAction(""))
    assert refused.type == OrderErrors.INVALID_REQUEST
    approved = await order.staff(OrderUpdates.APPROVE, StaffAction(STAFF, "known customer"))
    assert (approved.applied, approved.status) == (True, OrderStatus.PROCESSING)
    detail = await order.until(lambda d: order.fakes.started, "fulfillment started")
    again = await order.refused(OrderUpdates.APPROVE, StaffAction(STAFF))
    await replays(order.handle, "order_approved")

    assert order.transitions()[1:] == [(OrderStatus.PLACED, OrderStatus.AWAITING_APPROVAL, Actor.SYSTEM),
                                       (OrderStatus.AWAITING_APPROVAL, OrderStatus.PROCESSING, STAFF)]
    assert detail.approval_deadline == "" and detail.history[-1].reason == "known customer"
    assert (again.type, again.message) == (OrderErrors.ILLEGAL_TRANSITION,
                                          "Only an order awaiting approval can be approved; this one is processing.")


async def test_an_order_not_approved_in_time_is_cancelled_voided_released_and_the_shopper_emailed(env):
    order = await start(env, Fakes(settings(threshold_cents=5_000, approval_hours=48)))
    assert await order.handle.result() == OrderStatus.CANCELLED
    done = await order.detail()
    await replays(order.handle, "order_approval_timeout")

    fakes = order.fakes
    assert done.history[-1].actor == Actor.SYSTEM and done.history[-1].reason == "not approved within 48 hours"
    assert fakes.voids == [order.input.payment_authorization_key] and fakes.released == [LINES]
    assert fakes.notified == [sorted(line.sku for line in LINES)]
    assert [(e.kind, e.key) for e in fakes.emails] == [(OrderEmailKind.CANCELLED, "cancelled")]
    assert fakes.planned == 0 and fakes.started == [] and fakes.fulfillment_cancelled == []
    assert fakes.log[-5:] == ["void", "release", "notify", "email", "record"]
    assert [p.kind for p in done.payments] == ["void"] and done.allowed_actions == (OrderUpdates.ADD_NOTE,)


# -- cancel and the begin_shipment handshake --------------------------------------------------------

async def test_staff_cancel_before_shipment_tells_fulfillment_voids_releases_and_emails(env):
    order = await processing(env)
    no_reason = await order.refused(OrderUpdates.CANCEL, StaffAction(STAFF, "  "))
    long_reason = await order.refused(OrderUpdates.CANCEL, StaffAction(STAFF, "x" * 501))
    result = await order.staff(OrderUpdates.CANCEL, StaffAction(STAFF, "shopper asked"))
    cancelled = await order.detail()
    approve = await order.refused(OrderUpdates.APPROVE, StaffAction(STAFF))
    for index in (1, 2):
        await order.report(index, SupplierOrderStage.CANCELLED)
    assert await order.result() == OrderStatus.CANCELLED
    await replays(order.handle, "order_cancelled")

    assert no_reason.type == long_reason.type == OrderErrors.INVALID_REQUEST
    assert (result.applied, result.status) == (True, OrderStatus.CANCELLED)
    assert cancelled.history[-1].reason == "shopper asked" and cancelled.history[-1].actor == STAFF
    assert approve.type == OrderErrors.ILLEGAL_TRANSITION and "cancelled" in approve.message
    fakes = order.fakes
    assert fakes.fulfillment_cancelled == [order.number] and fakes.voids == [order.input.payment_authorization_key]
    assert fakes.released == [LINES] and fakes.captures == []
    assert fakes.log.index("cancel_fulfillment") < fakes.log.index("void") < fakes.log.index("release")
    assert [(e.kind, e.reason) for e in fakes.emails] == [(OrderEmailKind.CANCELLED, "shopper asked")]


async def test_begin_shipment_is_refused_once_the_order_is_cancelled(env):
    order = await processing(env)
    await order.staff(OrderUpdates.CANCEL, StaffAction(STAFF, "fraud suspected"))
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await order.begin(1)
    with pytest.raises(WorkflowUpdateFailedError) as unknown:
        await order.handle.execute_update(OrderUpdates.BEGIN_SHIPMENT, ShipmentRequest("nope"),
                                          result_type=ActionResult)
    # Fulfillment never reports its supplier orders cancelled: after a day the order closes them.
    assert await order.handle.result() == OrderStatus.CANCELLED
    done = await order.detail()
    await replays(order.handle, "order_shipment_refused_after_cancel")

    assert refused.value.cause.type == OrderErrors.ORDER_CANCELLED and "cancelled" in refused.value.cause.message
    assert unknown.value.cause.type == OrderErrors.ORDER_CANCELLED
    assert {s.stage for s in done.supplier_orders} == {SupplierOrderStage.CANCELLED}
    assert not any(s.shipment_begun for s in done.supplier_orders)


async def test_cancel_is_refused_once_a_shipment_has_begun_and_notes_are_kept(env):
    order = await processing(env)
    begun = await order.begin(1)
    again = await order.begin(1)
    refused = await order.refused(OrderUpdates.CANCEL, StaffAction(STAFF, "too late"))
    noted = await order.staff(OrderUpdates.ADD_NOTE, NoteRequest(STAFF, "  Shopper asked to cancel; too late.  "))
    empty = await order.refused(OrderUpdates.ADD_NOTE, NoteRequest(STAFF, " "))
    long = await order.refused(OrderUpdates.ADD_NOTE, NoteRequest(STAFF, "x" * 2001))
    nobody = await order.refused(OrderUpdates.ADD_NOTE, NoteRequest("x" * 151, "hello"))
    retry = await order.refused(OrderUpdates.RETRY_PAYMENT, StaffAction(STAFF))
    approve = await order.refused(OrderUpdates.APPROVE, StaffAction(STAFF))
    detail = await order.until(lambda d: True, "recorded")
    await replays(order.handle, "order_cancel_refused_after_shipment")

    assert begun.applied and again.status == OrderStatus.PROCESSING
    assert refused.type == OrderErrors.NOT_ALLOWED_NOW and "a shipment has left" in refused.message
    assert detail.status == OrderStatus.PROCESSING and detail.supplier_orders[0].shipment_begun
    assert detail.allowed_actions == (OrderUpdates.ADD_NOTE,) and order.fakes.voids == []
    assert noted.applied and [(n.actor, n.text) for n in detail.notes] == [
        (STAFF, "Shopper asked to cancel; too late.")]
    assert empty.type == long.type == nobody.type == OrderErrors.INVALID_REQUEST
    assert retry.type == OrderErrors.NOT_ALLOWED_NOW and "not on hold" in retry.message
    assert approve.type == OrderErrors.ILLEGAL_TRANSITION and approve.message == (
        "Only an order awaiting approval can be approved; this one is processing.")


async def test_a_cancel_while_fulfillment_is_starting_waits_for_it_and_then_cancels_it(env):
    gate = asyncio.Event()
    order = await start(env, Fakes(settings(), start_gate=gate))
    await order.until(lambda d: "start_fulfillment" in order.fakes.log, "starting fulfillment")
    cancelling = asyncio.create_task(order.staff(OrderUpdates.CANCEL, StaffAction(STAFF, "changed my mind")))
    await order.until(lambda d: d.status == OrderStatus.CANCELLED, "cancelled")
    with pytest.raises(WorkflowUpdateFailedError):
        await order.begin(1)  # fulfillment, just started, is refused already
    assert order.fakes.fulfillment_cancelled == []
    gate.set()
    result = await cancelling
    for index in (1, 2):
        await order.report(index, SupplierOrderStage.CANCELLED)
    assert await order.result() == OrderStatus.CANCELLED
    await replays(order.handle, "order_cancelled_while_starting")

    fakes = order.fakes
    assert result.status == OrderStatus.CANCELLED and len(fakes.started) == 1
    assert fakes.log.index("start_fulfillment") < fakes.log.index("cancel_fulfillment")
    assert fakes.fulfillment_cancelled == [order.number] and len(fakes.voids) == len(fakes.released) == 1


# -- refunds -----------------------------------------------------------------------------------------

async def test_a_refund_waits_for_a_capture_in_flight(env):
    gate = asyncio.Event()
    order = await processing(env, Fakes(settings(), capture_gate=gate))
    gate.set()
    await order.ship(1, OrderStatus.PARTIALLY_SHIPPED)
    gate.clear()
    await order.begin(2)
    await order.report(2, SupplierOrderStage.SHIPPED, "HRN000000000002")
    await order.until(lambda d: order.fakes.log.count("capture") == 2, "capturing the second")
    refunding = await order.handle.start_update(  # accepted: it waits for the capture's lock
        OrderUpdates.REFUND, RefundRequest(STAFF, "first shipment", amount_cents=SHARES[0]),
        id="refund-during-capture", wait_for_stage=WorkflowUpdateStage.ACCEPTED, result_type=ActionResult)
    assert order.fakes.refunds == []
    gate.set()
    result = await refunding.result()
    await replays(order.handle, "order_refund_during_capture")

    log = [name for name in order.fakes.log if name in ("capture", "captured", "refund")]
    assert log == ["capture", "captured", "capture", "captured", "refund"]
    assert result.applied and order.fakes.captured == SHARES

async def test_a_partial_refund_by_amount_within_what_was_captured_applies_once_per_update_id(env):
    order = await processing(env)
    too_early = await order.refused(OrderUpdates.REFUND, RefundRequest(STAFF, "early", amount_cents=100))
    await order.ship(1, OrderStatus.PARTIALLY_SHIPPED)
    beyond = await order.refused(OrderUpdates.REFUND, RefundRequest(STAFF, "too much", amount_cents=SHARES[0] + 1))
    both = await order.refused(OrderUpdates.REFUND, RefundRequest(STAFF, "both", amount_cents=5, skus=("SKU-1",)))
    neither = await order.refused(OrderUpdates.REFUND, RefundRequest(STAFF, "neither"))
    unshipped = await order.refused(OrderUpdates.REFUND, RefundRequest(STAFF, "mug", skus=("SKU-2",)))
    request = RefundRequest(STAFF, "scratched", amount_cents=1000)
    result = await order.staff(OrderUpdates.REFUND, request, "refund-a")
    repeated = await order.staff(OrderUpdates.REFUND, request, "refund-a")  # the same action, sent again
    detail = await order.until(lambda d: order.fakes.emails[-1].kind == OrderEmailKind.REFUNDED,
                               "refund emailed")
    await replays(order.handle, "order_refund_amount")

    assert too_early.type == OrderErrors.NOT_ALLOWED_NOW and "processing" in too_early.message
    assert beyond.type == OrderErrors.REFUND_EXCEEDS_CAPTURED and "$54.80" in beyond.message
    assert both.type == neither.type == unshipped.type == OrderErrors.INVALID_REQUEST
    assert (result.applied, result.status, result.message) == (True, OrderStatus.PARTIALLY_SHIPPED, "Refunded $10.00.")
    assert repeated.status == result.status and repeated.message == result.message
    assert order.fakes.refunds == [RefundPaymentRequest(order.input.payment_authorization_key, 1000,
                                                        f"{order.handle.id}/refund-refund-a-1")]
    assert detail.refunded_cents == 1000 and detail.status == OrderStatus.PARTIALLY_SHIPPED
    email = order.fakes.emails[-1]
    assert (email.key, email.amount_cents, email.reason) == ("refund:refund-a", 1000, "scratched")


async def test_supplier_orders_shipping_at_once_are_captured_once_and_a_line_refunded_by_its_share(env):
    order = await processing(env)
    # (Never the same update id twice at once here: the test server then stops skipping time.)
    await asyncio.gather(order.begin(1), order.begin(2))
    await asyncio.gather(*(order.report(i, SupplierOrderStage.SHIPPED, f"HRN00000000000{i}") for i in (1, 2, 1, 2)))
    shipped = await order.until(lambda d: d.captured_cents == TOTALS.total_cents and d.status == OrderStatus.SHIPPED
                                and len(order.fakes.emails) == 2, "captured")
    result = await order.staff(OrderUpdates.REFUND, RefundRequest(STAFF, "broken mug", skus=("SKU-2",)))
    twice = await order.refused(OrderUpdates.REFUND, RefundRequest(STAFF, "again", skus=("SKU-2",)))
    unknown = await order.refused(OrderUpdates.REFUND, RefundRequest(STAFF, "what", skus=("SKU-9",)))
    cancel = await order.refused(OrderUpdates.CANCEL, StaffAction(STAFF, "too late"))
    detail = await order.until(lambda d: True, "recorded")
    await replays(order.handle, "order_refund_lines")

    assert sorted(order.fakes.captured) == sorted(SHARES) and len(order.fakes.emails) == 3
    assert shipped.allowed_actions == (OrderUpdates.REFUND, OrderUpdates.ADD_NOTE)
    assert shipped.history[-1].from_status == OrderStatus.PROCESSING  # straight to shipped
    assert result.message == "Refunded $13.15." and [r.amount_cents for r in order.fakes.refunds] == [SHARES[1]]
    assert twice.type == unknown.type == OrderErrors.INVALID_REQUEST and "before" in twice.message
    assert (cancel.type, cancel.message) == (OrderErrors.ILLEGAL_TRANSITION, "An order that is shipped cannot become "
                                                                             "cancelled (only: delivered, refunded).")
    assert detail.refunded_skus == ("SKU-2",) and detail.status == OrderStatus.SHIPPED
    assert order.fakes.emails[-1].skus == ("SKU-2",)


async def test_refunding_everything_after_shipment_makes_the_order_refunded_and_it_ends_once_delivered(env):
    order = await processing(env)
    await order.ship(1, OrderStatus.PARTIALLY_SHIPPED)
    await order.ship(2, OrderStatus.SHIPPED)
    result = await order.staff(OrderUpdates.REFUND, RefundRequest(STAFF, "lost parcel",
                                                                  amount_cents=TOTALS.total_cents))
    refunded = await order.detail()
    more = await order.refused(OrderUpdates.REFUND, RefundRequest(STAFF, "more", amount_cents=1))
    for index in (1, 2):
        await order.report(index, SupplierOrderStage.DELIVERED)
    assert await order.result() == OrderStatus.REFUNDED
    done = await order.detail()
    await replays(order.handle, "order_refunded")

    assert result.status == OrderStatus.REFUNDED and refunded.refunded_cents == TOTALS.total_cents
    assert refunded.history[-1].actor == STAFF and refunded.history[-1].reason == "lost parcel"
    assert more.type == OrderErrors.ILLEGAL_TRANSITION and "refunded" in more.message
    assert sum(r.amount_cents for r in order.fakes.refunds) == TOTALS.total_cents
    assert {s.stage for s in done.supplier_orders} == {SupplierOrderStage.DELIVERED}
    assert done.status == OrderStatus.REFUNDED  # the deliveries after the refund do not move it back


async def test_a_delivered_order_stays_open_for_refunds_until_its_window_closes(env):
    returned = await processing(env, Fakes(settings(refund_window_hours=24)))
    kept = await processing(env, Fakes(settings(refund_window_hours=24)))
    for order in (returned, kept):
        await order.ship(1, OrderStatus.PARTIALLY_SHIPPED)
        await order.ship(2, OrderStatus.SHIPPED)
        for index in (1, 2):
            await order.report(index, SupplierOrderStage.DELIVERED)
        await order.until(lambda d: d.status == OrderStatus.DELIVERED, "delivered")

    # A return a few hours after delivery: the whole order is refunded and its run ends.
    await env.sleep(timedelta(hours=3))
    result = await returned.staff(OrderUpdates.REFUND, RefundRequest(STAFF, "returned",
                                                                     amount_cents=TOTALS.total_cents))
    assert result.status == OrderStatus.REFUNDED
    deadline = time.monotonic() + 20
    while (await returned.handle.describe()).status == WorkflowExecutionStatus.RUNNING:
        assert time.monotonic() < deadline, "the refunded order's run never ended"
        await asyncio.sleep(0.005)
    # (Read before any result is awaited: awaiting one lets the test server skip to the next timer.)
    assert (await kept.handle.describe()).status == WorkflowExecutionStatus.RUNNING

    # Nobody asks: the other order's run ends once its window has passed, still delivered.
    await env.sleep(timedelta(hours=22))
    assert await kept.result() == OrderStatus.DELIVERED
    assert await returned.result() == OrderStatus.REFUNDED
    await replays(returned.handle, "order_refunded_after_delivery")
    await replays(kept.handle, "order_refund_window_closed")


# -- payments ---------------------------------------------------------------------------------------

async def test_an_old_authorization_is_renewed_before_a_capture_and_a_refund_is_split_newest_first(env):
    order = await processing(env, Fakes(settings(validity_days=2)))
    await order.ship(1, OrderStatus.PARTIALLY_SHIPPED)
    await env.sleep(timedelta(days=1, hours=23, minutes=1))  # within the hour before it lapses
    detail = await order.ship(2, OrderStatus.SHIPPED)
    refund = await order.staff(OrderUpdates.REFUND, RefundRequest(STAFF, "all", amount_cents=TOTALS.total_cents), "r")
    await replays(order.handle, "order_reauthorized")

    fakes, key = order.fakes, f"{order.handle.id}/reauth-1"
    old = order.input.payment_authorization_key
    assert fakes.reauthorizations == [ReauthorizeRequest(old, SHARES[1], key)]  # what is left to capture
    assert [c.authorization_key for c in fakes.captures] == [old, key] and fakes.captured == SHARES
    assert detail.authorization_key == key and detail.authorized_cents == SHARES[1]
    assert [p.kind for p in detail.payments] == ["capture", "authorize", "capture"]
    assert [(r.authorization_key, r.amount_cents, r.idempotency_key) for r in fakes.refunds] == [
        (key, SHARES[1], f"{order.handle.id}/refund-r-1"), (old, SHARES[0], f"{order.handle.id}/refund-r-2")]
    assert refund.status == OrderStatus.REFUNDED


async def test_a_declined_reauthorization_holds_the_capture_until_staff_retry_the_payment(env):
    order = await processing(env, Fakes(settings(validity_days=2), declined_reauthorizations=1))
    await order.ship(1, OrderStatus.PARTIALLY_SHIPPED)
    await env.sleep(timedelta(days=3))
    await order.begin(2)
    await order.report(2, SupplierOrderStage.SHIPPED, "HRN000000000002")
    held = await order.until(lambda d: d.payment_hold_reason, "on hold")
    await order.report(2, SupplierOrderStage.DELIVERED)
    await order.report(1, SupplierOrderStage.DELIVERED)
    delivered = await order.until(lambda d: d.status == OrderStatus.DELIVERED, "delivered")
    assert (await order.handle.describe()).status == WorkflowExecutionStatus.RUNNING  # the capture waits

    result = await order.staff(OrderUpdates.RETRY_PAYMENT, StaffAction(STAFF, "shopper updated the card"))
    assert await order.result() == OrderStatus.DELIVERED
    done = await order.detail()
    await replays(order.handle, "order_payment_hold")

    assert held.payment_hold_reason == ("The payment could not be re-authorized: Your card was declined. Staff: ask "
                                        "the shopper for another card, retry, or refund.")
    assert OrderUpdates.RETRY_PAYMENT in held.allowed_actions and held.captured_cents == SHARES[0]
    assert delivered.captured_cents == SHARES[0] and result.applied and done.payment_hold_reason == ""
    fakes = order.fakes
    assert fakes.reauthorizations == [ReauthorizeRequest(order.input.payment_authorization_key, SHARES[1],
                                                         f"{order.handle.id}/reauth-2")]
    assert fakes.captured == SHARES and fakes.captures[1].authorization_key == f"{order.handle.id}/reauth-2"
    assert [(p.kind, p.status) for p in done.payments] == [
        ("capture", "captured"), ("authorize", "failed"), ("authorize", "authorized"), ("capture", "captured")]


async def test_a_capture_refused_as_expired_reauthorizes_and_captures(env):
    order = await processing(env, Fakes(settings(), expired_captures=1))
    detail = await order.ship(1, OrderStatus.PARTIALLY_SHIPPED)
    await replays(order.handle, "order_capture_expired")

    key = f"{order.handle.id}/reauth-1"
    assert order.fakes.reauthorizations == [ReauthorizeRequest(order.input.payment_authorization_key,
                                                               TOTALS.total_cents, key)]
    assert order.fakes.captures == [CaptureRequest(key, SHARES[0], f"{order.handle.id}/capture-{order.so(1)}",
                                                   order.so(1))]
    assert [(p.kind, p.status) for p in detail.payments] == [
        ("capture", "failed"), ("authorize", "authorized"), ("capture", "captured")]
    assert detail.payment_hold_reason == "" and detail.status == OrderStatus.PARTIALLY_SHIPPED


# -- last: it skips a year, which also ends every run the tests above left open ----------------------

async def test_an_order_that_fulfillment_never_moves_on_ends_after_its_lifetime(env):
    order = await processing(env)
    started = await env.get_current_time()
    assert await order.handle.result() == OrderStatus.PROCESSING
    assert await env.get_current_time() - started >= ORDER_LIFETIME - timedelta(minutes=1)
    await replays(order.handle, "order_lifetime")
