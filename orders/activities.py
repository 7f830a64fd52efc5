"""Activities of orders: all of the order workflow's I/O (settings, stock, the catalog's suppliers,
the order's rows and projections, the payment processor, the fulfillment workflow, email).

Business refusals become non-retryable ApplicationErrors with a type from the contracts (a payment
refusal keeps the processor's PaymentErrors type and its message); a processor or store that cannot
answer now raises a retryable error, and the workflow's retry policy tries again."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from temporalio import activity
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from checkout import payments
from checkout.contracts import CheckoutLine, PaymentErrors, PaymentResult
from fulfillment.contracts import TASK_QUEUE as FULFILLMENT_TASK_QUEUE
from fulfillment.contracts import (
    FulfillmentCancel,
    FulfillmentRequest,
    FulfillmentSignals,
    FulfillmentWorkflows,
    fulfillment_workflow_id,
)
from identity.config import current_store_config
from inventory import stock
from inventory.models import Product, Supplier, Variant
from orders import emails
from orders import store as order_store
from orders.access import order_url
from orders.apportion import apportion
from orders.contracts import (
    Actor,
    CaptureRequest,
    FulfillmentStrategy,
    LinkOrdersRequest,
    OrderActivities,
    OrderEmailRequest,
    OrderErrors,
    OrderInput,
    OrderRecord,
    OrderSettings,
    ReauthorizeRequest,
    RefundPaymentRequest,
    SupplierOrderPlan,
    supplier_order_id,
)

ORDER_NOT_FOUND = "OrderNotFound"
UNASSIGNED_SUPPLIER_NAME = "Unassigned supplier"
CANCEL_REASON = "The order was cancelled."
MAX_EMAIL_KEY_LENGTH = 200


# -- settings and planning -----------------------------------------------------------------------

@activity.defn(name=OrderActivities.LOAD_SETTINGS)
def load_settings() -> OrderSettings:
    """The store's configuration and how long the processor honours an authorization."""
    return OrderSettings(config=current_store_config(),
                         authorization_validity_seconds=payments.authorization_validity_seconds())


def _check_order(order: OrderInput) -> None:
    """Bound what arithmetic is done on (the order came through the checkout, but still)."""
    if isinstance(order.totals.total_cents, bool) or not isinstance(order.totals.total_cents, int) \
            or not 0 <= order.totals.total_cents <= payments.MAX_AMOUNT_CENTS:
        raise ApplicationError(f"Order {order.order_number} has a total out of bounds.",
                               type=OrderErrors.INVALID_REQUEST, non_retryable=True)
    for line in order.lines:
        if not (isinstance(line.quantity, int) and isinstance(line.unit_price_cents, int)
                and 1 <= line.quantity <= stock.MAX_ON_HAND
                and 0 <= line.unit_price_cents <= payments.MAX_AMOUNT_CENTS):
            raise ApplicationError(f"Order {order.order_number}: the line {line.sku} has a quantity or price out"
                                   " of bounds.", type=OrderErrors.INVALID_REQUEST, non_retryable=True)


def _catalog_suppliers(skus: set[str]) -> dict[str, str]:
    """SKU -> the supplier of its product in the catalog (for lines no stock row holds any more)."""
    if not skus:
        return {}
    product_of = {variant.sku: variant.product_slug for variant in Variant.objects.filter(sku__in=sorted(skus))}
    slugs = sorted(set(product_of.values()))
    supplier_of = {product.slug: product.supplier_id for product in Product.objects.filter(slug__in=slugs)} \
        if slugs else {}
    return {sku: supplier_of.get(slug, "") for sku, slug in product_of.items()}


