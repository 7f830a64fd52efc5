"""Deterministic workflows of fulfillment: no Django, no I/O (activities do that).

`Fulfillment` (`fulfillment-{order_number}`, queue `fulfillment`): started by the OMS with a
FulfillmentRequest. It loads the timings (LOAD_TIMINGS), starts one `SupplierOrder` child per planned
supplier order (`fulfillment-{order_number}-so-{k}`, on the parent's queue) and waits for all of them.
Its `cancel` signal is forwarded to every child that is still running; a child ignores it once its
shipment has begun. It ends when every child has ended, and fails (after all have ended) if one failed.

`SupplierOrder`: one supplier's share of an order, run by its plan's strategy, reporting every stage
to the order workflow (`order-{number}`) with the signal `supplier_order_progress`:

- simulated: accepted, `processing_seconds` -> packed, `shipping_seconds` -> shipped (tracking
  "HRN" + 12 digits from workflow.random(), carrier Heron Post), `delivery_seconds` -> delivered;
- dropship: PARTNER_SUBMIT (idempotent by reference = supplier order id) -> accepted; PARTNER_STATUS
  every `partner_poll_seconds` until ready -> packed; release (PARTNER_RELEASE); polled until shipped
  (the partner's tracking number) and delivered;
- manual: staff's updates mark_packed, mark_shipped (a tracking number), mark_delivered, each with a
  validator; mark_shipped begins the shipment inside the handler, so the order's refusal reaches staff
  as the update's error.

Before goods leave, BEGIN_SHIPMENT asks the order (its `begin_shipment` update, id
`begin-shipment-{supplier_order_id}`); a refusal (the order was cancelled) cancels the supplier order
(dropship: PARTNER_CANCEL) and reports `cancelled`. Accepted, COMMIT_STOCK takes the units off the
shelf. The `cancel` signal is honoured only before the shipment has begun.

History size: a supplier order makes a handful of events per stage; a dropship child about a dozen per
poll, bounded by `partner_max_polls` and by MAX_POLL_HISTORY_EVENTS (the child fails loudly before its
history grows near Temporal's limit), so no continue-as-new is needed.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from fulfillment.contracts import (
        BeginShipment,
        CommitStock,
        FulfillmentActivities,
        FulfillmentCancel,
        FulfillmentErrors,
        FulfillmentQueries,
        FulfillmentRequest,
        FulfillmentSignals,
        FulfillmentTimings,
        FulfillmentUpdates,
        FulfillmentWorkflows,
        ManualStepRequest,
        PartnerOrder,
        PartnerStage,
        PartnerStatus,
        SupplierOrderInput,
        SupplierOrderView,
        supplier_order_workflow_id,
    )
    from inventory.contracts import StockErrors
    from orders.contracts import (
        MAX_ACTOR_LENGTH,
        MAX_TRACKING_LENGTH,
        Actor,
        FulfillmentStrategy,
        OrderErrors,
        OrderSignals,
        SupplierOrderEvent,
        SupplierOrderStage,
        order_workflow_id,
    )

# -- activity options: every call has a timeout and an explicit retry budget ----------------------

LOAD_CALL = dict(start_to_close_timeout=timedelta(seconds=10),
                 retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                          maximum_interval=timedelta(seconds=10), maximum_attempts=5))
# The order workflow answers in milliseconds; its worker being down is waited out for ~25 minutes.
SHIPMENT_CALL = dict(start_to_close_timeout=timedelta(seconds=30),
                     retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                                              maximum_interval=timedelta(minutes=1), maximum_attempts=30,
                                              non_retryable_error_types=[FulfillmentErrors.ORDER_CANCELLED]))
# One stock CAS loop per line (1.5 s budget each): a minute covers any supplier order.
STOCK_CALL = dict(start_to_close_timeout=timedelta(seconds=60),
                  retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                                           maximum_interval=timedelta(seconds=30), maximum_attempts=10,
                                           non_retryable_error_types=list(StockErrors.NON_RETRYABLE)))
# The partner fails transiently (PARTNER_UNAVAILABLE) at up to 90% of calls: 60 attempts (at most
# ~20 minutes) make an exhausted budget practically impossible at any allowed rate.
PARTNER_REFUSED = "PartnerRefused"  # fulfillment.partner.PartnerRefused.kind: a request that can never succeed
PARTNER_CALL = dict(start_to_close_timeout=timedelta(seconds=15),
                    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                                             maximum_interval=timedelta(seconds=20), maximum_attempts=60,
                                             non_retryable_error_types=[PARTNER_REFUSED]))

SIMULATED_CARRIER = "Heron Post"
SIMULATED_TRACKING_PREFIX = "HRN"
TRACKING_PATTERN = re.compile(r"[A-Za-z0-9-]+")
MIN_TRACKING_LENGTH = 4
MAX_CARRIER_LENGTH = 64
MIN_POLL = timedelta(seconds=0.1)  # a poll interval of 0 would spend partner_max_polls at once
MAX_POLL_HISTORY_EVENTS = 40_000  # Temporal refuses a history past 51,200 events
# A manual supplier order nobody touches for this long fails loudly (the order's own lifetime).
MANUAL_LIFETIME = timedelta(days=365)
FINAL_STAGES = (SupplierOrderStage.DELIVERED, SupplierOrderStage.CANCELLED)
_PARTNER_RANK = {PartnerStage.ACCEPTED: 0, PartnerStage.READY: 1, PartnerStage.SHIPPED: 2, PartnerStage.DELIVERED: 3}
_STAGE_LABEL = {SupplierOrderStage.PENDING: "pending", SupplierOrderStage.ACCEPTED: "processing",
                SupplierOrderStage.PACKED: "packed", SupplierOrderStage.SHIPPED: "shipped",
                SupplierOrderStage.DELIVERED: "delivered", SupplierOrderStage.CANCELLED: "cancelled"}


def _refusal(message: str, error_type: str) -> ApplicationError:
    return ApplicationError(message, type=error_type, non_retryable=True)


def _refused(error: ActivityError) -> tuple[str, str] | None:
    """(type, message) of a business refusal an activity raised; None for a failure retries could not fix."""
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.non_retryable and cause.type:
        return cause.type, cause.message
    return None


def _reason(error: ActivityError) -> str:
    cause = error.cause
    return cause.message if isinstance(cause, ApplicationError) else str(cause or error)


@workflow.defn(name=FulfillmentWorkflows.FULFILLMENT)
class FulfillmentWorkflow:
    @workflow.init
    def __init__(self, request: FulfillmentRequest) -> None:
        self.request = request
        self.children: dict[int, workflow.ChildWorkflowHandle] = {}
        self.finished: set[int] = set()
        self.told: set[int] = set()  # children the cancel was forwarded to
        self.cancel_request: FulfillmentCancel | None = None

    @workflow.run
    async def run(self, request: FulfillmentRequest) -> list[SupplierOrderView]:
        timings = await workflow.execute_activity(FulfillmentActivities.LOAD_TIMINGS, result_type=FulfillmentTimings,
                                                  **LOAD_CALL)
        for plan in request.supplier_orders:
            lines = tuple(request.lines[i] for i in plan.line_indexes if 0 <= i < len(request.lines))
            # The child runs on the parent's queue (`fulfillment`); the parent waits for it.
            self.children[plan.index] = await workflow.start_child_workflow(
                SupplierOrderWorkflow.run,
                SupplierOrderInput(request.order_number, plan, lines, request.shipping_address, timings),
                id=supplier_order_workflow_id(request.order_number, plan.index))
            if self.cancel_request is not None:
                await self._forward_cancel()
        outcomes = await asyncio.gather(*(self._wait_for(index, handle) for index, handle in self.children.items()),
                                        return_exceptions=True)
        await workflow.wait_condition(workflow.all_handlers_finished)
        failed = [f"{handle.id}: {outcome}" for handle, outcome in zip(self.children.values(), outcomes, strict=True)
                  if isinstance(outcome, BaseException)]
        if failed:
            raise _refusal(f"supplier order(s) of {request.order_number} failed: {'; '.join(failed)}",
                           "SupplierOrderFailed")
        return [outcome for outcome in outcomes if isinstance(outcome, SupplierOrderView)]

    async def _wait_for(self, index: int, handle: workflow.ChildWorkflowHandle) -> SupplierOrderView:
        try:
            return await handle
        finally:
            self.finished.add(index)

    @workflow.signal(name=FulfillmentSignals.CANCEL)
    async def cancel(self, request: FulfillmentCancel) -> None:
        if self.cancel_request is None:
            self.cancel_request = request
        await self._forward_cancel()

    async def _forward_cancel(self) -> None:
        assert self.cancel_request is not None
        for index, handle in list(self.children.items()):
            if index in self.finished or index in self.told:
                continue
            self.told.add(index)
            try:
                await handle.signal(FulfillmentSignals.CANCEL, self.cancel_request)
            except Exception as error:  # noqa: BLE001 - a child that has just ended needs no cancel
                workflow.logger.warning("cancel not forwarded to %s: %s", handle.id, error)


@workflow.defn(name=FulfillmentWorkflows.SUPPLIER_ORDER)
class SupplierOrderWorkflow:
    @workflow.init
    def __init__(self, input: SupplierOrderInput) -> None:
        self.input = input
        self.plan = input.plan
        self.strategy = input.plan.strategy
        # The simulated and manual suppliers have it at once; the partner only once it took it.
        self.stage = (SupplierOrderStage.PENDING if self.strategy == FulfillmentStrategy.DROPSHIP
                      else SupplierOrderStage.ACCEPTED)
        self.started = False  # `accepted` was reported: manual steps come after it
        self.tracking_number = ""
        self.carrier = ""
        self.partner_order_id = ""
        self.message = ""
        self.cancel_request: FulfillmentCancel | None = None
        self.shipping = False  # a shipment is being begun (mark_shipped's handler is running)
        self.shipment_begun = False  # the order accepted begin_shipment: cancel is ignored from now on
        self.polls = 0
        self.applied: dict[str, SupplierOrderView] = {}  # update id -> its answer (manual steps)

    @workflow.run
    async def run(self, input: SupplierOrderInput) -> SupplierOrderView:
        if self.strategy == FulfillmentStrategy.SIMULATED:
            await self._simulated()
        elif self.strategy == FulfillmentStrategy.DROPSHIP:
            await self._dropship()
        elif self.strategy == FulfillmentStrategy.MANUAL:
            await self._manual()
        else:
            raise _refusal(f"supplier order {self.plan.supplier_order_id} has an unknown strategy "
                           f"{self.strategy!r}", "UnknownFulfillmentStrategy")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._view()

    # -- the strategies ----------------------------------------------------------------------
    async def _simulated(self) -> None:
        timings = self.input.timings
        await self._report(SupplierOrderStage.ACCEPTED)
        self.started = True
        if await self._cancelled_within(timings.processing_seconds):
            return await self._cancel()
        await self._report(SupplierOrderStage.PACKED)
        if await self._cancelled_within(timings.shipping_seconds):
            return await self._cancel()
        if not await self._begin_shipment():
            return
        await self._commit_stock()
        self.tracking_number = f"{SIMULATED_TRACKING_PREFIX}{workflow.random().randrange(10 ** 12):012d}"
        self.carrier = SIMULATED_CARRIER
        await self._report(SupplierOrderStage.SHIPPED)
        if timings.delivery_seconds > 0:
            await workflow.sleep(timings.delivery_seconds)
        await self._report(SupplierOrderStage.DELIVERED)

    async def _dropship(self) -> None:
        if self.cancel_request is not None:
            return await self._cancel()
        self.partner_order_id = await workflow.execute_activity(
            FulfillmentActivities.PARTNER_SUBMIT,
            PartnerOrder(self.plan.supplier_order_id, self.input.lines, self.input.shipping_address),
            result_type=str, **PARTNER_CALL)
        await self._report(SupplierOrderStage.ACCEPTED)
        self.started = True
        if await self._poll_partner(PartnerStage.READY, cancellable=True) is None:
            return await self._cancel()
        await self._report(SupplierOrderStage.PACKED)
        if not await self._begin_shipment():
            return
        await self._partner(FulfillmentActivities.PARTNER_RELEASE)
        await self._commit_stock()
        shipped = await self._poll_partner(PartnerStage.SHIPPED, cancellable=False)
        assert shipped is not None
        self.tracking_number, self.carrier = shipped.tracking_number, shipped.carrier
        await self._report(SupplierOrderStage.SHIPPED)
        if shipped.stage != PartnerStage.DELIVERED:
            await self._poll_partner(PartnerStage.DELIVERED, cancellable=False)
        await self._report(SupplierOrderStage.DELIVERED)

    async def _manual(self) -> None:
        await self._report(SupplierOrderStage.ACCEPTED)
        self.started = True
        try:
            await workflow.wait_condition(
                lambda: self.stage in FINAL_STAGES or (self._cancel_pending() and not self.shipping),
                timeout=MANUAL_LIFETIME)
        except TimeoutError:
            raise _refusal(f"supplier order {self.plan.supplier_order_id} was left at the "
                           f"{_STAGE_LABEL[self.stage]} stage for a year", "SupplierOrderAbandoned") from None
        if self.stage not in FINAL_STAGES:
            await self._cancel()

    # -- steps shared by the strategies --------------------------------------------------------
    def _cancel_pending(self) -> bool:
        return self.cancel_request is not None and not self.shipment_begun

    async def _cancelled_within(self, seconds: float) -> bool:
        """Wait `seconds` (none for 0); True as soon as a cancel arrives."""
        if not self._cancel_pending() and seconds > 0:
            try:
                await workflow.wait_condition(self._cancel_pending, timeout=timedelta(seconds=seconds))
            except TimeoutError:
                pass
        return self._cancel_pending()

    async def _begin_shipment(self) -> bool:
        """Ask the order whether the goods may leave. False: refused (or cancelled just before), and
        the supplier order is cancelled. A failure other than a refusal fails the workflow loudly."""
        if self._cancel_pending():
            await self._cancel()
            return False
        try:
            await workflow.execute_activity(FulfillmentActivities.BEGIN_SHIPMENT,
                                            BeginShipment(self.input.order_number, self.plan.supplier_order_id),
                                            **SHIPMENT_CALL)
        except ActivityError as error:
            refusal = _refused(error)
            if refusal is not None and refusal[0] == FulfillmentErrors.ORDER_CANCELLED:
                await self._cancel(f"The order was cancelled before this supplier order shipped. {refusal[1]}".strip())
                return False
            raise _refusal(f"supplier order {self.plan.supplier_order_id} could not begin its shipment: "
                           f"{_reason(error)}", refusal[0] if refusal else "BeginShipmentFailed") from None
        self.shipment_begun = True
        if self.cancel_request is not None:
            workflow.logger.info("%s: cancel ignored, the shipment has begun", self.plan.supplier_order_id)
        return True

    async def _commit_stock(self) -> None:
        try:
            await workflow.execute_activity(FulfillmentActivities.COMMIT_STOCK,
                                            CommitStock(self.plan.supplier_order_id, self.input.lines),
                                            **STOCK_CALL)
        except ActivityError as error:
            refusal = _refused(error)
            raise _refusal(f"supplier order {self.plan.supplier_order_id} could not commit its stock: "
                           f"{_reason(error)}", refusal[0] if refusal else "CommitStockFailed") from None

    async def _cancel(self, message: str = "") -> None:
        """Cancel before the shipment began: the partner's order too, then report `cancelled`."""
        if self.stage in FINAL_STAGES:
            return
        request = self.cancel_request
        if not message:
            message = f"Cancelled: {request.reason}" if request and request.reason else "Cancelled."
        if self.strategy == FulfillmentStrategy.DROPSHIP and self.partner_order_id:
            try:
                await self._partner(FulfillmentActivities.PARTNER_CANCEL)
            except ApplicationError as error:
                # Never released, the partner cannot ship it: the supplier order is cancelled all the same.
                workflow.logger.warning("%s: partner cancel failed: %s", self.plan.supplier_order_id, error)
                message = f"{message} (The partner could not be told: {error.message})"
        actor = request.actor if request and request.actor else Actor.FULFILLMENT
        await self._report(SupplierOrderStage.CANCELLED, actor=actor, message=message)

    async def _partner(self, activity_name: str) -> None:
        try:
            await workflow.execute_activity(activity_name, self.partner_order_id, **PARTNER_CALL)
        except ActivityError as error:
            refusal = _refused(error)
            raise _refusal(f"the dropship partner failed {activity_name} of {self.partner_order_id}: "
                           f"{_reason(error)}", refusal[0] if refusal else FulfillmentErrors.PARTNER_UNAVAILABLE
                           ) from None

    async def _poll_partner(self, target: str, cancellable: bool) -> PartnerStatus | None:
        """Poll the partner until its order reaches `target` (or beyond). None: cancelled meanwhile
        (only when `cancellable`). Fails loudly when the partner cancelled it on its own or never
        gets there within partner_max_polls."""
        timings = self.input.timings
        interval = max(timedelta(seconds=max(timings.partner_poll_seconds, 0.0)), MIN_POLL)
        while True:
            if cancellable and self._cancel_pending():
                return None
            status: PartnerStatus | None = None
            try:
                status = await workflow.execute_activity(FulfillmentActivities.PARTNER_STATUS, self.partner_order_id,
                                                         result_type=PartnerStatus, **PARTNER_CALL)
            except ActivityError as error:
                refusal = _refused(error)
                if refusal is not None:
                    raise _refusal(f"the dropship partner refused the status of {self.partner_order_id}: "
                                   f"{refusal[1]}", refusal[0]) from None
                # Out of retries: the next poll tries again (the polls are the budget).
                workflow.logger.warning("%s: partner status unavailable: %s", self.plan.supplier_order_id, error)
            if status is not None:
                if status.stage == PartnerStage.CANCELLED:
                    raise _refusal(f"the dropship partner cancelled {self.partner_order_id} on its own",
                                   FulfillmentErrors.CANCELLED)
                if _PARTNER_RANK.get(status.stage, -1) >= _PARTNER_RANK[target]:
                    return status
            self.polls += 1
            if self.polls >= timings.partner_max_polls or \
                    workflow.info().get_current_history_length() > MAX_POLL_HISTORY_EVENTS:
                raise _refusal(f"the dropship partner's order {self.partner_order_id} did not reach {target} "
                               f"after {self.polls} polls", FulfillmentErrors.PARTNER_UNAVAILABLE)
            if cancellable:
                try:
                    await workflow.wait_condition(self._cancel_pending, timeout=interval)
                except TimeoutError:
                    pass
            else:
                await workflow.sleep(interval)

    async def _report(self, stage: str, actor: str = Actor.FULFILLMENT, message: str = "") -> None:
        """Move to `stage` and tell the order (by workflow id: it reaches the order's current run)."""
        self.stage = stage
        if message:
            self.message = message
        event = SupplierOrderEvent(
            order_number=self.input.order_number, supplier_order_id=self.plan.supplier_order_id, stage=stage,
            at=workflow.now().isoformat(), tracking_number=self.tracking_number, carrier=self.carrier,
            actor=actor, message=message)
        try:
            await workflow.get_external_workflow_handle(order_workflow_id(self.input.order_number)).signal(
                OrderSignals.SUPPLIER_ORDER_PROGRESS, event)
        except Exception as error:  # noqa: BLE001 - an order that has ended cannot be told; the stage stands
            workflow.logger.warning("order %s not told %s of %s: %s", self.input.order_number, stage,
                                    self.plan.supplier_order_id, error)

    # -- signals, updates, query -------------------------------------------------------------------
    @workflow.signal(name=FulfillmentSignals.CANCEL)
    def cancel(self, request: FulfillmentCancel) -> None:
        """Honoured only before the shipment began (and before the supplier order ended)."""
        if self.shipment_begun or self.stage in FINAL_STAGES:
            workflow.logger.info("%s: cancel ignored at %s", self.plan.supplier_order_id,
                                 "shipment" if self.shipment_begun else self.stage)
            return
        if self.cancel_request is None:
            self.cancel_request = request

    @workflow.update(name=FulfillmentUpdates.MARK_PACKED)
    async def mark_packed(self, request: ManualStepRequest) -> SupplierOrderView:
        return await self._step(request, SupplierOrderStage.ACCEPTED, "packed", self._pack)

    @mark_packed.validator
    def _validate_packed(self, request: ManualStepRequest) -> None:
        self._validate(request, SupplierOrderStage.ACCEPTED, "packed")

    @workflow.update(name=FulfillmentUpdates.MARK_SHIPPED)
    async def mark_shipped(self, request: ManualStepRequest) -> SupplierOrderView:
        return await self._step(request, SupplierOrderStage.PACKED, "shipped", self._ship)

    @mark_shipped.validator
    def _validate_shipped(self, request: ManualStepRequest) -> None:
        if self._validate(request, SupplierOrderStage.PACKED, "shipped"):
            _check_tracking(request)

    @workflow.update(name=FulfillmentUpdates.MARK_DELIVERED)
    async def mark_delivered(self, request: ManualStepRequest) -> SupplierOrderView:
        return await self._step(request, SupplierOrderStage.SHIPPED, "delivered", self._deliver)

    @mark_delivered.validator
    def _validate_delivered(self, request: ManualStepRequest) -> None:
        self._validate(request, SupplierOrderStage.SHIPPED, "delivered")

    @workflow.query(name=FulfillmentQueries.GET)
    def get_supplier_order(self) -> SupplierOrderView:
        return self._view()

    def _validate(self, request: ManualStepRequest, before: str, what: str) -> bool:
        """Refuse a manual step with a reason; False when the same update id was applied before
        (it answers as it did then)."""
        if self._applied_before() is not None:
            return False
        if self.strategy != FulfillmentStrategy.MANUAL:
            raise _refusal(f"Supplier order {self.plan.supplier_order_id} is fulfilled by its supplier "
                           f"({self.strategy}), not marked by hand.", FulfillmentErrors.NOT_MANUAL)
        if not isinstance(request.actor, str) or not request.actor.strip() or len(request.actor) > MAX_ACTOR_LENGTH:
            raise _refusal(f"Say who acted (1 to {MAX_ACTOR_LENGTH} characters).", OrderErrors.INVALID_REQUEST)
        self._require_stage(before, what)
        return True

    def _require_stage(self, before: str, what: str) -> None:
        current = _STAGE_LABEL.get(self.stage, self.stage)
        if self.stage == SupplierOrderStage.CANCELLED:
            raise _refusal(f"Supplier order {self.plan.supplier_order_id} was cancelled: it cannot be marked {what}.",
                           FulfillmentErrors.WRONG_STAGE)
        if self._cancel_pending():
            raise _refusal(f"Supplier order {self.plan.supplier_order_id} is being cancelled: it cannot be marked "
                           f"{what}.", FulfillmentErrors.WRONG_STAGE)
        if self.shipping:
            raise _refusal(f"Supplier order {self.plan.supplier_order_id} is being shipped just now; try again in "
                           "a moment.", FulfillmentErrors.WRONG_STAGE)
        if self.stage != before:
            raise _refusal(f"Supplier order {self.plan.supplier_order_id} is at the {current} stage: it can be "
                           f"marked {what} only when it is {_STAGE_LABEL[before]}.", FulfillmentErrors.WRONG_STAGE)

    def _applied_before(self) -> SupplierOrderView | None:
        info = workflow.current_update_info()
        return self.applied.get(info.id) if info else None

    async def _step(self, request: ManualStepRequest, before: str, what: str, action) -> SupplierOrderView:
        earlier = self._applied_before()
        if earlier is not None:
            return earlier
        # Staff may act before `accepted` has been reported: keep the order's reports in order.
        await workflow.wait_condition(lambda: self.started)
        # Two updates validated in the same task both passed their validator: check again here.
        self._require_stage(before, what)
        await action(request)
        view = self._view()
        info = workflow.current_update_info()
        if info is not None:
            self.applied[info.id] = view
        return view

    async def _pack(self, request: ManualStepRequest) -> None:
        await self._report(SupplierOrderStage.PACKED, actor=request.actor.strip())

    async def _ship(self, request: ManualStepRequest) -> None:
        self.shipping = True
        try:
            try:
                await workflow.execute_activity(
                    FulfillmentActivities.BEGIN_SHIPMENT,
                    BeginShipment(self.input.order_number, self.plan.supplier_order_id), **SHIPMENT_CALL)
            except ActivityError as error:
                refusal = _refused(error)
                if refusal is not None and refusal[0] == FulfillmentErrors.ORDER_CANCELLED:
                    message = "The order was cancelled: this supplier order will not ship and is cancelled."
                    await self._cancel(message)
                    raise _refusal(message, FulfillmentErrors.ORDER_CANCELLED) from None
                raise _refusal(f"The shipment could not be started ({_reason(error)}); nothing was marked. "
                               "Try again.", refusal[0] if refusal else "BeginShipmentFailed") from None
            self.shipment_begun = True
            try:
                await workflow.execute_activity(FulfillmentActivities.COMMIT_STOCK,
                                                CommitStock(self.plan.supplier_order_id, self.input.lines),
                                                **STOCK_CALL)
            except ActivityError as error:
                refusal = _refused(error)
                raise _refusal(f"The stock could not be taken off the shelf ({_reason(error)}); the supplier order "
                               "is still packed.", refusal[0] if refusal else "CommitStockFailed") from None
            self.tracking_number = request.tracking_number.strip()
            self.carrier = request.carrier.strip()
            await self._report(SupplierOrderStage.SHIPPED, actor=request.actor.strip())
        finally:
            self.shipping = False

    async def _deliver(self, request: ManualStepRequest) -> None:
        await self._report(SupplierOrderStage.DELIVERED, actor=request.actor.strip())

    def _view(self) -> SupplierOrderView:
        return SupplierOrderView(
            supplier_order_id=self.plan.supplier_order_id, strategy=self.strategy, stage=self.stage,
            tracking_number=self.tracking_number, carrier=self.carrier, partner_order_id=self.partner_order_id,
            message=self.message)


def _check_tracking(request: ManualStepRequest) -> None:
    tracking = request.tracking_number.strip() if isinstance(request.tracking_number, str) else ""
    if not MIN_TRACKING_LENGTH <= len(tracking) <= MAX_TRACKING_LENGTH or not TRACKING_PATTERN.fullmatch(tracking):
        raise _refusal(f"A tracking number is {MIN_TRACKING_LENGTH} to {MAX_TRACKING_LENGTH} letters, digits or "
                       "dashes.", FulfillmentErrors.INVALID_TRACKING)
    carrier = request.carrier if isinstance(request.carrier, str) else None
    if carrier is None or len(carrier) > MAX_CARRIER_LENGTH or not carrier.isprintable():
        raise _refusal(f"A carrier's name is at most {MAX_CARRIER_LENGTH} printable characters.",
                       FulfillmentErrors.INVALID_TRACKING)
