"""Money is integer cents everywhere; this is the one place that turns cents into text."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

CURRENCY_SYMBOL = "$"
MAX_CENTS = 100_000_000  # one million dollars: more than anything the shop sells


def format_cents(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    dollars, remainder = divmod(abs(int(cents)), 100)
    return f"{sign}{CURRENCY_SYMBOL}{dollars:,}.{remainder:02d}"


def parse_dollars(text: str) -> int | None:
    """Cents from a user's dollar amount ("25", "25.5", "$1,025.00"); None when it is not one."""
    cleaned = text.strip().lstrip(CURRENCY_SYMBOL).replace(",", "")
    if not cleaned or len(cleaned) > 15:
        return None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2:
        return None
    cents = int(amount * 100)
    return cents if cents <= MAX_CENTS else None
