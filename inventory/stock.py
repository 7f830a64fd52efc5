"""Stock and holds, changed only by Cassandra lightweight transactions (compare-and-set).

The stock row of a SKU at a supplier is the whole truth: `on_hand`, `reserved`, `holds` (reservation
id -> units), `hold_expiry` (reservation id -> when a hold lapses; none for a confirmed hold) and
`applied` (ids of the changes and commits already applied). Every change is one compare-and-set on
that row, conditioned on what was read of it (`IF on_hand = ? AND reserved = ? AND holds[rid] = ?
...`), so the count and the holds behind it never disagree, no interleaving of shoppers can reserve
more than is on hand, and repeating any operation changes nothing.

Each CAS loop gives up after CAS_BUDGET_SECONDS with `Contention`, so a call always ends well
inside the timeout of the activity that makes it; the activity's retry policy tries again.

The sweeper's index (inventory/reservations.py) is written before the stock row, so a crash
between the two writes is always recoverable: see that module.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cassandra import ConsistencyLevel, WriteTimeout
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.query import SimpleStatement

from commerce.cassandra import prepare, session, table
from inventory import reservations
from inventory.contracts import MAX_STOCK_DELTA, HoldResult, ReservationStatus, StockChange, StockErrors

CAS_BUDGET_SECONDS = 1.5
MAX_ON_HAND = 10_000_000
APPLIED_KEPT_FOR = timedelta(days=30)  # a retried command older than this is not expected


class StockError(Exception):
    """A business refusal: the caller can do nothing by retrying."""

    kind = "StockError"


class OutOfStock(StockError):
    kind = StockErrors.OUT_OF_STOCK

    def __init__(self, sku: str, requested: int, available: int) -> None:
        self.sku, self.requested, self.available = sku, requested, available
        text = "this item is sold out" if available <= 0 else f"only {available} left"
        super().__init__(f"Sorry, {text} (you asked for {requested}).")


class UnknownSku(StockError):
    kind = StockErrors.UNKNOWN_SKU

    def __init__(self, sku: str, supplier_id: str = "") -> None:
        where = f" at supplier {supplier_id!r}" if supplier_id else ""
        super().__init__(f"There is no stock of SKU {sku!r}{where}.")


class HoldNotActive(StockError):
    kind = StockErrors.HOLD_NOT_ACTIVE

    def __init__(self, reservation_id: str, status: str) -> None:
        super().__init__(f"Reservation {reservation_id} is {status or 'missing'}, not held.")


class InvalidStockChange(StockError):
    kind = StockErrors.INVALID_STOCK_CHANGE


class Contention(Exception):
    """Too many concurrent writers on one SKU, or a store too slow to answer: a retry may succeed."""


@dataclass(frozen=True)
class StockRow:
    sku: str
    supplier_id: str
    on_hand: int
    reserved: int
    holds: dict[str, int]
    hold_expiry: dict[str, datetime] = field(default_factory=dict)
    applied: dict[str, datetime] = field(default_factory=dict)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def is_confirmed(self, rid: str) -> bool:
        return rid in self.holds and rid not in self.hold_expiry


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _row(record: dict) -> StockRow:
    return StockRow(
        record["sku"], record["supplier_id"], record["on_hand"] or 0, record["reserved"] or 0,
        dict(record.get("holds") or {}),
        {rid: _utc(at) for rid, at in (record.get("hold_expiry") or {}).items()},
        {key: _utc(at) for key, at in (record.get("applied") or {}).items()},
    )


def stock_rows(sku: str, serial: bool = False) -> list[StockRow]:
    statement = SimpleStatement(
        f"SELECT sku, supplier_id, on_hand, reserved, holds, hold_expiry, applied FROM {table('inventory_stock')}"
        " WHERE sku = %s",
        consistency_level=ConsistencyLevel.SERIAL if serial else ConsistencyLevel.LOCAL_ONE,
    )
    return [_row(record) for record in session().execute(statement, [sku])]


def stock_rows_of(skus: list[str]) -> list[StockRow]:
    """The stock rows of a few SKUs (a page of the staff console), one partition per query, run
    concurrently (a multi-partition IN makes one coordinator wait on them all)."""
    statement = prepare(f"SELECT sku, supplier_id, on_hand, reserved, holds, hold_expiry, applied"
                        f" FROM {table('inventory_stock')} WHERE sku = ?")
    results = execute_concurrent_with_args(session(), statement, [(sku,) for sku in skus], raise_on_first_error=True)
    return [_row(record) for _, rows in results for record in rows]


def _holding(sku: str, rid: str) -> StockRow | None:
    return next((row for row in stock_rows(sku, serial=True) if rid in row.holds), None)


class _Attempts:
    """Compare-and-set attempts within a time budget, with a short random backoff between them."""

    def __init__(self, sku: str) -> None:
        self.sku = sku
        self.deadline = time.monotonic() + CAS_BUDGET_SECONDS
        self.count = 0

    def __iter__(self):
        while self.count == 0 or time.monotonic() < self.deadline:
            if self.count:
                time.sleep(min(0.05, 0.002 * self.count) * random.random())
            self.count += 1
            yield self.count
        raise Contention(f"stock of {self.sku} is too contended; try again")

    @property
    def serial(self) -> bool:
        """The first read may be stale (cheap); after a lost race, read what Paxos committed."""
        return self.count > 1


def _cas(row: StockRow, assignments: str, values: list, rid: str | None = None,
         expiry_known: bool = False) -> bool:
    """One compare-and-set on a stock row, conditioned on what we read of it: the counts, and the
    hold (and its expiry) of `rid` when the change concerns one."""
    conditions, condition_values = ["on_hand = %s", "reserved = %s"], [row.on_hand, row.reserved]
    if rid is not None:
        conditions.append("holds[%s] = %s")
        condition_values += [rid, row.holds.get(rid)]
        if expiry_known:
            conditions.append("hold_expiry[%s] = %s")
            condition_values += [rid, row.hold_expiry.get(rid)]
    cql = (f"UPDATE {table('inventory_stock')} SET {assignments} WHERE sku = %s AND supplier_id = %s"
           f" IF {' AND '.join(conditions)}")
    try:
        result = session().execute(cql, [*values, row.sku, row.supplier_id, *condition_values])
    except WriteTimeout:
        # A timed-out CAS may or may not have applied: the caller re-reads with SERIAL and decides.
        return False
    return result.was_applied


# -- holds ------------------------------------------------------------------------------------

def hold(rid: str, sku: str, quantity: int, expires_at: datetime, cart_id: str = "") -> HoldResult:
    """Hold exactly `quantity` units for reservation `rid` until `expires_at` (a new hold, a changed
    quantity or a renewal). Idempotent. Refused for a confirmed hold: an order owns those units.

    Expiry times come from the caller (a workflow's clock), so holds and sweeps agree on time even
    under Temporal's time-skipping test server."""
    if not 1 <= quantity <= MAX_ON_HAND:
        raise ValueError("a hold is for at least one unit")
    # Cassandra keeps milliseconds: compare and condition on what it will store.
    expires_at = _utc(expires_at).replace(microsecond=expires_at.microsecond // 1000 * 1000)
    indexed = False
    attempts = _Attempts(sku)
    for _ in attempts:
        rows = stock_rows(sku, serial=attempts.serial)
        if not rows:
            raise UnknownSku(sku)
        row = next((r for r in rows if rid in r.holds), None)
        if row is not None and row.is_confirmed(rid):
            raise HoldNotActive(rid, ReservationStatus.CONFIRMED)
        if row is not None and row.holds[rid] == quantity and row.hold_expiry.get(rid) == expires_at:
            return HoldResult(rid, sku, row.supplier_id, quantity, expires_at.isoformat())
        row = row or max(rows, key=lambda r: r.available)  # the supplier with the most to give
        delta = quantity - row.holds.get(rid, 0)
        if delta > row.available:
            if indexed and rid not in row.holds:
                reservations.forget(rid)  # our index row points at nothing: take it back
            raise OutOfStock(sku, quantity, row.available + row.holds.get(rid, 0))
        if not indexed:
            reservations.record(rid, sku, row.supplier_id, ReservationStatus.HELD, expires_at, cart_id)
            indexed = True
        if _cas(row, "reserved = %s, holds[%s] = %s, hold_expiry[%s] = %s",
                [row.reserved + delta, rid, quantity, rid, expires_at], rid):
            return HoldResult(rid, sku, row.supplier_id, quantity, expires_at.isoformat())
    raise AssertionError("unreachable")


def renew(rid: str, expires_at: datetime, sku: str | None = None) -> str:
    """Push a held reservation's expiry to `expires_at`. Refused when it is no longer held."""
    sku = sku or _sku_of(rid)
    row = _holding(sku, rid) if sku else None
    if row is None or row.is_confirmed(rid):
        raise HoldNotActive(rid, ReservationStatus.CONFIRMED if row else "released")
    hold(rid, sku, row.holds[rid], expires_at)
    return expires_at.isoformat()


def confirm(rid: str, sku: str | None = None) -> None:
    """Make a hold firm (an order was placed): it no longer expires. Idempotent; refused when the
    hold is gone (released, or swept after it lapsed)."""
    sku = sku or _sku_of(rid)
    attempts = _Attempts(sku or rid)
    for _ in attempts:
        row = _holding(sku, rid) if sku else None
        if row is None:
            raise HoldNotActive(rid, "released")
        if row.is_confirmed(rid) or _cas(row, "hold_expiry = hold_expiry - %s", [{rid}], rid, expiry_known=True):
            # After the stock row: until this line a crash leaves the index saying "held", and the
            # sweeper, finding the hold confirmed in the stock row, writes this line for us.
            reservations.record(rid, sku, row.supplier_id, ReservationStatus.CONFIRMED, None)
            return
    raise AssertionError("unreachable")


def commit(rid: str, sku: str, at: datetime | None = None) -> None:
    """At shipment: a confirmed hold's units leave the shelf (on hand and reserved both go down),
    once: the commit is recorded in the row it changes, so a retry after a crash does nothing."""
    key = f"commit:{rid}"
    attempts = _Attempts(sku)
    for _ in attempts:
        rows = stock_rows(sku, serial=True)
        if any(key in row.applied for row in rows):
            break
        row = next((r for r in rows if rid in r.holds), None)
        if row is None or not row.is_confirmed(rid):
            raise HoldNotActive(rid, ReservationStatus.HELD if row else "released")
        quantity = row.holds[rid]
        applied = _pruned(row.applied, at or _now()) | {key: at or _now()}
        if _cas(row, "on_hand = %s, reserved = %s, holds = holds - %s, applied = %s",
                [row.on_hand - quantity, row.reserved - quantity, {rid}, applied], rid):
            break
    reservations.forget(rid)


def release(rid: str, sku: str | None = None) -> bool:
    """Give a hold's units back (held or confirmed). Idempotent. Returns whether stock moved."""
    sku = sku or _sku_of(rid)
    if not sku:
        return False  # never held, or gone long ago
    moved = False
    attempts = _Attempts(sku)
    for _ in attempts:
        row = _holding(sku, rid)
        if row is None:
            break
        if _cas(row, "reserved = %s, holds = holds - %s, hold_expiry = hold_expiry - %s",
                [row.reserved - row.holds[rid], {rid}, {rid}], rid):
            moved = True
            break
    # After the stock row: a crash before this line leaves an index row the sweeper deletes.
    reservations.forget(rid)
    return moved


def release_if_expired(rid: str, sku: str, as_of: datetime) -> bool:
    """The sweeper's release: only a hold still held whose time ran out by `as_of`. A hold renewed
    or confirmed meanwhile is left alone: the CAS is conditioned on the expiry it read."""
    attempts = _Attempts(sku)
    for _ in attempts:
        row = _holding(sku, rid)
        if row is None or row.is_confirmed(rid) or row.hold_expiry[rid] >= as_of:
            return False
        if _cas(row, "reserved = %s, holds = holds - %s, hold_expiry = hold_expiry - %s",
                [row.reserved - row.holds[rid], {rid}, {rid}], rid, expiry_known=True):
            return True
    raise AssertionError("unreachable")


def holder(rid: str, sku: str) -> str | None:
    """The supplier whose stock row of `sku` holds reservation `rid` (held or confirmed), or None
    when none does any more (released, committed, swept). Reads what Paxos committed."""
    row = _holding(sku, rid)
    return row.supplier_id if row is not None else None


def _sku_of(rid: str) -> str | None:
    found = reservations.lookup(rid)
    return found.sku if found else None


# -- counts -----------------------------------------------------------------------------------

def _pruned(applied: dict[str, datetime], now: datetime) -> dict[str, datetime]:
    return {key: at for key, at in applied.items() if at > now - APPLIED_KEPT_FOR}


def apply_change(change: StockChange, at: datetime) -> tuple[StockRow, bool]:
    """Add `change.delta` units at a supplier, once per command id; never below what is reserved.
    Returns the row after the change and whether this call applied it (False: applied before)."""
    if not -MAX_STOCK_DELTA <= change.delta <= MAX_STOCK_DELTA or change.delta == 0:
        raise InvalidStockChange(f"A stock change is between -{MAX_STOCK_DELTA:,} and {MAX_STOCK_DELTA:,}"
                                 " units, and not zero.")
    key = f"change:{change.command_id}"
    attempts = _Attempts(change.sku)
    for _ in attempts:
        row = next((r for r in stock_rows(change.sku, serial=True) if r.supplier_id == change.supplier_id), None)
        if row is None:
            raise UnknownSku(change.sku, change.supplier_id)
        if key in row.applied:
            return row, False
        on_hand = row.on_hand + change.delta
        if on_hand < row.reserved:
            raise InvalidStockChange(f"{change.sku} at {change.supplier_id}: {row.reserved} units are held, so on"
                                     f" hand cannot go below {row.reserved} (it is {row.on_hand}).")
        if on_hand > MAX_ON_HAND:
            raise InvalidStockChange(f"{change.sku} at {change.supplier_id}: at most {MAX_ON_HAND:,} units on hand.")
        applied = _pruned(row.applied, at) | {key: at}
        # Conditioned on both counts: a correction racing a hold can never leave reserved > on hand.
        if _cas(row, "on_hand = %s, applied = %s", [on_hand, applied]):
            return StockRow(row.sku, row.supplier_id, on_hand, row.reserved, row.holds, row.hold_expiry,
                            applied), True
    raise AssertionError("unreachable")
