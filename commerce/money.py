"""Money is integer cents everywhere; this is the one place that turns cents into text and back."""

from __future__ import annotations

import re

CURRENCY_SYMBOL = "$"
MAX_CENTS = 100_000_000  # one million dollars: more than anything the shop sells
MAX_AMOUNT_LENGTH = 15

# A plain dollar amount: "25", "25.5", ".50", "$1,025.00". ASCII digits only (\d also matches other
# scripts' digits), at most 7 before the point, 2 after; no sign, no exponent, no spaces inside.
_AMOUNT = re.compile(r"\$?(?P<dollars>[0-9]{1,3}(?:,[0-9]{3}){1,2}|[0-9]{1,7})?(?:\.(?P<cents>[0-9]{0,2}))?")


def format_cents(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    dollars, remainder = divmod(abs(int(cents)), 100)
    return f"{sign}{CURRENCY_SYMBOL}{dollars:,}.{remainder:02d}"


def bounded_amount(text: str) -> re.Match | None:
    """The digit groups of `text` when it is a plain, short dollar amount; None otherwise.

    Text only: untrusted input is refused here, before any number is made from it.
    """
    text = text.strip()
    if len(text) > MAX_AMOUNT_LENGTH:
        return None
    match = _AMOUNT.fullmatch(text)
    return match if match and (match["dollars"] or match["cents"]) else None


def _cents(dollars: str, cents: str) -> int:
    # Both are short runs of ASCII digits (the pattern above), so int() here is bounded work.
    return int(dollars.replace(",", "")) * 100 + int(cents.ljust(2, "0"))


def parse_dollars(text: str) -> int | None:
    """Cents from a user's dollar amount ("25", "25.5", "$1,025.00"); None when it is not one."""
    match = bounded_amount(text)
    if match is None:
        return None
    cents = _cents(match["dollars"] or "0", match["cents"] or "")
    return cents if cents <= MAX_CENTS else None
