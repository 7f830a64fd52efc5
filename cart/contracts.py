"""The cart's Temporal face and the shapes exchanged between its views, workflow and activities.

Standard library and other apps' contracts only: the cart workflow imports this module.
"""

# No `from __future__ import annotations` here: Temporal's converter calls typing.get_type_hints on every
# dataclass it decodes, and string annotations are compiled again on each call (a cart of 20 lines cost
# about a third of an add-to-cart request's CPU in the web process).
from dataclasses import dataclass, field

from identity.contracts import StoreConfig
from inventory.contracts import StockErrors

# -- the cart's Temporal face: other apps use these names, never string literals ------------------

TASK_QUEUE = "cart"
CART_WORKFLOW = "Cart"


def cart_workflow_id(cart_id: str) -> str:
    return f"cart-{cart_id}"


def cart_id_of(workflow_id: str) -> str:
    """The cart id in a cart workflow's id (the inverse of `cart_workflow_id`)."""
    return workflow_id.removeprefix("cart-")


class CartUpdates:
    ADD_ITEM = "add_item"
    SET_QUANTITY = "set_quantity"
    REMOVE_ITEM = "remove_item"
    APPLY_COUPON = "apply_coupon"
    BEGIN_CHECKOUT = "begin_checkout"
    END = "end_cart"  # staff end an abandoned cart (the staff console)
    MERGE = "merge_lines"  # a guest cart's lines join the shopper's cart when they sign in


class CartSignals:
    CHECKOUT_FINISHED = "checkout_finished"


class CartQueries:
    GET = "get_cart"


class CartActivities:
    SAVE_SNAPSHOT = "save_cart_snapshot"


class CartErrors:
    """ApplicationError types the cart raises; the web tier turns each into a message."""

    OUT_OF_STOCK = StockErrors.OUT_OF_STOCK
    UNKNOWN_SKU = StockErrors.UNKNOWN_SKU
    INVALID_QUANTITY = "InvalidQuantity"
    NOT_IN_CART = "NotInCart"
    CART_FULL = "CartFull"
    TOO_MANY_OF_ONE_ITEM = "TooManyOfOneItem"
    UNKNOWN_COUPON = "UnknownCoupon"
    EXPIRED_COUPON = "ExpiredCoupon"
    COUPON_NOT_APPLICABLE = "CouponNotApplicable"
    CART_CLOSED = "CartClosed"
    CART_EMPTY = "CartEmpty"
    IN_CHECKOUT = "InCheckout"
    UNAVAILABLE = "Unavailable"  # a stock call used up its retry budget: nothing changed
    INVALID_REQUEST = "InvalidRequest"  # a staff request the cart refuses before it reaches history


# What a form may ask for in one line; the cart's own caps (CartSettings) are lower.
MAX_LINE_QUANTITY = 99
# What staff may write when they end a cart, and how long their name may be.
MAX_END_REASON_LENGTH = 200
MAX_ACTOR_LENGTH = 150


class CartStatus:
    ACTIVE = "active"
    CHECKING_OUT = "checking_out"  # a checkout runs: the cart refuses edits until it ends
    COMPLETED = "completed"  # its checkout placed an order: the shopper gets a fresh cart
    EXPIRED = "expired"
    # Staff ended it (its holds released). Like an expired cart, the shopper's next change starts the
    # cart afresh: the storefront treats every status but COMPLETED as expired once the run has ended.
    ENDED = "ended"

    LABELS = {ACTIVE: "Active", CHECKING_OUT: "Checking out", COMPLETED: "Completed (order placed)",
              EXPIRED: "Expired", ENDED: "Ended"}  # by staff, or merged into the shopper's cart at sign-in


@dataclass(frozen=True)
class CartSettings:
    """A cart's timings and caps; the web tier fills them from settings (workflows cannot read them).

    New fields get the default that keeps the behaviour of runs started before the field existed,
    so their histories replay: the web tier always passes the configured values.
    """

    hold_ttl_seconds: int = 15 * 60
    idle_expiry_seconds: int = 30 * 24 * 3600
    continue_as_new_after: int = 100
    # Snapshots wait this long after a change, so a burst of changes is saved once and the save
    # never competes with the next update for the workflow.
    snapshot_delay_seconds: float = 1.0
    max_lines: int = 50
    max_units_per_sku: int = MAX_LINE_QUANTITY



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


@dataclass(frozen=True)
class CartLine:
    """One line of a cart, priced by the catalog: held in the workflow's state and shown as is."""

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
    checkout_id: str = ""  # the checkout running (or the one that completed the cart)
    checkouts: int = 0  # checkouts started, for their ids
    updated_at: str = ""  # ISO 8601, workflow time of the last change ("" until the first since it existed)


@dataclass(frozen=True)
class CartInput:
    cart_id: str
    # Named `config` in recorded histories and running carts' inputs: keep the field name.
    config: CartSettings = field(default_factory=CartSettings)
    state: CartState | None = None
    # Carried over continue-as-new: a change the previous run had not saved yet.
    unsaved: bool = False
    changed_skus: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CartView:
    """What the cart's query and updates answer."""

    cart_id: str
    status: str
    lines: tuple[CartLine, ...] = ()
    coupon_code: str = ""
    coupon_label: str = ""
    coupon_expired: bool = False  # the applied coupon has expired since: it no longer discounts
    subtotal_cents: int = 0
    discount_cents: int = 0
    total_cents: int = 0
    item_count: int = 0
    message: str = ""  # what the last change did, in words
    checkout_id: str = ""
    updated_at: str = ""  # ISO 8601, workflow time of the cart's last change ("" when not known)


@dataclass(frozen=True)
class BeginCheckout:
    """Start a checkout of the cart with the store's configuration as it is now."""

    config: StoreConfig
    customer_id: str = ""


@dataclass(frozen=True)
class EndCart:
    """Staff end an abandoned cart: its holds are released and its run finishes."""

    actor: str
    reason: str


@dataclass(frozen=True)
class MergeLines:
    """A guest cart's lines (its holds already released: the guest cart has ended) added to this
    cart when its shopper signs in. Sent with the update id `merge-{source_cart_id}`: applied once."""

    source_cart_id: str
    lines: tuple[CartLine, ...]


@dataclass(frozen=True)
class MergedLine:
    """What became of one line of a merge: `kept` of the `wanted` units it brought (fewer when
    capped), and how many of the item the cart holds now."""

    sku: str
    label: str  # "Blue Mug (Blue, M)"
    wanted: int
    kept: int
    in_cart: int
    reason: str = ""  # why fewer were kept: out of stock, the per-item cap, the cart's line cap


@dataclass(frozen=True)
class MergeResult:
    cart: CartView
    lines: tuple[MergedLine, ...] = ()

    @property
    def capped(self) -> tuple[MergedLine, ...]:
        return tuple(line for line in self.lines if line.kept < line.wanted)


# The most lines a merge carries (a guest cart holds at most CART_MAX_LINES, well below this).
MAX_MERGE_LINES = 100


@dataclass(frozen=True)
class CartSnapshot:
    """What is written to Cassandra's `carts` table after each change: a view at a point in time."""

    cart_id: str
    status: str
    lines: tuple[CartLine, ...]
    coupon_code: str
    subtotal_cents: int
    discount_cents: int
    total_cents: int
    item_count: int
    updated_at: str  # ISO 8601, workflow time

    @classmethod
    def of(cls, view: CartView, updated_at: str) -> "CartSnapshot":
        return cls(view.cart_id, view.status, view.lines, view.coupon_code, view.subtotal_cents,
                   view.discount_cents, view.total_cents, view.item_count, updated_at)