@activity.defn(name=OrderActivities.PLAN_SUPPLIER_ORDERS)
def plan_supplier_orders(order: OrderInput) -> tuple[SupplierOrderPlan, ...]:
    """One supplier order per supplier, in the order the lines first name them (indexes from 1).

    A line goes to the supplier whose stock row holds its reservation; when none does any more, to
    its product's supplier in the catalog; failing both, to an "unassigned" manual supplier order
    staff deal with. The strategy is the supplier's (manual when the store forces manual
    fulfillment, or for a supplier or strategy unknown). Each supplier order's amount is its share
    of the order total (shipping, tax and discount included) by its lines' subtotal: the amounts sum
    exactly to the total."""
    _check_order(order)
    lines = order.lines
    if not lines:
        return ()
    holders = [stock.holder(line.reservation_id, line.sku) if line.reservation_id else None for line in lines]
    from_catalog = _catalog_suppliers({line.sku for line, holder in zip(lines, holders, strict=True) if not holder})
    groups: dict[str, list[int]] = {}  # supplier id -> line positions; dicts keep first appearance
    for position, (line, holder) in enumerate(zip(lines, holders, strict=True)):
        groups.setdefault(holder or from_catalog.get(line.sku, ""), []).append(position)
    known = {row.supplier_id: row for row in Supplier.objects.filter(supplier_id__in=sorted(s for s in groups if s))} \
        if any(groups) else {}
    force_manual = bool(current_store_config().manual_fulfillment)
    weights = [sum(lines[position].line_total_cents for position in positions) for positions in groups.values()]
    if not any(weights):  # free lines only: split evenly by line count
        weights = [len(positions) for positions in groups.values()]
    amounts = apportion(order.totals.total_cents, weights)
    plans = []
    for index, ((supplier_id, positions), amount) in enumerate(zip(groups.items(), amounts, strict=True), start=1):
        row = known.get(supplier_id)
        strategy = row.strategy if row is not None and row.strategy in FulfillmentStrategy.ALL \
            else FulfillmentStrategy.MANUAL
        plans.append(SupplierOrderPlan(
            supplier_order_id=supplier_order_id(order.order_number, index), index=index, supplier_id=supplier_id,
            supplier_name=row.name if row is not None else (supplier_id or UNASSIGNED_SUPPLIER_NAME),
            strategy=FulfillmentStrategy.MANUAL if force_manual else strategy,
            line_indexes=tuple(positions), amount_cents=amount))
    return tuple(plans)


# -- the order's rows and projections ------------------------------------------------------------

@activity.defn(name=OrderActivities.RECORD)
def record(order_record: OrderRecord) -> None:
    """The transition's history row, the status columns, the shipments and both indices."""
    from orders import projection  # imported here: the projection module is written alongside

    projection.record(order_record)


# -- fulfillment -----------------------------------------------------------------------------------

