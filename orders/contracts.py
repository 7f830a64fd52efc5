"""The OMS's Temporal face and the order's dataclasses. Standard library only (and other apps'
contracts): the order workflow imports this module."""

from __future__ import annotations

from dataclasses import dataclass, field

from checkout.contracts import Address, CheckoutLine, Totals
from identity.contracts import StoreConfig

TASK_QUEUE = "oms"


def order_workflow_id(order_number: str) -> str:
    return f"order-{order_number}"


class OrderWorkflows:
    ORDER = "Order"
    LINK_GUEST_ORDERS = "LinkGuestOrders"  # LinkOrdersRequest -> int (orders linked by this run)


def link_orders_workflow_id(shopper_id: str) -> str:
    """One linking run per shopper at a time; a later verification starts a new one (idempotent)."""
    return f"link-orders-{shopper_id}"


@dataclass(frozen=True)
class LinkOrdersRequest:
    """Set `customer_id = shopper_id` on the guest orders (customer_id "") of this verified email."""

    shopper_id: str
    email: str  # normalized: the account's email, which the shopper verified


class OrderQueries:
    GET = "get_order"  # -> OrderDetail


class OrderUpdates:
    """Staff actions (each takes its request dataclass, answers an ActionResult) and the fulfillment
    handshake. The update id is the action's idempotency key: the same id sent twice applies once."""

    APPROVE = "approve"  # StaffAction
    CANCEL = "cancel"  # StaffAction (reason required)
    REFUND = "refund"  # RefundRequest
    ADD_NOTE = "add_note"  # NoteRequest
    RETRY_PAYMENT = "retry_payment"  # StaffAction: re-authorize an order held for payment
    # From a fulfillment activity, before a supplier order may leave: refused once the order is
    # cancelled; accepted, it makes cancel impossible from then on. ShipmentRequest -> ActionResult.
    BEGIN_SHIPMENT = "begin_shipment"


class OrderSignals:
    # Fulfillment reports each supplier order's progress: SupplierOrderEvent.
    SUPPLIER_ORDER_PROGRESS = "supplier_order_progress"


class OrderActivities:
    LOAD_SETTINGS = "order_load_settings"  # () -> OrderSettings
    PLAN_SUPPLIER_ORDERS = "order_plan_supplier_orders"  # OrderInput -> tuple[SupplierOrderPlan, ...]
    RECORD = "order_record"  # OrderRecord -> None: history row, status columns, shipments, projections
    START_FULFILLMENT = "order_start_fulfillment"  # fulfillment.contracts.FulfillmentRequest -> None
    CANCEL_FULFILLMENT = "order_cancel_fulfillment"  # order_number -> None (signals it; gone is fine)
    CAPTURE = "order_capture_payment"  # CaptureRequest -> PaymentResult
    REAUTHORIZE = "order_reauthorize_payment"  # ReauthorizeRequest -> PaymentResult
    VOID = "order_void_payment"  # authorization key -> PaymentResult
    REFUND = "order_refund_payment"  # RefundPaymentRequest -> PaymentResult
    RELEASE_STOCK = "order_release_stock"  # tuple[CheckoutLine, ...] -> int (lines released)
    SEND_EMAIL = "order_send_email"  # OrderEmailRequest -> None (once per order and key)
    LINK_GUEST_ORDERS = "order_link_guest_orders"  # LinkOrdersRequest -> int (orders linked now)


class OrderErrors:
    """ApplicationError types of the OMS; every refusal carries a message staff can read."""

    NUMBER_TAKEN = "OrderNumberTaken"
    ILLEGAL_TRANSITION = "IllegalTransition"  # the transition table refuses the move
    NOT_ALLOWED_NOW = "ActionNotAllowed"  # e.g. cancel after the first shipment
    INVALID_REQUEST = "InvalidOrderRequest"  # bad amount, unknown SKU, empty reason, too long a note
    REFUND_EXCEEDS_CAPTURED = "RefundExceedsCaptured"
    ORDER_CANCELLED = "OrderCancelled"  # begin_shipment of a cancelled order
    PAYMENT_HOLD = "PaymentHold"  # the order waits for staff: re-authorization failed
    # The action was decided on an older state of the order (its `expected_version`): look again.
    STALE = "OrderChangedMeanwhile"


class OrderStatus:
    PLACED = "placed"
    AWAITING_APPROVAL = "awaiting_approval"
    PROCESSING = "processing"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"

    ALL = (PLACED, AWAITING_APPROVAL, PROCESSING, PARTIALLY_SHIPPED, SHIPPED, DELIVERED, CANCELLED, REFUNDED)
    FINAL = (DELIVERED, CANCELLED, REFUNDED)  # refunded after delivered is final; delivered may still refund
    LABELS = {
        PLACED: "Placed", AWAITING_APPROVAL: "Awaiting approval", PROCESSING: "Processing",
        PARTIALLY_SHIPPED: "Partially shipped", SHIPPED: "Shipped", DELIVERED: "Delivered",
        CANCELLED: "Cancelled", REFUNDED: "Refunded",
    }


