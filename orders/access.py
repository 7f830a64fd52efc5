"""Who may see an order page without signing in: a signed, expiring token in the emailed link.

The token signs the order number with the project's SECRET_KEY (`TimestampSigner`, salt
`orders.access`), so it opens exactly one order, on any device, until it is `ORDER_LINK_MAX_AGE_DAYS`
old; nothing is stored. The link itself is built here too, so the checkout's email activity (which
may not import services) and the web tier make the same one.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.signing import BadSignature, TimestampSigner
from django.urls import reverse

from orders.numbers import is_order_number

SALT = "orders.access"
DEFAULT_MAX_AGE = timedelta(days=90)
MAX_TOKEN_LENGTH = 128


def _signer() -> TimestampSigner:
    return TimestampSigner(salt=SALT)


def _max_age() -> timedelta:
    days = getattr(settings, "ORDER_LINK_MAX_AGE_DAYS", None)
    return timedelta(days=days) if days else DEFAULT_MAX_AGE


def order_token(order_number: str) -> str:
    """The token that opens this order's page (the signature and its time, without the number)."""
    if not is_order_number(order_number):
        raise ValueError(f"{order_number!r} is not an order number")
    return _signer().sign(order_number)[len(order_number) + 1:]


def verify_order_token(order_number: str, token: str | None) -> bool:
    """Whether `token` was made for this order number and is not older than the link's lifetime."""
    if not token or not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return False
    if not is_order_number(order_number):
        return False
    try:
        return _signer().unsign(f"{order_number}:{token}", max_age=_max_age()) == order_number
    except BadSignature:  # tampered, made for another number, or expired (SignatureExpired)
        return False


def order_path(order_number: str) -> str:
    return reverse("orders:detail", kwargs={"order_number": order_number})


def order_url(order_number: str, absolute_base: str) -> str:
    """The emailed link: `absolute_base` (e.g. https://shop.example) + the order page + its token."""
    return f"{absolute_base.rstrip('/')}{order_path(order_number)}?{urlencode({'token': order_token(order_number)})}"
