"""Activities of fulfillment: all of its I/O (settings, the order workflow, stock rows, the dropship
partner). Business refusals become non-retryable ApplicationErrors with a type from the contracts;
anything else stays retryable, within the budget the workflow gives each call."""

from __future__ import annotations

from django.conf import settings
from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from fulfillment import partner
from fulfillment.contracts import (
    BeginShipment,
    CommitStock,
    FulfillmentActivities,
    FulfillmentErrors,
    FulfillmentTimings,
    PartnerOrder,
    PartnerStatus,
)
from inventory import stock
from inventory.contracts import StockErrors
from orders.contracts import ActionResult, OrderErrors, OrderUpdates, ShipmentRequest, order_workflow_id

# The order workflow is not running (never started, or ended): no retry can change that.
ORDER_NOT_RUNNING = "OrderWorkflowNotRunning"
MAX_STAGE_SECONDS = 30 * 24 * 3600.0
MIN_POLL_SECONDS = 0.1
MAX_POLL_SECONDS = 3600.0


def _bounded(value: object, low: float, high: float) -> float:
    number = float(value)  # settings are parsed and bounded by commerce.env; tests may set anything
    return min(max(number, low), high) if number == number else low  # NaN -> low


@activity.defn(name=FulfillmentActivities.LOAD_TIMINGS)
def load_timings() -> FulfillmentTimings:
    return FulfillmentTimings(
        processing_seconds=_bounded(settings.FULFILLMENT_PROCESSING_SECONDS, 0.0, MAX_STAGE_SECONDS),
        shipping_seconds=_bounded(settings.FULFILLMENT_SHIPPING_SECONDS, 0.0, MAX_STAGE_SECONDS),
        delivery_seconds=_bounded(settings.FULFILLMENT_DELIVERY_SECONDS, 0.0, MAX_STAGE_SECONDS),
        partner_poll_seconds=_bounded(settings.DROPSHIP_POLL_SECONDS, MIN_POLL_SECONDS, MAX_POLL_SECONDS),
    )


@activity.defn(name=FulfillmentActivities.BEGIN_SHIPMENT)
async def begin_shipment(request: BeginShipment) -> None:
    """Ask the order whether this supplier order may leave (its `begin_shipment` update, once per
    supplier order by update id). Refused: the order was cancelled -> non-retryable ORDER_CANCELLED."""
    workflow_id = order_workflow_id(request.order_number)
    handle = activity.client().get_workflow_handle(workflow_id)
    try:
        await handle.execute_update(OrderUpdates.BEGIN_SHIPMENT, ShipmentRequest(request.supplier_order_id),
                                    id=f"begin-shipment-{request.supplier_order_id}", result_type=ActionResult)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError) and cause.type == OrderErrors.ORDER_CANCELLED:
            raise ApplicationError(cause.message or f"Order {request.order_number} was cancelled.",
                                   type=FulfillmentErrors.ORDER_CANCELLED, non_retryable=True) from None
        raise  # anything else the order said may pass: retried
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise ApplicationError(
                f"The order workflow {workflow_id} is not running (never started, or ended), so supplier order "
                f"{request.supplier_order_id} cannot ask whether it may ship: {error.message}",
                type=ORDER_NOT_RUNNING, non_retryable=True) from None
        raise


@activity.defn(name=FulfillmentActivities.COMMIT_STOCK)
def commit_stock(request: CommitStock) -> None:
    """Take every line's held units off the shelf, once per reservation (a retry commits nothing twice)."""
    for line in request.lines:
        try:
            stock.commit(line.reservation_id, line.sku)
        except stock.HoldNotActive as error:
            raise ApplicationError(
                f"Supplier order {request.supplier_order_id} cannot ship {line.name} ({line.sku}): its units are "
                f"not held for the order any more ({error})", type=StockErrors.HOLD_NOT_ACTIVE,
                non_retryable=True) from None


def _partner_call(call, *args):
    try:
        return call(*args)
    except partner.PartnerUnavailable as error:
        raise ApplicationError(str(error), type=FulfillmentErrors.PARTNER_UNAVAILABLE) from None
    except partner.PartnerRefused as error:
        raise ApplicationError(str(error), type=partner.PartnerRefused.kind, non_retryable=True) from None


@activity.defn(name=FulfillmentActivities.PARTNER_SUBMIT)
def partner_submit(order: PartnerOrder) -> str:
    return _partner_call(partner.submit, order)


@activity.defn(name=FulfillmentActivities.PARTNER_STATUS)
def partner_status(partner_order_id: str) -> PartnerStatus:
    return _partner_call(partner.status, partner_order_id)


@activity.defn(name=FulfillmentActivities.PARTNER_RELEASE)
def partner_release(partner_order_id: str) -> None:
    _partner_call(partner.release, partner_order_id)


@activity.defn(name=FulfillmentActivities.PARTNER_CANCEL)
def partner_cancel(partner_order_id: str) -> None:
    _partner_call(partner.cancel, partner_order_id)
