"""A checkout's totals: pure integer arithmetic on cents, computed once in the workflow.

Standard library only (and contracts, coupons): the checkout workflow imports it. Tax is charged on
the discounted subtotal, not on shipping, rounded half up to the cent.
"""

from __future__ import annotations

from datetime import datetime

from cart.coupons import COUPONS, discount_cents
from checkout.contracts import CheckoutLine, Totals
from identity.contracts import StoreConfig


def coupon_applies(code: str, now: datetime) -> bool:
    coupon = COUPONS.get(code)
    return coupon is not None and (coupon.expires_at is None or now < coupon.expires_at)


def compute_totals(lines: tuple[CheckoutLine, ...] | list[CheckoutLine], coupon_code: str, shipping_method: str,
                   state: str, config: StoreConfig, now: datetime) -> Totals:
    subtotal = sum(line.line_total_cents for line in lines)
    discount = discount_cents(COUPONS[coupon_code], subtotal) if coupon_applies(coupon_code, now) else 0
    method = config.shipping_method(shipping_method)
    shipping = method.price_cents if method else 0
    taxable = subtotal - discount
    tax = (taxable * config.tax_rate(state) + 5_000) // 10_000
    return Totals(subtotal, discount, shipping, tax, taxable + shipping + tax)
