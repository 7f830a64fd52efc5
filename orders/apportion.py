"""Splitting an amount of cents into shares that sum to it exactly (pure: the order workflow imports
it). Used for a supplier order's capture (its lines' share of the total, shipping, tax and discount
included) and for a line's refund."""

from __future__ import annotations

from collections.abc import Sequence


def apportion(total_cents: int, weights: Sequence[int]) -> list[int]:
    """`total_cents` split in proportion to `weights` (non-negative integers, not all zero) by the
    largest-remainder method: every share is within a cent of its exact value, and they sum to
    `total_cents` exactly. Ties in the remainders go to the earlier weight."""
    if total_cents < 0:
        raise ValueError("a total to apportion is not negative")
    if not weights or any(weight < 0 for weight in weights):
        raise ValueError("weights are non-negative integers")
    whole = sum(weights)
    if whole == 0:
        raise ValueError("at least one weight is above zero")
    shares = [total_cents * weight // whole for weight in weights]
    remainders = [total_cents * weight % whole for weight in weights]
    left = total_cents - sum(shares)
    for position in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        shares[position] += 1
    return shares
