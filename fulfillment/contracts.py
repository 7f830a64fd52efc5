"""Fulfillment's Temporal face and dataclasses. Standard library only (and other apps' contracts):
the workflows import this module.

`Fulfillment` (`fulfillment-{order_number}`, queue `fulfillment`) is started by an OMS activity
(not as a child, so the two queues deploy apart). It starts one `SupplierOrder` child per supplier
order (`fulfillment-{order_number}-so-{k}`), run by the strategy of its supplier: simulated
(timers), dropship (a simulated partner API, polled) or manual (staff updates at each stage).
Each child reports its stages to the order workflow by signal (orders.contracts.OrderSignals) and,
before its goods may leave, asks the order through the BEGIN_SHIPMENT update (refused once the
order is cancelled). Shipping commits the held stock; the OMS releases it on cancel.
"""

from __future__ import annotations

from dataclasses import dataclass

from checkout.contracts import Address, CheckoutLine
from orders.contracts import SupplierOrderPlan

TASK_QUEUE = "fulfillment"


def fulfillment_workflow_id(order_number: str) -> str:
    return f"fulfillment-{order_number}"


def supplier_order_workflow_id(order_number: str, index: int) -> str:
    """The k-th supplier order's child (k from 1, as SupplierOrderPlan.index)."""
    return f"fulfillment-{order_number}-so-{index}"


class FulfillmentWorkflows:
    FULFILLMENT = "Fulfillment"
    SUPPLIER_ORDER = "SupplierOrder"


class FulfillmentSignals:
    # To the parent (it forwards to every child that has not begun shipping): FulfillmentCancel.
    CANCEL = "cancel"


class FulfillmentUpdates:
    """Staff's manual steps, on a manual supplier order's child: ManualStepRequest -> SupplierOrderView.
    Refused with a reason when the supplier order is not manual or not at the stage before."""

    MARK_PACKED = "mark_packed"
    MARK_SHIPPED = "mark_shipped"  # needs a tracking number
    MARK_DELIVERED = "mark_delivered"

    ALL = (MARK_PACKED, MARK_SHIPPED, MARK_DELIVERED)


class FulfillmentQueries:
    GET = "get_supplier_order"  # on a child -> SupplierOrderView


class FulfillmentActivities:
    LOAD_TIMINGS = "fulfillment_load_timings"  # () -> FulfillmentTimings
    BEGIN_SHIPMENT = "fulfillment_begin_shipment"  # BeginShipment -> None; ORDER_CANCELLED when refused
    COMMIT_STOCK = "fulfillment_commit_stock"  # CommitStock -> None
    PARTNER_SUBMIT = "dropship_submit"  # PartnerOrder -> str (partner order id), idempotent by reference
    PARTNER_STATUS = "dropship_status"  # partner order id -> PartnerStatus
    PARTNER_RELEASE = "dropship_release"  # partner order id -> None (may ship now)
    PARTNER_CANCEL = "dropship_cancel"  # partner order id -> None


class FulfillmentErrors:
    WRONG_STAGE = "WrongFulfillmentStage"
    NOT_MANUAL = "NotManualFulfillment"
    INVALID_TRACKING = "InvalidTrackingNumber"
    PARTNER_UNAVAILABLE = "PartnerUnavailable"  # transient: retried
    ORDER_CANCELLED = "OrderCancelled"  # the order refused begin_shipment (same as OrderErrors')
    CANCELLED = "SupplierOrderCancelled"


@dataclass(frozen=True)
class FulfillmentTimings:
    """Simulated durations (seconds; 0 in tests and benchmarks) and the partner's polling."""

    processing_seconds: float = 60.0  # accepted -> packed
    shipping_seconds: float = 60.0  # packed -> shipped
    delivery_seconds: float = 120.0  # shipped -> delivered
    partner_poll_seconds: float = 5.0
    partner_max_polls: int = 10_000  # then the child fails loudly (a partner that never answers)


@dataclass(frozen=True)
class FulfillmentRequest:
    """What the OMS starts fulfillment with."""

    order_number: str
    shipping_address: Address
    lines: tuple[CheckoutLine, ...]  # the order's lines; plans point into them
    supplier_orders: tuple[SupplierOrderPlan, ...]


@dataclass(frozen=True)
class SupplierOrderInput:
    order_number: str
    plan: SupplierOrderPlan
    lines: tuple[CheckoutLine, ...]  # this supplier order's lines only
    shipping_address: Address
    timings: FulfillmentTimings


@dataclass(frozen=True)
class FulfillmentCancel:
    actor: str
    reason: str = ""


@dataclass(frozen=True)
class ManualStepRequest:
    actor: str
    tracking_number: str = ""
    carrier: str = ""


@dataclass(frozen=True)
class SupplierOrderView:
    supplier_order_id: str
    strategy: str
    stage: str  # orders.contracts.SupplierOrderStage
    tracking_number: str = ""
    carrier: str = ""
    partner_order_id: str = ""
    message: str = ""


@dataclass(frozen=True)
class BeginShipment:
    order_number: str
    supplier_order_id: str


@dataclass(frozen=True)
class CommitStock:
    supplier_order_id: str
    lines: tuple[CheckoutLine, ...]


@dataclass(frozen=True)
class PartnerOrder:
    reference: str  # the supplier order id: the partner's idempotency key
    lines: tuple[CheckoutLine, ...]
    shipping_address: Address


class PartnerStage:
    ACCEPTED = "accepted"
    READY = "ready"  # packed, waiting for release
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class PartnerStatus:
    partner_order_id: str
    stage: str  # PartnerStage
    tracking_number: str = ""
    carrier: str = ""