@activity.defn(name=OrderActivities.START_FULFILLMENT)
async def start_fulfillment(request: FulfillmentRequest) -> None:
    """Start the order's fulfillment once: a retried activity finds it started (or finished)."""
    try:
        await activity.client().start_workflow(
            FulfillmentWorkflows.FULFILLMENT, request, id=fulfillment_workflow_id(request.order_number),
            task_queue=FULFILLMENT_TASK_QUEUE,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
    except WorkflowAlreadyStartedError:
        pass


@activity.defn(name=OrderActivities.CANCEL_FULFILLMENT)
async def cancel_fulfillment(order_number: str) -> None:
    """Tell the order's fulfillment to stop (it forwards to every supplier order not yet shipping).
    A fulfillment never started, or already finished, has nothing to stop."""
    handle = activity.client().get_workflow_handle(fulfillment_workflow_id(order_number))
    try:
        await handle.signal(FulfillmentSignals.CANCEL, FulfillmentCancel(actor=Actor.SYSTEM, reason=CANCEL_REASON))
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise


# -- payments --------------------------------------------------------------------------------------

def _payment(call: Callable[[], PaymentResult]) -> PaymentResult:
    """A processor call; its refusals as non-retryable ApplicationErrors with the PaymentErrors type
    and the processor's message; "try later" as a retryable one."""
    try:
        return call()
    except payments.PaymentTemporarilyUnavailable as error:
        raise ApplicationError(error.message, type=error.kind) from None
    except payments.PaymentDeclined as error:
        raise ApplicationError(error.message, type=error.error_type, non_retryable=True) from None
    except payments.AuthorizationExpired as error:
        raise ApplicationError(error.message, type=PaymentErrors.AUTHORIZATION_EXPIRED, non_retryable=True) from None
    except payments.PaymentRefused as error:
        raise ApplicationError(error.message, type=PaymentErrors.REFUSED, non_retryable=True) from None


@activity.defn(name=OrderActivities.CAPTURE)
def capture_payment(request: CaptureRequest) -> PaymentResult:
    return _payment(lambda: payments.capture(request.authorization_key, request.amount_cents,
                                             request.idempotency_key))


@activity.defn(name=OrderActivities.REAUTHORIZE)
def reauthorize_payment(request: ReauthorizeRequest) -> PaymentResult:
    return _payment(lambda: payments.reauthorize(request.previous_authorization_key, request.amount_cents,
                                                 request.idempotency_key))


@activity.defn(name=OrderActivities.VOID)
def void_payment(authorization_key: str) -> PaymentResult:
    """Void what is left of an authorization (nothing_to_void when nothing is)."""
    return _payment(lambda: payments.void(authorization_key))


@activity.defn(name=OrderActivities.REFUND)
def refund_payment(request: RefundPaymentRequest) -> PaymentResult:
    return _payment(lambda: payments.refund(request.authorization_key, request.amount_cents,
                                            request.idempotency_key))


# -- stock -----------------------------------------------------------------------------------------

@activity.defn(name=OrderActivities.RELEASE_STOCK)
def release_stock(lines: tuple[CheckoutLine, ...]) -> int:
    """Give back the order's confirmed holds; the number of lines whose units moved (a retry finds
    them released and moves nothing)."""
    return sum(1 for line in lines if line.reservation_id and stock.release(line.reservation_id, line.sku))


# -- email -----------------------------------------------------------------------------------------

@activity.defn(name=OrderActivities.SEND_EMAIL)
def send_email(request: OrderEmailRequest) -> None:
    """Email the shopper once per (order, key): marked sent after the send, so a crash between the
    two sends again on retry (at least once), and a retry after the mark sends nothing."""
    if request.kind not in emails.ORDER_EMAIL_KINDS:
        raise ApplicationError(f"{request.kind!r} is not an order email.", type=OrderErrors.INVALID_REQUEST,
                               non_retryable=True)
    if not request.key or len(request.key) > MAX_EMAIL_KEY_LENGTH or request.key == emails.CONFIRMATION:
        raise ApplicationError(f"An order email's key is 1 to {MAX_EMAIL_KEY_LENGTH} characters, not"
                               f" {emails.CONFIRMATION!r}.", type=OrderErrors.INVALID_REQUEST, non_retryable=True)
    if emails.email_sent(request.order_number, request.key):
        return
    order = order_store.read_order(request.order_number)
    if order is None:
        raise ApplicationError(f"Order {request.order_number} not found.", type=ORDER_NOT_FOUND, non_retryable=True)
    emails.send_order_email(order, request, order_url(request.order_number, settings.SHOP_BASE_URL))
    emails.mark_email_sent(request.order_number, request.key)


# -- accounts: a verified email's guest orders -----------------------------------------------------

@activity.defn(name=OrderActivities.LINK_GUEST_ORDERS)
def link_guest_orders(request: LinkOrdersRequest) -> int:
    """Set the shopper's id on the email's guest orders (`orders`, `orders_by_customer`); the number
    linked by this attempt. The `orders` index carries no customer id, so nothing is reprojected."""
    if not request.shopper_id or not request.email or len(request.email) > 254 or len(request.shopper_id) > 40:
        raise ApplicationError("A link request needs a shopper id and an email.", type=OrderErrors.INVALID_REQUEST,
                               non_retryable=True)
    return order_store.link_guest_orders(request.shopper_id, request.email)
