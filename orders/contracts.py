"""The OMS's Temporal face and the order's dataclasses. Standard library only (and other apps'
contracts): the order workflow imports this module."""

from __future__ import annotations

from dataclasses import dataclass

from checkout.contracts import Address, CheckoutLine, Totals

TASK_QUEUE = "oms"


def order_workflow_id(order_number: str) -> str:
    return f"order-{order_number}"


class OrderWorkflows:
    ORDER = "Order"


class OrderQueries:
    GET = "get_order"


class OrderErrors:
    NUMBER_TAKEN = "OrderNumberTaken"


class OrderStatus:
    PLACED = "placed"
    AWAITING_APPROVAL = "awaiting_approval"
    PROCESSING = "processing"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


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