# The one table of legal order moves (orders/transitions.py enforces it with a reason).
ORDER_TRANSITIONS: dict[str, tuple[str, ...]] = {
    OrderStatus.PLACED: (OrderStatus.AWAITING_APPROVAL, OrderStatus.PROCESSING, OrderStatus.CANCELLED),
    OrderStatus.AWAITING_APPROVAL: (OrderStatus.PROCESSING, OrderStatus.CANCELLED),
    OrderStatus.PROCESSING: (OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.CANCELLED),
    OrderStatus.PARTIALLY_SHIPPED: (OrderStatus.SHIPPED,),
    OrderStatus.SHIPPED: (OrderStatus.DELIVERED, OrderStatus.REFUNDED),
    OrderStatus.DELIVERED: (OrderStatus.REFUNDED,),
    OrderStatus.CANCELLED: (),
    OrderStatus.REFUNDED: (),
}


class SupplierOrderStage:
    """A supplier order's fulfillment stage, as fulfillment reports it."""

    PENDING = "pending"  # planned, fulfillment not yet started
    ACCEPTED = "accepted"  # the supplier has it (processing)
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"

    ORDER = (PENDING, ACCEPTED, PACKED, SHIPPED, DELIVERED)  # forward order; cancelled is off to the side
    LABELS = {PENDING: "Pending", ACCEPTED: "Processing", PACKED: "Packed", SHIPPED: "Shipped",
              DELIVERED: "Delivered", CANCELLED: "Cancelled"}


class FulfillmentStrategy:
    SIMULATED = "simulated"
    DROPSHIP = "dropship"
    MANUAL = "manual"

    ALL = (SIMULATED, DROPSHIP, MANUAL)


class Actor:
    """Who made a transition when no staff member did."""

    SYSTEM = "system"  # the order workflow itself (placed, approval timeout, aggregation)
    CHECKOUT = "checkout"
    FULFILLMENT = "fulfillment"


MAX_NOTE_LENGTH = 2_000
MAX_REASON_LENGTH = 500
MAX_ACTOR_LENGTH = 150
MAX_TRACKING_LENGTH = 64


def supplier_order_id(order_number: str, index: int) -> str:
    """The k-th supplier order of an order (k from 1); also the suffix of its fulfillment child."""
    return f"{order_number}-so-{index}"


@dataclass(frozen=True)
class OrderInput:
    """The order as the checkout placed it: the contract the order workflow keeps."""

    order_number: str
    checkout_id: str
    cart_id: str
    email: str
    customer_id: str
    shipping_address: Address
    shipping_method: str
    lines: tuple[CheckoutLine, ...]
    totals: Totals
    payment_authorization_key: str
    card_brand: str
    card_last4: str
    placed_at: str  # ISO 8601


@dataclass(frozen=True)
class OrderView:
    order_number: str
    status: str
    email: str
    shipping_address: Address
    shipping_method: str
    lines: tuple[CheckoutLine, ...]
    totals: Totals
    card_brand: str
    card_last4: str
    placed_at: str
    # The signed-in shopper who placed it (their `shopper_id`), or who claimed it after verifying the
    # email; "" for a guest order.
    customer_id: str = ""


# -- what the order workflow is told and asked ------------------------------------------------------

@dataclass(frozen=True)
class OrderSettings:
    """What the OMS reads once, through an activity, when an order starts."""

    config: StoreConfig
    # How long the processor honours an authorization; past it the OMS re-authorizes before capture.
    authorization_validity_seconds: int = 7 * 24 * 3600


@dataclass(frozen=True)
class StaffAction:
    """approve, cancel, retry_payment: who acted and why (cancel needs a reason).

    `expected_version`: the OrderDetail.version the action was decided on (a console form's); the order
    refuses it (OrderErrors.STALE) when it has changed since. 0: no check."""

    actor: str
    reason: str = ""
    expected_version: int = 0


@dataclass(frozen=True)
class RefundRequest:
    """A refund after shipment: an amount, or whole lines by SKU (their share of the total), never both."""

    actor: str
    reason: str
    amount_cents: int = 0
    skus: tuple[str, ...] = ()
    expected_version: int = 0  # as StaffAction's


@dataclass(frozen=True)
class NoteRequest:
    actor: str
    text: str


@dataclass(frozen=True)
class ShipmentRequest:
    """Fulfillment asks whether a supplier order may leave now (the begin_shipment handshake)."""

    supplier_order_id: str


@dataclass(frozen=True)
class ActionResult:
    """What an update did: `applied` False means it had been applied before (same update id)."""

    action: str
    applied: bool
    status: str  # the order's status after it
    message: str = ""


