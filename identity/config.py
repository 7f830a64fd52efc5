"""The store's configuration, built from settings (no Temporal, no store): what services hand to
workflows and what activities load. A later change moves it into the `store-config` workflow entity."""

from django.conf import settings

from identity.contracts import ShippingMethod, StoreConfig

# Sales tax by destination state, in basis points; every other state pays the default.
TAX_BASIS_POINTS = {"CA": 725, "NY": 800, "TX": 625, "WA": 650, "FL": 600, "OR": 0, "NH": 0}
DEFAULT_TAX_BASIS_POINTS = 800


def store_config() -> StoreConfig:
    """The store's configuration as workflows get it, built from settings for now."""
    return StoreConfig(
        store_name=settings.SHOP_NAME,
        tax_basis_points=dict(TAX_BASIS_POINTS),
        default_tax_basis_points=DEFAULT_TAX_BASIS_POINTS,
        shipping_methods=(
            ShippingMethod("standard", "Standard", settings.SHIPPING_STANDARD_CENTS, "3-5 business days"),
            ShippingMethod("express", "Express", settings.SHIPPING_EXPRESS_CENTS, "1-2 business days"),
        ),
        approval_threshold_cents=settings.ORDER_APPROVAL_THRESHOLD_CENTS,
        approval_timeout_seconds=settings.ORDER_APPROVAL_TIMEOUT_SECONDS,
        refund_window_seconds=settings.ORDER_REFUND_WINDOW_SECONDS,
        manual_fulfillment=settings.FULFILLMENT_MANUAL,
        hold_ttl_seconds=settings.CART_HOLD_TTL_SECONDS,
        checkout_step_timeout_seconds=settings.CHECKOUT_STEP_TIMEOUT_SECONDS,
        max_declined_attempts=settings.CHECKOUT_MAX_DECLINED_ATTEMPTS,
        declined_lockout_seconds=settings.CHECKOUT_DECLINED_LOCKOUT_SECONDS,
    )
