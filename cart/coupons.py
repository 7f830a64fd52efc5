"""Coupon codes and their rules. Pure data and arithmetic: the cart workflow applies them.

Times are compared against the workflow's clock, passed in; nothing here reads the wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Coupon:
    code: str
    label: str
    percent_off: int = 0  # whole percent
    amount_off_cents: int = 0
    minimum_subtotal_cents: int = 0
    expires_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at


COUPONS = {
    coupon.code: coupon
    for coupon in (
        Coupon("WELCOME10", "10% off your order", percent_off=10),
        Coupon("TAKE5", "$5.00 off orders of $25.00 or more", amount_off_cents=500, minimum_subtotal_cents=2500),
        Coupon("SUMMER25", "25% off (summer sale)", percent_off=25,
               expires_at=datetime(2025, 9, 1, tzinfo=UTC)),
    )
}


def normalise(code: str) -> str:
    return "".join(code.split()).upper()[:32]


def discount_cents(coupon: Coupon, subtotal_cents: int) -> int:
    """The discount on a subtotal, never more than the subtotal, rounded down to the cent."""
    if subtotal_cents < coupon.minimum_subtotal_cents:
        return 0
    if coupon.percent_off:
        return subtotal_cents * coupon.percent_off // 100
    return min(coupon.amount_off_cents, subtotal_cents)
