"""The `carts_by_shopper` store: which cart is a signed-in shopper's.

One row per shopper. It is read by key on every cart request of a signed-in shopper, and moved only
by Cassandra lightweight transactions, so two requests racing to give the shopper a cart (two
browsers signing in at once, two first adds) agree on one: the loser is told the winner's cart.

Async on the driver's own futures (no thread hop on the cart's fast path). Any driver failure
(no host, timeout, too few replicas) raises PointerUnavailable. An LWT that timed out may or may not
have applied: callers retry with the same arguments, which is harmless (claiming the cart a pointer
already names counts as won).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from cassandra import DriverException
from cassandra.cluster import NoHostAvailable

from commerce.cassandra import prepare, session, table


class PointerUnavailable(Exception):
    """Cassandra did not answer the pointer's read or write."""


@dataclass(frozen=True)
class Claim:
    won: bool
    cart_id: str  # the shopper's cart now: ours when won, else the one another request set


async def _execute(cql: str, params: list):
    try:
        future = session().execute_async(prepare(cql), params)
    except (NoHostAvailable, DriverException) as error:
        raise PointerUnavailable(str(error)) from error
    loop = asyncio.get_running_loop()
    done: asyncio.Future = loop.create_future()

    def ok(rows):
        loop.call_soon_threadsafe(lambda: done.done() or done.set_result(rows))

    def failed(error):
        loop.call_soon_threadsafe(lambda: done.done() or done.set_exception(error))

    future.add_callbacks(ok, failed)
    try:
        rows = await done
    except (NoHostAvailable, DriverException) as error:
        raise PointerUnavailable(str(error)) from error
    return rows, future


async def current(shopper_id: str) -> str:
    """The shopper's cart id, "" when they have none: one partition read by key."""
    rows, _ = await _execute(f"SELECT cart_id FROM {table('carts_by_shopper')} WHERE shopper_id = ?", [shopper_id])
    return rows[0]["cart_id"] if rows else ""


def _claim(rows, cart_id: str) -> Claim:
    row = rows[0]
    if row["[applied]"]:
        return Claim(True, cart_id)
    existing = row.get("cart_id") or ""
    # A retry of a claim that applied the first time, or the same cart claimed twice at once.
    return Claim(existing == cart_id, existing)


async def claim(shopper_id: str, cart_id: str, replacing: str = "") -> Claim:
    """Make `cart_id` the shopper's cart if the pointer still names `replacing` ("" = no row yet)."""
    now = datetime.now(UTC)
    if replacing:
        rows, _ = await _execute(
            f"UPDATE {table('carts_by_shopper')} SET cart_id = ?, updated_at = ? WHERE shopper_id = ? IF cart_id = ?",
            [cart_id, now, shopper_id, replacing])
    else:
        rows, _ = await _execute(
            f"INSERT INTO {table('carts_by_shopper')} (shopper_id, cart_id, updated_at) VALUES (?, ?, ?) IF NOT EXISTS",
            [shopper_id, cart_id, now])
    claimed = _claim(list(rows), cart_id)
    if not claimed.won and replacing and not claimed.cart_id:
        # The row is gone (or never was): claim it afresh.
        return await claim(shopper_id, cart_id)
    return claimed
