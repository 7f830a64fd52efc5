"""Activities of checkout: all of its I/O (stock holds, catalog prices, the payment processor,
the order's rows, the order workflow, the confirmation email). Business refusals become
non-retryable ApplicationErrors with a type from the contracts."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from temporalio import activity
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from checkout import payments
from checkout.contracts import (
    AuthorizeRequest,
    CheckoutActivities,
    CheckoutErrors,
    HoldLinesRequest,
    PaymentErrors,
    PaymentResult,
    PriceCheck,
)
from inventory import stock
from inventory.models import Variant
from orders import emails
from orders import store as order_store
from orders.access import order_url
from orders.contracts import TASK_QUEUE as ORDERS_TASK_QUEUE
from orders.contracts import OrderErrors, OrderInput, OrderWorkflows, order_workflow_id


@activity.defn(name=CheckoutActivities.HOLD_LINES)
def hold_lines(request: HoldLinesRequest) -> None:
    """Hold (or renew) every line until `expires_at`; a line that cannot be held is named."""
    expires_at = datetime.fromisoformat(request.expires_at)
    for line in request.lines:
        try:
            stock.hold(line.reservation_id, line.sku, line.quantity, expires_at, request.cart_id)
        except stock.OutOfStock as error:
            raise ApplicationError(f"{line.name} ({line.colour}, {line.size}): {error}",
                                   type=CheckoutErrors.LINE_UNAVAILABLE, non_retryable=True) from None
        except stock.StockError as error:
            raise ApplicationError(f"{line.name}: {error}", type=error.kind, non_retryable=True) from None


@activity.defn(name=CheckoutActivities.RELEASE_LINES)
def release_lines(request: HoldLinesRequest) -> int:
    return sum(1 for line in request.lines if stock.release(line.reservation_id, line.sku))


@activity.defn(name=CheckoutActivities.CONFIRM_HOLDS)
def confirm_holds(request: HoldLinesRequest) -> None:
    for line in request.lines:
        try:
            stock.confirm(line.reservation_id, line.sku)
        except stock.HoldNotActive:
            raise ApplicationError(f"Sorry, {line.name} ({line.colour}, {line.size}) is no longer held for you.",
                                   type=CheckoutErrors.LINE_UNAVAILABLE, non_retryable=True) from None


@activity.defn(name=CheckoutActivities.PRICE_LINES)
def price_lines(skus: list[str]) -> PriceCheck:
    prices = {variant.sku: variant.price_cents for variant in Variant.objects.filter(sku__in=list(skus))}
    return PriceCheck(unit_prices=prices)


@activity.defn(name=CheckoutActivities.AUTHORIZE_PAYMENT)
def authorize_payment(request: AuthorizeRequest) -> PaymentResult:
    try:
        return payments.authorize(request)
    except payments.PaymentDeclined as declined:
        raise ApplicationError(str(declined), type=declined.kind, non_retryable=True) from None
    except payments.PaymentRefused as refused:
        raise ApplicationError(str(refused), type=PaymentErrors.REFUSED, non_retryable=True) from None


@activity.defn(name=CheckoutActivities.VOID_PAYMENT)
def void_payment(authorization_key: str) -> PaymentResult:
    return payments.void(authorization_key)


@activity.defn(name=CheckoutActivities.WRITE_ORDER)
def write_order(order: OrderInput) -> None:
    try:
        order_store.write_order(order)
    except order_store.OrderNumberTaken as error:
        raise ApplicationError(str(error), type=OrderErrors.NUMBER_TAKEN, non_retryable=True) from None


@activity.defn(name=CheckoutActivities.START_ORDER)
async def start_order_workflow(order: OrderInput) -> None:
    """Start the order's workflow once: a retried activity finds it started (or finished)."""
    try:
        await activity.client().start_workflow(
            OrderWorkflows.ORDER, order, id=order_workflow_id(order.order_number), task_queue=ORDERS_TASK_QUEUE,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
    except WorkflowAlreadyStartedError:
        pass


@activity.defn(name=CheckoutActivities.SEND_CONFIRMATION)
def send_order_confirmation(order_number: str) -> None:
    if emails.confirmation_sent(order_number):
        return
    order = order_store.read_order(order_number)
    if order is None:
        raise ApplicationError(f"order {order_number} not found", type="OrderNotFound", non_retryable=True)
    emails.send_order_confirmation(order, order_url(order_number, settings.SHOP_BASE_URL))
    emails.mark_confirmation_sent(order_number)
