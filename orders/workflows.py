"""Workflows of the OMS. Deterministic: no Django, no I/O here (activities do that).

`OrderWorkflow` (`order-{order_number}`, queue `oms`): started by a checkout activity once the
order is written to Cassandra, the payment authorized for the total and every line's hold confirmed,
with the `OrderInput` the checkout placed (its id and input are the contract the OMS keeps).

1. It loads its settings (`order_load_settings`) and records `placed`.
2. An order above the approval threshold waits in `awaiting_approval` for staff's `approve` or
   `cancel`, at most the configured time, then is cancelled by the system.
3. It plans one supplier order per supplier (`order_plan_supplier_orders`; their amounts sum to the
   total), moves to `processing` and starts fulfillment (`order_start_fulfillment`).
4. Fulfillment reports each supplier order's stage by the `supplier_order_progress` signal (stale or
   repeated reports are ignored). Before goods leave, fulfillment asks `begin_shipment`: refused once
   the order is cancelled; accepted, it makes cancel impossible. A shipped supplier order's share is
   captured (re-authorizing first when the authorization is about to lapse, or when the processor says
   it has), the shopper is emailed, and the order's status follows its supplier orders
   (partially_shipped, shipped, delivered) through the transition table.
5. Staff act through updates (`approve`, `cancel`, `refund`, `add_note`, `retry_payment`), each with a
   validator that refuses with a readable reason; the update id is the action's idempotency key (a
   re-sent id answers its first result, checked before anything else); an action decided on another
   `version` of the order than the current one (`expected_version`) is refused as stale. Money
   operations (captures, re-authorizations, refunds, the void) run one at a time under a lock.
6. Every change is written by `order_record` with a bumped version (and the transition, if any).

The order ends when it is cancelled or refunded, or delivered and its refund window (`StoreConfig.
refund_window_seconds`) has passed, and every supplier order is delivered or cancelled (at most
`ORDER_LIFETIME` after it started). It never continues as new: an order's history
is small and bounded (a few dozen activities: one record per change, one capture per supplier order,
a handful of staff actions and notes, capped at `MAX_NOTES`).

Runs started before the lifecycle (they recorded `placed` and waited) keep replaying: the lifecycle is
behind `workflow.patched("oms-lifecycle")`, the old branch waits as it did.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from checkout.contracts import PaymentErrors, PaymentResult
    from fulfillment.contracts import FulfillmentRequest, FulfillmentUpdates
    from identity.contracts import StoreConfig
    from inventory.contracts import TASK_QUEUE as INVENTORY_QUEUE
    from inventory.contracts import InventoryActivities
    from orders.apportion import apportion
    from orders.contracts import (
        MAX_ACTOR_LENGTH,
        MAX_NOTE_LENGTH,
        MAX_REASON_LENGTH,
        MAX_TRACKING_LENGTH,
        ActionResult,
        Actor,
        CaptureRequest,
        FulfillmentStrategy,
        LinkOrdersRequest,
        Note,
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
        OrderWorkflows,
        PaymentEntry,
        ReauthorizeRequest,
        RefundPaymentRequest,
        RefundRequest,
        ShipmentRequest,
        StaffAction,
        SupplierOrderEvent,
        SupplierOrderPlan,
        SupplierOrderStage,
        SupplierOrderState,
        Transition,
    )
    from orders.transitions import IllegalTransition, can_move, check_move, status_of_shipments

LIFECYCLE_PATCH = "oms-lifecycle"
# An order left open this long ends anyway (nothing is delivered a year after it was placed).
ORDER_LIFETIME = timedelta(days=365)
FINAL_STATUSES = frozenset(OrderStatus.FINAL)
# An authorization is renewed this long before the processor would let it lapse.
REAUTHORIZE_MARGIN = timedelta(hours=1)
# After a cancel, fulfillment has this long to report its supplier orders cancelled; then the order
# closes them itself (none can ship: begin_shipment is refused once the order is cancelled).
CANCEL_GRACE = timedelta(days=1)
MAX_NOTES = 200
MAX_EVENT_TEXT = 64  # carrier, timestamps and messages of a fulfillment report
MAX_APPROVAL_TIMEOUT_SECONDS = 90 * 24 * 3600
MAX_VALIDITY_SECONDS = 366 * 24 * 3600
MAX_REFUND_WINDOW_SECONDS = 365 * 24 * 3600

# -- activity options: each has a start-to-close timeout and an explicit total retry budget ---------
# Settings: ~5 minutes of attempts, then the defaults (an order must not stall on its settings).
SETTINGS_CALL = dict(start_to_close_timeout=timedelta(seconds=10),
                     retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                              maximum_interval=timedelta(seconds=30), maximum_attempts=12))
# Planning and starting fulfillment: ~1 hour of attempts, then the order is cancelled by the system.
FULFILLMENT_CALL = dict(start_to_close_timeout=timedelta(seconds=30),
                        retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                                 maximum_interval=timedelta(minutes=5), maximum_attempts=20))
# The record: ~1 hour of attempts; a record that never lands is logged and the next one carries the
# whole detail (its version orders them).
RECORD_CALL = dict(start_to_close_timeout=timedelta(seconds=30),
                   retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                            maximum_interval=timedelta(minutes=5), maximum_attempts=20))
# Captures, re-authorizations and refunds: ~1 minute (as the checkout's); a refusal is not retried.
PAYMENT_CALL = dict(start_to_close_timeout=timedelta(seconds=15),
                    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                                             maximum_interval=timedelta(seconds=10), maximum_attempts=6,
                                             non_retryable_error_types=list(PaymentErrors.NON_RETRYABLE)))
# Shipped and refund emails: ~1 hour of attempts, then logged (the order does not wait on mail).
EMAIL_CALL = dict(start_to_close_timeout=timedelta(seconds=30),
                  retry_policy=RetryPolicy(initial_interval=timedelta(seconds=5),
                                           maximum_interval=timedelta(minutes=5), maximum_attempts=15))
# Compensation (cancel fulfillment, void, release the stock, the cancelled email) must happen: it is
# retried until it succeeds, for up to a week; a refusal (non-retryable) is logged for staff.
COMPENSATION_CALL = dict(start_to_close_timeout=timedelta(seconds=30), schedule_to_close_timeout=timedelta(days=7),
                         retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                                  maximum_interval=timedelta(minutes=10)))

# Where fulfillment stands, as far as this order knows.
NOT_STARTED, STARTING, STARTED, UNKNOWN = "", "starting", "started", "unknown"
CANCELLABLE = (OrderStatus.PLACED, OrderStatus.AWAITING_APPROVAL, OrderStatus.PROCESSING)
REFUNDABLE = (OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.DELIVERED)
SHIPPED_STAGES = (SupplierOrderStage.SHIPPED, SupplierOrderStage.DELIVERED)
FINAL_STAGES = (SupplierOrderStage.DELIVERED, SupplierOrderStage.CANCELLED)
STAGE_RANK = {stage: rank for rank, stage in enumerate(SupplierOrderStage.ORDER)}
STAFF_ACTIONS = (OrderUpdates.APPROVE, OrderUpdates.CANCEL, OrderUpdates.REFUND, OrderUpdates.RETRY_PAYMENT,
                 OrderUpdates.ADD_NOTE)
MACHINE_ACTORS = (Actor.SYSTEM, Actor.CHECKOUT, Actor.FULFILLMENT)
NEXT_MANUAL_STEP = {SupplierOrderStage.ACCEPTED: FulfillmentUpdates.MARK_PACKED,
                    SupplierOrderStage.PACKED: FulfillmentUpdates.MARK_SHIPPED,
                    SupplierOrderStage.SHIPPED: FulfillmentUpdates.MARK_DELIVERED}


def _refusal(message: str, error_type: str) -> ApplicationError:
    return ApplicationError(message, type=error_type, non_retryable=True)


def _failure(error: ActivityError) -> tuple[str, str]:
    """(type, message) of a refusal an activity raised; ("", a plain message) when it ran out of tries."""
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.non_retryable and cause.type:
        return cause.type, cause.message
    return "", "the service did not answer in time"


def _dollars(cents: int) -> str:
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    return f"{sign}${cents // 100:,}.{cents % 100:02d}"


def _duration(seconds: int) -> str:
    """In hours when whole hours ("48 hours"), else minutes, else seconds."""
    for unit, size in (("hour", 3_600), ("minute", 60), ("second", 1)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"


def _clip(value: object, limit: int = MAX_EVENT_TEXT) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _bounded(value: object, low: int, high: int, default: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        return default
    return min(max(value, low), high)


def _parse_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else None


def _check_actor(actor: object) -> str:
    if not isinstance(actor, str) or not actor.strip():
        raise _refusal("Say who is acting.", OrderErrors.INVALID_REQUEST)
    if len(actor) > MAX_ACTOR_LENGTH:
        raise _refusal(f"An actor's name is at most {MAX_ACTOR_LENGTH} characters.", OrderErrors.INVALID_REQUEST)
    return actor.strip()


def _staff_member(actor: object) -> str:
    """The actor of a fulfillment report when it is a staff member (a manual step), else the system."""
    if isinstance(actor, str) and actor.strip() and actor not in MACHINE_ACTORS:
        return actor.strip()[:MAX_ACTOR_LENGTH]
    return Actor.SYSTEM


def _check_reason(reason: object, required: bool = False) -> str:
    if not isinstance(reason, str):
        raise _refusal("A reason is text.", OrderErrors.INVALID_REQUEST)
    if len(reason) > MAX_REASON_LENGTH:
        raise _refusal(f"A reason is at most {MAX_REASON_LENGTH} characters.", OrderErrors.INVALID_REQUEST)
    if required and not reason.strip():
        raise _refusal("Give a reason.", OrderErrors.INVALID_REQUEST)
    return reason.strip()


@workflow.defn(name=OrderWorkflows.ORDER)
class OrderWorkflow:
    @workflow.init
    def __init__(self, order: OrderInput) -> None:
        self.order = order
        self.total = _bounded(order.totals.total_cents, 0, 10**12, 0)
        self.lifecycle = True  # False on runs started before it (the unpatched branch)
        self.settings = OrderSettings(StoreConfig())  # replaced by the loaded ones
        self.status = OrderStatus.PLACED
        self.history: list[Transition] = [
            Transition(1, _clip(order.placed_at), "", OrderStatus.PLACED, Actor.CHECKOUT)]
        self.version = 0
        self.supplier_orders: dict[str, SupplierOrderState] = {}
        self.fulfillment = NOT_STARTED
        self.approval_deadline = ""
        self.notes: list[Note] = []
        # Payments: the live authorization, and what each authorization captured and refunded.
        self.payments: list[PaymentEntry] = []
        self.authorization_key = order.payment_authorization_key
        self.authorized_cents = self.total
        self.authorized_at = _parse_time(order.placed_at)  # the workflow's start when unreadable
        self.authorizations = [self.authorization_key]  # oldest first
        self.captured_by: dict[str, int] = {self.authorization_key: 0}
        self.refunded_by: dict[str, int] = {self.authorization_key: 0}
        self.captured_cents = 0
        self.refunded_cents = 0
        self.refunded_skus: list[str] = []
        self.reauthorizations = 0
        self.payment_hold_reason = ""
        self.to_capture: list[str] = []  # shipped supplier orders whose share is not captured yet
        self.money = asyncio.Lock()  # one money operation at a time
        # Staff actions by update id: applied once, answered again with the first result.
        self.applied: dict[str, ActionResult] = {}
        self.applying: set[str] = set()

    @workflow.run
    async def run(self, order: OrderInput) -> str:
        if not workflow.patched(LIFECYCLE_PATCH):
            return await self._wait_as_before()
        end_by = workflow.now() + ORDER_LIFETIME
        if self.authorized_at is None:
            self.authorized_at = workflow.now()
        self.settings = await self._load_settings()
        await self._record(self.history[0])
        config = self.settings.config
        if self.status == OrderStatus.PLACED and self.total > _bounded(config.approval_threshold_cents, 0, 10**12, 0):
            await self._await_approval(config)
        if self.status in (OrderStatus.PLACED, OrderStatus.PROCESSING):
            await self._start_fulfillment()
        await self._wait_for_the_end(end_by)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status

    async def _wait_as_before(self) -> str:
        """The order workflow before the lifecycle: it waited for a final status nothing set."""
        self.lifecycle = False
        try:
            await workflow.wait_condition(lambda: self.status in FINAL_STATUSES, timeout=ORDER_LIFETIME)
        except TimeoutError:
            pass
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status

    # -- the main line -------------------------------------------------------------------------
    async def _load_settings(self) -> OrderSettings:
        try:
            return await workflow.execute_activity(OrderActivities.LOAD_SETTINGS, result_type=OrderSettings,
                                                   **SETTINGS_CALL)
        except ActivityError as error:
            workflow.logger.error("order %s: settings not loaded (%s); using the defaults",
                                  self.order.order_number, error.cause)
            return self.settings

    async def _await_approval(self, config: StoreConfig) -> None:
        timeout = _bounded(config.approval_timeout_seconds, 60, MAX_APPROVAL_TIMEOUT_SECONDS, 48 * 3600)
        threshold = _dollars(_bounded(config.approval_threshold_cents, 0, 10**12, 0))
        transition = self._move(OrderStatus.AWAITING_APPROVAL, Actor.SYSTEM,
                                f"total above the approval threshold of {threshold}")
        self.approval_deadline = (workflow.now() + timedelta(seconds=timeout)).isoformat()
        await self._record(transition)
        try:
            await workflow.wait_condition(lambda: self.status != OrderStatus.AWAITING_APPROVAL,
                                          timeout=timedelta(seconds=timeout))
        except TimeoutError:
            pass
        if self.status == OrderStatus.AWAITING_APPROVAL:
            await self._cancel(Actor.SYSTEM, f"not approved within {_duration(timeout)}")

    async def _start_fulfillment(self) -> None:
        try:
            plans = await workflow.execute_activity(
                OrderActivities.PLAN_SUPPLIER_ORDERS, self.order, result_type=tuple[SupplierOrderPlan, ...],
                **FULFILLMENT_CALL)
        except ActivityError as error:
            if self.status in (OrderStatus.PLACED, OrderStatus.PROCESSING):
                await self._cancel(Actor.SYSTEM, f"the order could not be planned for fulfillment: "
                                                 f"{_failure(error)[1]}")
            return
        if self.status not in (OrderStatus.PLACED, OrderStatus.PROCESSING):
            return  # cancelled meanwhile: nothing was started
        plans = self._checked_plans(tuple(plans))
        if not plans:
            await self._cancel(Actor.SYSTEM, "no supplier holds this order's stock")
            return
        self.supplier_orders = {plan.supplier_order_id: SupplierOrderState(plan) for plan in plans}
        transition = None
        if self.status == OrderStatus.PLACED:
            count = len(plans)
            transition = self._move(OrderStatus.PROCESSING, Actor.SYSTEM,
                                    f"planned as {count} supplier order{'' if count == 1 else 's'}")
        await self._record(transition)
        if self.status != OrderStatus.PROCESSING:
            return  # cancelled while recording: fulfillment is not started
        self.fulfillment = STARTING
        request = FulfillmentRequest(self.order.order_number, self.order.shipping_address, tuple(self.order.lines),
                                     plans)
        try:
            await workflow.execute_activity(OrderActivities.START_FULFILLMENT, request, **FULFILLMENT_CALL)
        except ActivityError as error:
            self.fulfillment = UNKNOWN  # it may have started all the same: a cancel tells it
            if self.status == OrderStatus.PROCESSING and self._cancel_refusal() is None:
                await self._cancel(Actor.SYSTEM, f"fulfillment could not be started: {_failure(error)[1]}")
            return
        self.fulfillment = STARTED

    def _checked_plans(self, plans: tuple[SupplierOrderPlan, ...]) -> tuple[SupplierOrderPlan, ...]:
        """The plans, with their amounts apportioned again from the lines if they do not sum to the total."""
        lines = self.order.lines
        plans = tuple(plan for plan in plans if isinstance(plan, SupplierOrderPlan))
        if len({plan.supplier_order_id for plan in plans}) != len(plans):
            workflow.logger.error("order %s: supplier orders planned twice", self.order.order_number)
            plans = tuple({plan.supplier_order_id: plan for plan in plans}.values())
        amounts = [plan.amount_cents for plan in plans]
        if plans and (any(not isinstance(a, int) or a < 0 for a in amounts) or sum(amounts) != self.total):
            weights = [sum(max(lines[i].line_total_cents, 0) for i in plan.line_indexes if 0 <= i < len(lines))
                       for plan in plans]
            if not any(weights):
                weights = [1] * len(plans)
            shares = apportion(self.total, weights)
            plans = tuple(replace(plan, amount_cents=share) for plan, share in zip(plans, shares, strict=True))
        return plans

    async def _wait_for_the_end(self, end_by: datetime) -> None:
        await self._wait_until(lambda: self._finished() or self.status == OrderStatus.CANCELLED, end_by)
        if self.status == OrderStatus.CANCELLED and not self._finished():
            await self._wait_until(self._finished, min(end_by, workflow.now() + CANCEL_GRACE))
            unreported = [key for key, state in self.supplier_orders.items() if state.stage not in FINAL_STAGES]
            for key in unreported:
                self.supplier_orders[key] = replace(self.supplier_orders[key], stage=SupplierOrderStage.CANCELLED,
                                                    updated_at=workflow.now().isoformat())
            if unreported:
                await self._record()
        if not self._finished():
            workflow.logger.warning("order %s ends %s after its lifetime", self.order.order_number, self.status)
        elif self.status == OrderStatus.DELIVERED:
            # Staff may still refund a delivered order (a return) until its refund window closes.
            window = _bounded(self.settings.config.refund_window_seconds, 0, MAX_REFUND_WINDOW_SECONDS, 30 * 24 * 3600)
            await self._wait_until(lambda: self.status != OrderStatus.DELIVERED,
                                   min(end_by, workflow.now() + timedelta(seconds=window)))

    async def _wait_until(self, condition: Callable[[], bool], until: datetime) -> None:
        left = until - workflow.now()
        if left <= timedelta(0):
            return
        try:
            await workflow.wait_condition(condition, timeout=left)
        except TimeoutError:
            pass

    def _finished(self) -> bool:
        return (self.status in FINAL_STATUSES and not self.to_capture
                and all(state.stage in FINAL_STAGES for state in self.supplier_orders.values()))

    # -- fulfillment's reports and handshake -----------------------------------------------------
    @workflow.signal(name=OrderSignals.SUPPLIER_ORDER_PROGRESS)
    async def supplier_order_progress(self, event: SupplierOrderEvent) -> None:
        advanced = self._advance(event)
        if advanced is None:
            return
        await self._record()
        if advanced:
            state = self.supplier_orders[event.supplier_order_id]
            await self._capture_pending()
            await self._email(OrderEmailKind.SHIPPED, f"shipped:{state.plan.supplier_order_id}", EMAIL_CALL,
                              tracking_number=state.tracking_number, carrier=state.carrier,
                              skus=self._skus(state.plan))
        # A manual step that moves the order's status is the staff member's doing, in its history.
        await self._settle_status(moved_by=_staff_member(event.actor))

    def _advance(self, event: SupplierOrderEvent) -> bool | None:
        """Apply a report: None when it is ignored (unknown, stale, repeated), else whether the supplier
        order has just shipped (its share is then queued for capture)."""
        if not isinstance(event, SupplierOrderEvent) or event.order_number != self.order.order_number:
            return None
        state = self.supplier_orders.get(event.supplier_order_id) if isinstance(event.supplier_order_id, str) else None
        if state is None:
            return None
        old, new = state.stage, event.stage
        if not isinstance(new, str):
            return None
        if new == SupplierOrderStage.CANCELLED:
            if old in SHIPPED_STAGES or old == SupplierOrderStage.CANCELLED:
                return None
        elif (new not in STAGE_RANK or old == SupplierOrderStage.CANCELLED or STAGE_RANK[new] <= STAGE_RANK[old]
              or self.status == OrderStatus.CANCELLED):
            return None
        shipped = new in SHIPPED_STAGES and old not in SHIPPED_STAGES
        self.supplier_orders[event.supplier_order_id] = replace(
            state, stage=new, shipment_begun=state.shipment_begun or shipped,
            tracking_number=_clip(event.tracking_number, MAX_TRACKING_LENGTH) or state.tracking_number,
            carrier=_clip(event.carrier) or state.carrier, updated_at=_clip(event.at) or workflow.now().isoformat(),
            updated_by=_clip(event.actor, MAX_ACTOR_LENGTH))
        if shipped:
            self.to_capture.append(event.supplier_order_id)
        return shipped

    @workflow.update(name=OrderUpdates.BEGIN_SHIPMENT)
    async def begin_shipment(self, request: ShipmentRequest) -> ActionResult:
        return await self._once(lambda _: self._begin_shipment(request))

    @begin_shipment.validator
    def _validate_begin_shipment(self, request: ShipmentRequest) -> None:
        if not self._seen():
            self._raise(self._shipment_refusal(request))

    async def _begin_shipment(self, request: ShipmentRequest) -> ActionResult:
        self._raise(self._shipment_refusal(request))
        state = self.supplier_orders[request.supplier_order_id]
        if state.shipment_begun:
            return ActionResult(OrderUpdates.BEGIN_SHIPMENT, False, self.status, "The shipment had begun already.")
        self.supplier_orders[request.supplier_order_id] = replace(state, shipment_begun=True)
        await self._record()
        return ActionResult(OrderUpdates.BEGIN_SHIPMENT, True, self.status, "The supplier order may ship.")

    def _shipment_refusal(self, request: ShipmentRequest) -> ApplicationError | None:
        if not self.lifecycle:
            return _refusal("This order was placed before order management.", OrderErrors.ORDER_CANCELLED)
        if self.status == OrderStatus.CANCELLED:
            return _refusal("The order is cancelled: this supplier order must not ship.", OrderErrors.ORDER_CANCELLED)
        state = self.supplier_orders.get(request.supplier_order_id) if isinstance(
            request.supplier_order_id, str) else None
        if state is None:
            return _refusal(f"{_clip(request.supplier_order_id)!r} is not a supplier order of this order.",
                            OrderErrors.ORDER_CANCELLED)
        if state.stage == SupplierOrderStage.CANCELLED:
            return _refusal("This supplier order is cancelled.", OrderErrors.ORDER_CANCELLED)
        return None

    # -- staff actions ---------------------------------------------------------------------------
    @workflow.update(name=OrderUpdates.APPROVE)
    async def approve(self, action: StaffAction) -> ActionResult:
        return await self._once(lambda _: self._approve(action))

    @approve.validator
    def _validate_approve(self, action: StaffAction) -> None:
        if not self._seen():
            _check_actor(action.actor)
            _check_reason(action.reason)
            self._raise(self._stale_refusal(action.expected_version))
            self._raise(self._approve_refusal())

    async def _approve(self, action: StaffAction) -> ActionResult:
        actor, reason = _check_actor(action.actor), _check_reason(action.reason)
        self._raise(self._approve_refusal())
        transition = self._move(OrderStatus.PROCESSING, actor, reason or "approved")
        self.approval_deadline = ""
        await self._record(transition)
        return ActionResult(OrderUpdates.APPROVE, True, self.status, "Approved: fulfillment starts.")

    @workflow.update(name=OrderUpdates.CANCEL)
    async def cancel(self, action: StaffAction) -> ActionResult:
        return await self._once(lambda _: self._staff_cancel(action))

    @cancel.validator
    def _validate_cancel(self, action: StaffAction) -> None:
        if not self._seen():
            _check_actor(action.actor)
            _check_reason(action.reason, required=True)
            self._raise(self._stale_refusal(action.expected_version))
            self._raise(self._cancel_refusal())

    async def _staff_cancel(self, action: StaffAction) -> ActionResult:
        actor, reason = _check_actor(action.actor), _check_reason(action.reason, required=True)
        self._raise(self._cancel_refusal())
        await self._cancel(actor, reason)
        return ActionResult(OrderUpdates.CANCEL, True, self.status,
                            "Cancelled: the payment is voided, the stock released and the shopper told.")

    @workflow.update(name=OrderUpdates.REFUND)
    async def refund(self, request: RefundRequest) -> ActionResult:
        return await self._once(lambda update_id: self._refund(request, update_id))

    @refund.validator
    def _validate_refund(self, request: RefundRequest) -> None:
        if not self._seen():
            _check_actor(request.actor)
            _check_reason(request.reason)
            self._raise(self._stale_refusal(request.expected_version))
            self._refund_amount(request)

    async def _refund(self, request: RefundRequest, update_id: str) -> ActionResult:
        actor, reason = _check_actor(request.actor), _check_reason(request.reason)
        async with self.money:
            # Checked again under the lock: a refund just before may have used the room.
            amount, skus = self._refund_amount(request)
            await self._refund_payment(amount, f"refund-{update_id}", actor=actor, reason=reason)
            self.refunded_skus.extend(skus)
        await self._record()
        await self._settle_status(actor, reason or "refunded in full")
        await self._email(OrderEmailKind.REFUNDED, f"refund:{update_id}", EMAIL_CALL, amount_cents=amount,
                          reason=reason, skus=skus)
        return ActionResult(OrderUpdates.REFUND, True, self.status, f"Refunded {_dollars(amount)}.")

    @workflow.update(name=OrderUpdates.ADD_NOTE)
    async def add_note(self, request: NoteRequest) -> ActionResult:
        return await self._once(lambda _: self._add_note(request))

    @add_note.validator
    def _validate_add_note(self, request: NoteRequest) -> None:
        if not self._seen():
            self._checked_note(request)

    async def _add_note(self, request: NoteRequest) -> ActionResult:
        actor, text = self._checked_note(request)
        self.notes.append(Note(workflow.now().isoformat(), actor, text))
        await self._record()
        return ActionResult(OrderUpdates.ADD_NOTE, True, self.status, "Note added.")

    def _checked_note(self, request: NoteRequest) -> tuple[str, str]:
        self._raise(self._lifecycle_refusal())
        actor = _check_actor(request.actor)
        if not isinstance(request.text, str) or not request.text.strip():
            raise _refusal("Write the note.", OrderErrors.INVALID_REQUEST)
        if len(request.text) > MAX_NOTE_LENGTH:
            raise _refusal(f"A note is at most {MAX_NOTE_LENGTH} characters.", OrderErrors.INVALID_REQUEST)
        if len(self.notes) >= MAX_NOTES:
            raise _refusal(f"An order keeps at most {MAX_NOTES} notes.", OrderErrors.NOT_ALLOWED_NOW)
        return actor, request.text.strip()

    @workflow.update(name=OrderUpdates.RETRY_PAYMENT)
    async def retry_payment(self, action: StaffAction) -> ActionResult:
        return await self._once(lambda _: self._retry_payment(action))

    @retry_payment.validator
    def _validate_retry_payment(self, action: StaffAction) -> None:
        if not self._seen():
            _check_actor(action.actor)
            _check_reason(action.reason)
            self._raise(self._stale_refusal(action.expected_version))
            self._raise(self._retry_refusal())

    async def _retry_payment(self, action: StaffAction) -> ActionResult:
        actor = _check_actor(action.actor)
        _check_reason(action.reason)
        self._raise(self._retry_refusal())
        self.payment_hold_reason = ""
        await self._capture_pending(reauthorize_first=True, actor=actor)
        if self.payment_hold_reason:
            raise _refusal(self.payment_hold_reason, OrderErrors.PAYMENT_HOLD)
        await self._record()
        await self._settle_status()
        return ActionResult(OrderUpdates.RETRY_PAYMENT, True, self.status,
                            "The payment was re-authorized and the shipped supplier orders captured.")

    @workflow.query(name=OrderQueries.GET)
    def get_order(self) -> OrderDetail:
        return self._detail()

    # -- what each action may do now (validators, handlers and allowed_actions share these) ------
    def _lifecycle_refusal(self) -> ApplicationError | None:
        if self.lifecycle:
            return None
        return _refusal("This order was placed before order management; it cannot be changed here.",
                        OrderErrors.NOT_ALLOWED_NOW)

    def _approve_refusal(self) -> ApplicationError | None:
        if not self.lifecycle:
            return self._lifecycle_refusal()
        if self.status == OrderStatus.AWAITING_APPROVAL:
            return None
        label = OrderStatus.LABELS.get(self.status, self.status).lower()
        return _refusal(f"Only an order awaiting approval can be approved; this one is {label}.",
                        OrderErrors.NOT_ALLOWED_NOW if can_move(self.status, OrderStatus.PROCESSING)
                        else OrderErrors.ILLEGAL_TRANSITION)

    def _cancel_refusal(self) -> ApplicationError | None:
        if not self.lifecycle:
            return self._lifecycle_refusal()
        if self.status not in CANCELLABLE:
            return self._illegal(OrderStatus.CANCELLED)
        if any(state.shipment_begun for state in self.supplier_orders.values()):
            return _refusal("The order cannot be cancelled: a shipment has left. Refund it once it has shipped.",
                            OrderErrors.NOT_ALLOWED_NOW)
        return None

    def _refund_refusal(self) -> ApplicationError | None:
        if not self.lifecycle:
            return self._lifecycle_refusal()
        if self.status in REFUNDABLE:
            return None
        if self.status in FINAL_STATUSES:
            return self._illegal(OrderStatus.REFUNDED)
        return _refusal(f"Only a shipped order can be refunded; this one is "
                        f"{OrderStatus.LABELS[self.status].lower()} (cancel it instead).", OrderErrors.NOT_ALLOWED_NOW)

    def _retry_refusal(self) -> ApplicationError | None:
        if not self.lifecycle:
            return self._lifecycle_refusal()
        if self.payment_hold_reason:
            return None
        return _refusal("The order's payment is not on hold: there is nothing to retry.", OrderErrors.NOT_ALLOWED_NOW)

    def _stale_refusal(self, expected: object) -> ApplicationError | None:
        """An action decided on another version of the order than this one (0: the caller did not say).
        Validators only: a re-sent update whose id was applied answers its first result before this."""
        if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
            return _refusal("An expected version is a whole number, not negative.", OrderErrors.INVALID_REQUEST)
        if expected in (0, self.version):
            return None
        label = OrderStatus.LABELS.get(self.status, self.status).lower()
        return _refusal(f"Order {self.order.order_number} changed while you were looking at it: it is now {label}. "
                        "Nothing was done; look at it again and act if it still needs it.", OrderErrors.STALE)

    def _illegal(self, to_status: str) -> ApplicationError:
        return _refusal(str(IllegalTransition(self.status, to_status)), OrderErrors.ILLEGAL_TRANSITION)

    def _refund_amount(self, request: RefundRequest) -> tuple[int, tuple[str, ...]]:
        """The amount a refund request asks for and the SKUs it refunds, or the refusal."""
        _check_actor(request.actor)
        _check_reason(request.reason)
        self._raise(self._refund_refusal())
        amount, skus = request.amount_cents, request.skus
        if not isinstance(amount, int) or isinstance(amount, bool) or not isinstance(skus, tuple | list) \
                or any(not isinstance(sku, str) for sku in skus):
            raise _refusal("A refund is an amount in cents or a list of SKUs.", OrderErrors.INVALID_REQUEST)
        if (amount != 0) == bool(skus):
            raise _refusal("Refund either an amount or whole lines, not both.", OrderErrors.INVALID_REQUEST)
        available = self.captured_cents - self.refunded_cents
        if skus:
            amount = self._lines_amount(tuple(skus))
        elif amount < 1:
            raise _refusal("A refund is at least one cent.", OrderErrors.INVALID_REQUEST)
        if amount > available:
            raise _refusal(f"Only {_dollars(available)} was captured and not refunded; {_dollars(amount)} is more.",
                           OrderErrors.REFUND_EXCEEDS_CAPTURED)
        return amount, tuple(skus)

    def _lines_amount(self, skus: tuple[str, ...]) -> int:
        """The refunded lines' share of the total (their part of shipping, tax and discount included)."""
        lines = self.order.lines
        if len(set(skus)) != len(skus) or len(skus) > len(lines):
            raise _refusal("Name each line once.", OrderErrors.INVALID_REQUEST)
        shipped_lines = {index for state in self.supplier_orders.values() if state.stage in SHIPPED_STAGES
                         for index in state.plan.line_indexes}
        for sku in skus:
            indexes = [index for index, line in enumerate(lines) if line.sku == sku]
            if not indexes:
                raise _refusal(f"{sku[:MAX_EVENT_TEXT]!r} is not a line of this order.", OrderErrors.INVALID_REQUEST)
            if sku in self.refunded_skus:
                raise _refusal(f"The line {sku!r} was refunded before.", OrderErrors.INVALID_REQUEST)
            if any(index not in shipped_lines for index in indexes):
                raise _refusal(f"The line {sku!r} has not shipped yet.", OrderErrors.INVALID_REQUEST)
        weights = [max(line.line_total_cents, 0) for line in lines]
        shares = apportion(self.total, weights) if any(weights) else [0] * len(lines)
        amount = sum(share for share, line in zip(shares, lines, strict=True) if line.sku in skus)
        if amount < 1:
            raise _refusal("Those lines cost nothing: there is nothing to refund.", OrderErrors.INVALID_REQUEST)
        return amount

    def _allowed_actions(self) -> tuple[str, ...]:
        allowed = {
            OrderUpdates.APPROVE: self._approve_refusal() is None,
            OrderUpdates.CANCEL: self._cancel_refusal() is None,
            OrderUpdates.REFUND: self._refund_refusal() is None and self.captured_cents > self.refunded_cents,
            OrderUpdates.RETRY_PAYMENT: self._retry_refusal() is None,
            OrderUpdates.ADD_NOTE: self.lifecycle and len(self.notes) < MAX_NOTES,
        }
        return tuple(action for action in STAFF_ACTIONS if allowed[action])

    @staticmethod
    def _raise(refusal: ApplicationError | None) -> None:
        if refusal is not None:
            raise refusal

    # -- update ids --------------------------------------------------------------------------------
    def _seen(self) -> bool:
        """The current update's id was applied (or is being applied): its handler answers as before."""
        info = workflow.current_update_info()
        return info is not None and (info.id in self.applied or info.id in self.applying)

    async def _once(self, work: Callable[[str], Awaitable[ActionResult]]) -> ActionResult:
        info = workflow.current_update_info()
        update_id = info.id if info is not None else ""
        if update_id in self.applying:
            await workflow.wait_condition(lambda: update_id not in self.applying)
        if update_id in self.applied:
            return replace(self.applied[update_id], applied=False, status=self.status)
        self.applying.add(update_id)
        try:
            result = await work(update_id)
        finally:
            self.applying.discard(update_id)
        self.applied[update_id] = result
        return result

    # -- status ------------------------------------------------------------------------------------
    def _move(self, to_status: str, actor: str, reason: str = "") -> Transition:
        """The one way the status changes: through the transition table, remembered as a Transition."""
        try:
            check_move(self.status, to_status)
        except IllegalTransition as error:
            raise _refusal(str(error), OrderErrors.ILLEGAL_TRANSITION) from None
        transition = Transition(len(self.history) + 1, workflow.now().isoformat(), self.status, to_status, actor,
                                reason)
        self.history.append(transition)
        self.status = to_status
        return transition

    async def _settle_status(self, actor: str = Actor.SYSTEM, refund_reason: str = "",
                             moved_by: str = Actor.SYSTEM) -> None:
        """Move the status to what the supplier orders add up to (step by step through the table), and
        to refunded once everything shipped was refunded. `actor` refunded; `moved_by` made the last
        supplier order's step (a staff member's manual step, or the system)."""
        while (step := self._next_status()) is not None:
            to_status, reason = step
            if to_status == OrderStatus.REFUNDED:
                transition = self._move(to_status, actor, refund_reason if actor != Actor.SYSTEM else reason)
            else:
                transition = self._move(to_status, moved_by, reason)
            await self._record(transition)

    def _next_status(self) -> tuple[str, str] | None:
        if self.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
            return None
        stages = [state.stage for state in self.supplier_orders.values()]
        target = status_of_shipments(stages)
        if target is not None and target != self.status:
            shipped = sum(stage in SHIPPED_STAGES for stage in stages)
            if can_move(self.status, target):
                reasons = {OrderStatus.PARTIALLY_SHIPPED: f"{shipped} of {len(stages)} supplier orders shipped",
                           OrderStatus.SHIPPED: "every supplier order shipped",
                           OrderStatus.DELIVERED: "every supplier order delivered"}
                return target, reasons[target]
            if target == OrderStatus.DELIVERED and can_move(self.status, OrderStatus.SHIPPED):
                return OrderStatus.SHIPPED, "every supplier order shipped"
        if (self.refunded_cents >= self.total and stages and all(stage in SHIPPED_STAGES for stage in stages)
                and can_move(self.status, OrderStatus.REFUNDED)):
            return OrderStatus.REFUNDED, "everything captured was refunded"
        return None

    # -- cancel ------------------------------------------------------------------------------------
    async def _cancel(self, actor: str, reason: str) -> None:
        """Cancelled, then: fulfillment told, the authorization voided (anything captured refunded),
        the stock released and the shopper emailed; each retried until it is done."""
        transition = self._move(OrderStatus.CANCELLED, actor, reason)
        self.approval_deadline = ""
        if self.fulfillment == NOT_STARTED:
            for key, state in self.supplier_orders.items():
                self.supplier_orders[key] = replace(state, stage=SupplierOrderStage.CANCELLED,
                                                    updated_at=workflow.now().isoformat())
        await self._record(transition)
        await workflow.wait_condition(lambda: self.fulfillment != STARTING)
        if self.fulfillment in (STARTED, UNKNOWN):
            await self._compensate(OrderActivities.CANCEL_FULFILLMENT, self.order.order_number)
        async with self.money:
            self.to_capture.clear()
            if self.captured_cents > self.refunded_cents:  # never before a shipment; kept for safety
                try:
                    await self._refund_payment(self.captured_cents - self.refunded_cents, "refund-cancel",
                                               COMPENSATION_CALL)
                except ApplicationError as error:
                    workflow.logger.error("order %s: %s", self.order.order_number, error.message)
            await self._void()
        await self._compensate(OrderActivities.RELEASE_STOCK, tuple(self.order.lines))
        # The units are available again: the storefront's availability is projected anew.
        skus = sorted({line.sku for line in self.order.lines})
        await self._compensate(InventoryActivities.NOTIFY_STOCK_CHANGED, skus, task_queue=INVENTORY_QUEUE)
        await self._email(OrderEmailKind.CANCELLED, "cancelled", COMPENSATION_CALL, reason=reason)
        await self._record()

    async def _compensate(self, activity: str, arg: Any, task_queue: str | None = None) -> Any:
        try:
            return await workflow.execute_activity(activity, arg, task_queue=task_queue, **COMPENSATION_CALL)
        except ActivityError as error:
            workflow.logger.error("order %s: %s failed for good: %s", self.order.order_number, activity, error.cause)
            return None

    # -- payments (callers hold self.money) ------------------------------------------------------
    async def _void(self) -> None:
        key = self.authorization_key
        try:
            result = await workflow.execute_activity(OrderActivities.VOID, key, result_type=PaymentResult,
                                                     **COMPENSATION_CALL)
        except ActivityError as error:
            self._entry("void", f"void:{key}", key, 0, "failed", message=_failure(error)[1])
            return
        self._entry("void", result.idempotency_key or f"void:{key}", key, result.amount_cents, result.status)
        self.authorized_cents = self.captured_by.get(key, 0)

    async def _capture_pending(self, reauthorize_first: bool = False, actor: str = "") -> None:
        """Capture the share of every shipped supplier order not captured yet, unless the payment is on
        hold (then they wait for staff's retry_payment)."""
        async with self.money:
            while self.to_capture and not self.payment_hold_reason and self.status != OrderStatus.CANCELLED:
                if not await self._capture(self.to_capture[0], reauthorize_first, actor):
                    return
                reauthorize_first = False
                self.to_capture.pop(0)

    async def _capture(self, supplier_order_id: str, reauthorize_first: bool, actor: str = "") -> bool:
        """Capture one shipped supplier order's share; `actor`: the staff member retrying it, if one is."""
        amount = self.supplier_orders[supplier_order_id].plan.amount_cents
        if amount <= 0:
            return True
        if (reauthorize_first or self._authorization_stale()) and not await self._reauthorize(actor):
            return False
        key = f"{workflow.info().workflow_id}/capture-{supplier_order_id}"
        for attempt in (1, 2):
            authorization = self.authorization_key
            try:
                result = await workflow.execute_activity(
                    OrderActivities.CAPTURE, CaptureRequest(authorization, amount, key, supplier_order_id),
                    result_type=PaymentResult, **PAYMENT_CALL)
            except ActivityError as error:
                error_type, message = _failure(error)
                self._entry("capture", key, authorization, amount, "failed", supplier_order_id, message, actor)
                if error_type == PaymentErrors.AUTHORIZATION_EXPIRED and attempt == 1:
                    if not await self._reauthorize(actor):
                        return False
                    continue
                await self._hold(f"The payment could not be captured: {message.rstrip('.')}. "
                                 "Staff: retry, or refund.")
                return False
            self.captured_cents += amount
            self.captured_by[authorization] = self.captured_by.get(authorization, 0) + amount
            self.supplier_orders[supplier_order_id] = replace(self.supplier_orders[supplier_order_id],
                                                              captured_cents=amount)
            self._entry("capture", key, authorization, amount, result.status, supplier_order_id, actor=actor)
            await self._record()
            return True
        return False

    def _authorization_stale(self) -> bool:
        validity = _bounded(self.settings.authorization_validity_seconds, 0, MAX_VALIDITY_SECONDS, 7 * 86_400)
        authorized_at = self.authorized_at or workflow.now()
        return workflow.now() - authorized_at >= timedelta(seconds=validity) - REAUTHORIZE_MARGIN

    async def _reauthorize(self, actor: str = "") -> bool:
        """A new authorization for what is left to capture; declined, the order waits for staff."""
        amount = self.total - self.captured_cents
        if amount <= 0:
            return True
        self.reauthorizations += 1
        key = f"{workflow.info().workflow_id}/reauth-{self.reauthorizations}"
        previous = self.authorization_key
        try:
            result = await workflow.execute_activity(
                OrderActivities.REAUTHORIZE, ReauthorizeRequest(previous, amount, key), result_type=PaymentResult,
                **PAYMENT_CALL)
        except ActivityError as error:
            message = _failure(error)[1]
            self._entry("authorize", key, key, amount, "failed", message=message, actor=actor)
            await self._hold(f"The payment could not be re-authorized: {message.rstrip('.')}. "
                             "Staff: ask the shopper for another card, retry, or refund.")
            return False
        new_key = result.authorization_key or key
        self.authorization_key = new_key
        if new_key not in self.captured_by:
            self.authorizations.append(new_key)
            self.captured_by[new_key] = self.refunded_by[new_key] = 0
        self.authorized_cents = amount
        self.authorized_at = workflow.now()
        self._entry("authorize", key, new_key, amount, result.status, actor=actor)
        await self._record()
        return True

    async def _hold(self, reason: str) -> None:
        self.payment_hold_reason = reason
        await self._record()

    async def _refund_payment(self, amount: int, key_stem: str, options: dict | None = None, actor: str = "",
                              reason: str = "") -> None:
        """Refund `amount` over the authorizations holding captures, newest first, one call each."""
        left, count = amount, 0
        for authorization in reversed(self.authorizations):
            room = self.captured_by[authorization] - self.refunded_by[authorization]
            if left <= 0 or room <= 0:
                continue
            part = min(room, left)
            count += 1
            key = f"{workflow.info().workflow_id}/{key_stem}-{count}"
            try:
                result = await workflow.execute_activity(
                    OrderActivities.REFUND, RefundPaymentRequest(authorization, part, key), result_type=PaymentResult,
                    **(options or PAYMENT_CALL))
            except ActivityError as error:
                message = _failure(error)[1]
                self._entry("refund", key, authorization, part, "failed", message=message, actor=actor, reason=reason)
                await self._record()
                raise _refusal(f"The refund failed after {_dollars(amount - left)} of {_dollars(amount)}: "
                               f"{message}", OrderErrors.INVALID_REQUEST) from None
            self.refunded_by[authorization] += part
            self.refunded_cents += part
            left -= part
            self._entry("refund", key, authorization, part, result.status, actor=actor, reason=reason)

    def _entry(self, kind: str, key: str, authorization: str, amount: int, status: str, supplier_order_id: str = "",
               message: str = "", actor: str = "", reason: str = "") -> None:
        self.payments.append(PaymentEntry(kind, key, authorization, amount, status, workflow.now().isoformat(),
                                          supplier_order_id, message, actor, reason))

    # -- records, emails, the detail ---------------------------------------------------------------
    async def _record(self, transition: Transition | None = None) -> None:
        self.version += 1
        record = OrderRecord(self._detail(), transition)
        try:
            await workflow.execute_activity(OrderActivities.RECORD, record, **RECORD_CALL)
        except ActivityError as error:
            workflow.logger.error("order %s: version %s not recorded: %s", self.order.order_number,
                                  record.detail.version, error.cause)

    async def _email(self, kind: str, key: str, options: dict, **fields: Any) -> None:
        request = OrderEmailRequest(self.order.order_number, kind, key, **fields)
        try:
            await workflow.execute_activity(OrderActivities.SEND_EMAIL, request, **options)
        except ActivityError as error:
            workflow.logger.error("order %s: email %s not sent: %s", self.order.order_number, key, error.cause)

    def _skus(self, plan: SupplierOrderPlan) -> tuple[str, ...]:
        lines = self.order.lines
        return tuple(lines[index].sku for index in plan.line_indexes if 0 <= index < len(lines))

    def _manual_actions(self, state: SupplierOrderState) -> tuple[str, ...]:
        if state.plan.strategy != FulfillmentStrategy.MANUAL or self.status == OrderStatus.CANCELLED:
            return ()
        step = NEXT_MANUAL_STEP.get(state.stage)
        return (step,) if step else ()

    def _detail(self) -> OrderDetail:
        return OrderDetail(
            order=self.order,
            status=self.status,
            supplier_orders=tuple(replace(state, manual_actions=self._manual_actions(state))
                                  for state in self.supplier_orders.values()),
            payments=tuple(self.payments),
            authorization_key=self.authorization_key,
            authorized_cents=self.authorized_cents,
            captured_cents=self.captured_cents,
            refunded_cents=self.refunded_cents,
            refunded_skus=tuple(self.refunded_skus),
            notes=tuple(self.notes),
            history=tuple(self.history),
            allowed_actions=self._allowed_actions(),
            payment_hold_reason=self.payment_hold_reason,
            approval_deadline=self.approval_deadline if self.status == OrderStatus.AWAITING_APPROVAL else "",
            version=self.version,
        )


# -- linking a verified email's guest orders to the shopper ------------------------------------------

LINK_CALL = dict(start_to_close_timeout=timedelta(seconds=60),
                 retry_policy=RetryPolicy(initial_interval=timedelta(seconds=2), backoff_coefficient=2.0,
                                          maximum_interval=timedelta(minutes=1), maximum_attempts=30))


@workflow.defn(name=OrderWorkflows.LINK_GUEST_ORDERS)
class LinkGuestOrdersWorkflow:
    """`link-orders-{shopper_id}` (queue `oms`): started when a shopper verifies their email; one
    activity sets the shopper's id on the email's guest orders (lightweight transactions from "",
    idempotent), so a repeated verification, a retry or a second run changes nothing more."""

    @workflow.run
    async def run(self, request: LinkOrdersRequest) -> int:
        return await workflow.execute_activity(OrderActivities.LINK_GUEST_ORDERS, request, result_type=int,
                                               **LINK_CALL)