# -- the order's parts -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SupplierOrderPlan:
    """One supplier's share of an order, planned once when fulfillment starts."""

    supplier_order_id: str  # supplier_order_id(order_number, index)
    index: int  # from 1
    supplier_id: str
    supplier_name: str
    strategy: str  # FulfillmentStrategy
    line_indexes: tuple[int, ...]  # positions in OrderInput.lines
    amount_cents: int  # its share of the order total: the shares sum exactly to the total


@dataclass(frozen=True)
class SupplierOrderEvent:
    """Fulfillment's report of a supplier order's stage (signal SUPPLIER_ORDER_PROGRESS). Reports that
    do not move the stage forward are ignored, so a repeated report changes nothing."""

    order_number: str
    supplier_order_id: str
    stage: str  # SupplierOrderStage
    at: str  # ISO 8601
    tracking_number: str = ""
    carrier: str = ""
    actor: str = Actor.FULFILLMENT
    message: str = ""


@dataclass(frozen=True)
class SupplierOrderState:
    plan: SupplierOrderPlan
    stage: str = SupplierOrderStage.PENDING
    tracking_number: str = ""
    carrier: str = ""
    updated_at: str = ""
    shipment_begun: bool = False  # begin_shipment accepted: the order can no longer be cancelled
    captured_cents: int = 0
    # The manual fulfillment actions (fulfillment.contracts.FulfillmentUpdates) allowed now.
    manual_actions: tuple[str, ...] = ()
    # Who moved it to its stage: a staff member's username (a manual step), or Actor.*.
    updated_by: str = ""


@dataclass(frozen=True)
class Transition:
    """One row of `order_status_history`."""

    seq: int  # from 1, in the order the workflow made them
    at: str  # ISO 8601, workflow time
    from_status: str  # "" for the first (placed)
    to_status: str
    actor: str  # a staff member's username, or Actor.*
    reason: str = ""


@dataclass(frozen=True)
class Note:
    at: str
    actor: str
    text: str


@dataclass(frozen=True)
class PaymentEntry:
    """One payment operation as the OMS made it (the processor's ledger is the truth of money)."""

    kind: str  # authorize, capture, void, refund
    idempotency_key: str
    authorization_key: str
    amount_cents: int
    status: str  # the processor's status, or "failed" with `message`
    at: str
    supplier_order_id: str = ""
    message: str = ""
    actor: str = ""  # the staff member whose action made it (a refund, a retried payment); "" for the OMS
    reason: str = ""  # a refund's reason


@dataclass(frozen=True)
class OrderDetail:
    """The `get_order` query: everything staff need, and the actions allowed now."""

    order: OrderInput
    status: str
    supplier_orders: tuple[SupplierOrderState, ...] = ()
    payments: tuple[PaymentEntry, ...] = ()
    authorization_key: str = ""  # the live one (changes when re-authorized)
    authorized_cents: int = 0
    captured_cents: int = 0
    refunded_cents: int = 0
    refunded_skus: tuple[str, ...] = ()
    notes: tuple[Note, ...] = ()
    history: tuple[Transition, ...] = ()
    allowed_actions: tuple[str, ...] = ()  # OrderUpdates names staff may send now
    payment_hold_reason: str = ""  # set while the order waits for staff about its payment
    approval_deadline: str = ""  # ISO 8601, while awaiting approval
    version: int = 0  # goes up with every change: the projection's external version
    # Read back after the workflow ended (orders.staff): nothing can change it any more.
    closed: bool = False


# -- what the order workflow's activities take ----------------------------------------------------

@dataclass(frozen=True)
class OrderRecord:
    """Written by the RECORD activity after every change: the transition (if any) to
    `order_status_history`, the status to `orders`/`orders_by_customer`, the supplier orders to
    `order_shipments`, and the whole detail to the `orders` and `supplier_orders` indices
    (external version = detail.version, so a late retry never overwrites a newer state)."""

    detail: OrderDetail
    transition: Transition | None = None


@dataclass(frozen=True)
class CaptureRequest:
    authorization_key: str
    amount_cents: int
    idempotency_key: str
    supplier_order_id: str = ""


@dataclass(frozen=True)
class ReauthorizeRequest:
    """A new authorization for what is left to capture, on the same card; the old one is voided."""

    previous_authorization_key: str
    amount_cents: int
    idempotency_key: str  # becomes the new authorization's key


@dataclass(frozen=True)
class RefundPaymentRequest:
    authorization_key: str
    amount_cents: int
    idempotency_key: str


class OrderEmailKind:
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class OrderEmailRequest:
    """One email to the shopper, sent once per (order_number, key)."""

    order_number: str
    kind: str  # OrderEmailKind
    key: str  # e.g. "shipped:<supplier_order_id>", "cancelled", "refund:<update id>"
    tracking_number: str = ""
    carrier: str = ""
    amount_cents: int = 0
    reason: str = ""
    skus: tuple[str, ...] = field(default_factory=tuple)
