"""The checkout's Temporal face and the dataclasses exchanged between its views, workflow and
activities. Standard library only (and other apps' contracts): the workflow imports this module.
"""

# No `from __future__ import annotations` here: Temporal's converter calls typing.get_type_hints on every
# dataclass it decodes, and string annotations are compiled again on each call (see cart/contracts.py).

from dataclasses import dataclass, field

from identity.contracts import StoreConfig

TASK_QUEUE = "checkout"


def checkout_workflow_id(cart_id: str, number: int) -> str:
    """The n-th checkout of a cart."""
    return f"checkout-{cart_id}-{number}"


class CheckoutWorkflows:
    CHECKOUT = "Checkout"


class CheckoutUpdates:
    SET_SHIPPING = "set_shipping"
    SET_PAYMENT = "set_payment"
    SUBMIT = "submit"
    CANCEL = "cancel"


class CheckoutQueries:
    GET = "get_checkout"


class CheckoutActivities:
    HOLD_LINES = "checkout_hold_lines"
    RELEASE_LINES = "checkout_release_lines"
    CONFIRM_HOLDS = "checkout_confirm_holds"
    PRICE_LINES = "checkout_price_lines"
    AUTHORIZE_PAYMENT = "authorize_payment"
    VOID_PAYMENT = "void_payment"
    WRITE_ORDER = "write_order"
    START_ORDER = "start_order_workflow"
    SEND_CONFIRMATION = "send_order_confirmation"


class CheckoutStep:
    SHIPPING = "shipping"
    PAYMENT = "payment"
    REVIEW = "review"
    PROCESSING = "processing"
    COMPLETE = "complete"
    CANCELLED = "cancelled"
    FAILED = "failed"

    # The steps a shopper fills in, in order (the step indicator).
    FORM_STEPS = (SHIPPING, PAYMENT, REVIEW)
    FINISHED = (COMPLETE, CANCELLED, FAILED)


class CheckoutErrors:
    """ApplicationError types of the checkout; the web tier shows each one's message."""

    WRONG_STEP = "WrongStep"
    INVALID_ADDRESS = "InvalidAddress"
    UNKNOWN_SHIPPING_METHOD = "UnknownShippingMethod"
    INVALID_CARD = "InvalidCard"
    CARDS_LOCKED = "TooManyDeclinedCards"
    LINE_UNAVAILABLE = "LineUnavailable"
    CHECKOUT_CLOSED = "CheckoutClosed"


class PaymentErrors:
    """What the payment processor refuses for good (a retry cannot help)."""

    DECLINED = "CardDeclined"
    EXPIRED = "CardExpired"
    UNKNOWN_TOKEN = "UnknownCardToken"
    REFUSED = "PaymentRefused"  # a request the processor will never accept (amount, reused key)
    AUTHORIZATION_EXPIRED = "AuthorizationExpired"  # capture past the validity: re-authorize first
    NON_RETRYABLE = (DECLINED, EXPIRED, UNKNOWN_TOKEN, REFUSED, AUTHORIZATION_EXPIRED)


@dataclass(frozen=True)
class Address:
    email: str
    full_name: str
    line1: str
    line2: str
    city: str
    state: str  # two-letter US code
    postal_code: str
    country: str = "US"


@dataclass(frozen=True)
class ShippingChoice:
    address: Address
    shipping_method: str  # a code of StoreConfig.shipping_methods


@dataclass(frozen=True)
class CardToken:
    """What the processor's tokenize() gives back: never the number or the CVC."""

    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class CheckoutLine:
    sku: str
    product_slug: str
    name: str
    colour: str
    size: str
    unit_price_cents: int
    quantity: int
    image_url: str
    reservation_id: str  # the cart's hold of this line, taken over by the checkout

    @property
    def line_total_cents(self) -> int:
        return self.unit_price_cents * self.quantity


@dataclass(frozen=True)
class Totals:
    subtotal_cents: int
    discount_cents: int
    shipping_cents: int
    tax_cents: int
    total_cents: int


@dataclass(frozen=True)
class CheckoutInput:
    cart_id: str
    checkout_id: str
    lines: tuple[CheckoutLine, ...]
    coupon_code: str
    config: StoreConfig
    cart_hold_ttl_seconds: int = 15 * 60  # what the cart's holds return to on cancel
    customer_id: str = ""  # the signed-in shopper, if any


@dataclass(frozen=True)
class CheckoutView:
    checkout_id: str
    cart_id: str
    step: str
    lines: tuple[CheckoutLine, ...]
    coupon_code: str = ""
    shipping: ShippingChoice | None = None
    card: CardToken | None = None
    totals: Totals | None = None
    message: str = ""
    order_number: str = ""
    declined_attempts: int = 0
    cards_locked_until: str = ""  # ISO 8601 when too many cards were declined


@dataclass(frozen=True)
class CheckoutOutcome:
    """Signalled to the cart when a checkout ends: `complete` (an order), or the lines come back."""

    checkout_id: str
    step: str
    order_number: str = ""
    message: str = ""


@dataclass(frozen=True)
class PriceCheck:
    """Current catalog prices of the lines and whether the coupon still applies, read at submit."""

    unit_prices: dict[str, int] = field(default_factory=dict)
    coupon_valid: bool = True


@dataclass(frozen=True)
class AuthorizeRequest:
    idempotency_key: str
    token: str
    amount_cents: int
    currency: str = "USD"


@dataclass(frozen=True)
class PaymentResult:
    idempotency_key: str
    kind: str  # authorize, capture, void, refund
    status: str  # authorized, captured, voided, refunded
    amount_cents: int
    authorization_key: str = ""  # the authorization's own key, or the one a capture, void or refund applies to


@dataclass(frozen=True)
class HoldLinesRequest:
    """Hold (or renew) every line of a checkout until `expires_at` (ISO 8601, workflow time)."""

    cart_id: str
    lines: tuple[CheckoutLine, ...]
    expires_at: str


@dataclass(frozen=True)
class SubmitRequest:
    """The total the shopper saw on the review page: a different one is refused."""

    expected_total_cents: int
