"""Frozen dataclasses and constants exchanged between the cart's views, workflow and activities.

Standard library only: the cart workflow imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_LINE_QUANTITY = 99
MAX_LINES = 50


class CartStatus:
    ACTIVE = "active"
    EXPIRED = "expired"


class CartErrors:
    """ApplicationError types the cart raises; the web tier turns each into a message."""

    OUT_OF_STOCK = "OutOfStock"
    UNKNOWN_SKU = "UnknownSku"
    INVALID_QUANTITY = "InvalidQuantity"
    NOT_IN_CART = "NotInCart"
    CART_FULL = "CartFull"
    UNKNOWN_COUPON = "UnknownCoupon"
    EXPIRED_COUPON = "ExpiredCoupon"
    COUPON_NOT_APPLICABLE = "CouponNotApplicable"
    CART_CLOSED = "CartClosed"


@dataclass(frozen=True)
class CartConfig:
    """Timings of a cart; the web tier fills them from settings (workflows cannot read settings)."""

    hold_ttl_seconds: int = 15 * 60
    idle_expiry_seconds: int = 30 * 24 * 3600
    continue_as_new_after: int = 100
    # Snapshots wait this long after a change, so a burst of changes is saved once and the save
    # never competes with the next update for the workflow.
    snapshot_delay_seconds: float = 1.0


@dataclass(frozen=True)
class AddItem:
    sku: str
    quantity: int


@dataclass(frozen=True)
class SetQuantity:
    sku: str
    quantity: int  # 0 removes the line


@dataclass(frozen=True)
class RemoveItem:
    sku: str


@dataclass(frozen=True)
class ApplyCoupon:
    code: str  # empty removes the coupon


@dataclass
class CartLine:
    sku: str
    product_slug: str
    name: str
    colour: str
    size: str
    unit_price_cents: int
    quantity: int
    image_url: str

    @property
    def line_total_cents(self) -> int:
        return self.unit_price_cents * self.quantity


@dataclass
class CartState:
    """Everything a cart carries across continue-as-new."""

    cart_id: str
    lines: list[CartLine] = field(default_factory=list)
    coupon_code: str = ""
    status: str = CartStatus.ACTIVE
    updates: int = 0
    recent_update_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CartInput:
    cart_id: str
    config: CartConfig = field(default_factory=CartConfig)
    state: CartState | None = None
    # Carried over continue-as-new: a change the previous run had not saved yet.
    unsaved: bool = False
    changed_skus: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CartLineView:
    sku: str
    product_slug: str
    name: str
    colour: str
    size: str
    unit_price_cents: int
    quantity: int
    line_total_cents: int
    image_url: str


@dataclass(frozen=True)
class CartView:
    cart_id: str
    status: str
    lines: tuple[CartLineView, ...] = ()
    coupon_code: str = ""
    coupon_label: str = ""
    subtotal_cents: int = 0
    discount_cents: int = 0
    total_cents: int = 0
    item_count: int = 0
    message: str = ""  # what the last change did, in words


@dataclass(frozen=True)
class CartSnapshot:
    """What is written to Cassandra's `carts` table after each change."""

    cart_id: str
    status: str
    lines: tuple[CartLineView, ...]
    coupon_code: str
    subtotal_cents: int
    discount_cents: int
    total_cents: int
    item_count: int
    updated_at: str  # ISO 8601, workflow time
