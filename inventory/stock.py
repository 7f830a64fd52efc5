"""Stock and reservations, changed only by Cassandra lightweight transactions.

The stock row of a SKU at a supplier carries `on_hand`, `reserved` and `holds`, a map from
reservation id to the units it holds. Every change is one compare-and-set on that single row
(`IF reserved = ? AND holds[rid] = ?`), so the count and the holds behind it can never disagree
and no interleaving of shoppers can reserve more than is on hand. The map also makes every
operation idempotent by reservation id: repeating a hold of 3 when 3 are held changes nothing.

`inventory_reservations` and `reservations_by_cart` record each hold's state and expiry for the
sweeper and for carts; they are written after the stock row and converge on retry.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cassandra import ConsistencyLevel, WriteTimeout
from cassandra.query import SimpleStatement

from commerce.cassandra import session, table
from inventory.contracts import HoldResult, ReservationStatus

MAX_ATTEMPTS = 200
RELEASED_ROW_TTL_SECONDS = 7 * 24 * 3600  # finished reservations are kept a week for inspection


class StockError(Exception):
    """A business refusal: the caller can do nothing by retrying."""

    kind = "StockError"


class OutOfStock(StockError):
    kind = "OutOfStock"

    def __init__(self, sku: str, requested: int, available: int) -> None:
        self.sku, self.requested, self.available = sku, requested, available
        if available <= 0:
            text = "this item is sold out"
        else:
            text = f"only {available} left"
        super().__init__(f"Sorry, {text} (you asked for {requested}).")


class UnknownSku(StockError):
    kind = "UnknownSku"

    def __init__(self, sku: str) -> None:
        super().__init__(f"There is no product with SKU {sku!r}.")


class HoldNotActive(StockError):
    kind = "HoldNotActive"

    def __init__(self, reservation_id: str, status: str) -> None:
        super().__init__(f"Reservation {reservation_id} is {status or 'missing'}, not held.")


class Contention(Exception):
    """Too many concurrent writers on one SKU; a retry later will succeed."""


@dataclass(frozen=True)
class StockRow:
    sku: str
    supplier_id: str
    on_hand: int
    reserved: int
    holds: dict[str, int]

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _row(record: dict) -> StockRow:
    return StockRow(record["sku"], record["supplier_id"], record["on_hand"] or 0, record["reserved"] or 0,
                    dict(record.get("holds") or {}))


def stock_rows(sku: str, serial: bool = False) -> list[StockRow]:
    statement = SimpleStatement(
        f"SELECT sku, supplier_id, on_hand, reserved, holds FROM {table('inventory_stock')} WHERE sku = %s",
        consistency_level=ConsistencyLevel.SERIAL if serial else ConsistencyLevel.LOCAL_ONE,
    )
    return [_row(record) for record in session().execute(statement, [sku])]


def _backoff(attempt: int) -> None:
    time.sleep(min(0.05, 0.002 * attempt) * random.random())


def _cas(row: StockRow, assignments: str, values: list, rid: str) -> bool:
    """One compare-and-set on a stock row, conditioned on everything we read of it."""
    cql = (
        f"UPDATE {table('inventory_stock')} SET {assignments} WHERE sku = %s AND supplier_id = %s "
        f"IF on_hand = %s AND reserved = %s AND holds[%s] = %s"
    )
    held = row.holds.get(rid)
    try:
        result = session().execute(cql, [*values, row.sku, row.supplier_id, row.on_hand, row.reserved, rid, held])
    except WriteTimeout:
        # A timed-out CAS may or may not have applied: the caller re-reads with SERIAL and decides.
        return False
    return result.was_applied


def _upsert_reservation(rid: str, sku: str, supplier_id: str, quantity: int, cart_id: str,
                        status: str, expires_at: datetime | None, existing: bool) -> None:
    """Record a hold, as held, from nothing or from held or released (never from confirmed).

    Every write to a reservation row is a lightweight transaction: Cassandra orders plain writes
    and LWTs by different clocks, so mixing them can lose the later write. `existing` says which
    write will most likely apply, so the common case costs one round of Paxos."""
    now = _now()

    def insert() -> bool:
        return session().execute(
            f"INSERT INTO {table('inventory_reservations')} (reservation_id, sku, supplier_id, quantity, cart_id,"
            f" status, expires_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) IF NOT EXISTS",
            [rid, sku, supplier_id, quantity, cart_id, status, expires_at, now],
        ).was_applied

    def update(previous: str) -> bool:
        return session().execute(
            f"UPDATE {table('inventory_reservations')} SET sku = %s, supplier_id = %s, quantity = %s,"
            f" cart_id = %s, status = %s, expires_at = %s, updated_at = %s WHERE reservation_id = %s"
            f" IF status = %s",
            [sku, supplier_id, quantity, cart_id, status, expires_at, now, rid, previous],
        ).was_applied

    attempts = ([lambda: update(ReservationStatus.HELD), insert] if existing
                else [insert, lambda: update(ReservationStatus.RELEASED)])
    attempts.append(lambda: update(ReservationStatus.HELD) if not existing else update(ReservationStatus.RELEASED))
    if not any(attempt() for attempt in attempts):
        current = reservation(rid)
        raise HoldNotActive(rid, current["status"] if current else "")
    if cart_id:
        session().execute(
            f"INSERT INTO {table('reservations_by_cart')} (cart_id, reservation_id, sku, quantity, status,"
            f" expires_at) VALUES (%s, %s, %s, %s, %s, %s)",
            [cart_id, rid, sku, quantity, status, expires_at],
        )


def reservation(rid: str) -> dict | None:
    statement = SimpleStatement(
        f"SELECT * FROM {table('inventory_reservations')} WHERE reservation_id = %s",
        consistency_level=ConsistencyLevel.SERIAL,
    )
    return session().execute(statement, [rid]).one()


def _set_status(rid: str, status: str, expected: tuple[str, ...], expires_at=None, ttl: int | None = None) -> bool:
    """Move a reservation row to `status` only from one of `expected`: the guard against, say,
    confirming a hold that the sweeper released a moment ago."""
    for current in expected:
        using = f" USING TTL {ttl}" if ttl else ""
        result = session().execute(
            f"UPDATE {table('inventory_reservations')}{using} SET status = %s, expires_at = %s, updated_at = %s"
            f" WHERE reservation_id = %s IF status = %s",
            [status, expires_at, _now(), rid, current],
        )
        if result.was_applied:
            return True
    return False


def _set_hold(sku: str, rid: str, quantity: int) -> tuple[StockRow, int | None]:
    """Make `rid` hold exactly `quantity` units of `sku` (0 removes the hold).
    Returns the row used and what `rid` held before (None: nothing)."""
    for attempt in range(MAX_ATTEMPTS):
        rows = stock_rows(sku, serial=attempt > 0)
        if not rows:
            raise UnknownSku(sku)
        holding = next((row for row in rows if rid in row.holds), None)
        if holding is None and quantity == 0:
            return rows[0], None
        if holding is not None and holding.holds[rid] == quantity:
            return holding, quantity  # already so: idempotent
        if holding is not None:
            row = holding
        else:
            row = max(rows, key=lambda r: r.available)  # the supplier with the most to give
        delta = quantity - row.holds.get(rid, 0)
        if delta > row.available:
            raise OutOfStock(sku, quantity, row.available + row.holds.get(rid, 0))
        if quantity == 0:
            applied = _cas(row, "reserved = %s, holds = holds - %s", [row.reserved + delta, {rid}], rid)
        else:
            applied = _cas(row, "reserved = %s, holds[%s] = %s", [row.reserved + delta, rid, quantity], rid)
        if applied:
            return row, row.holds.get(rid)
        _backoff(attempt)
    raise Contention(f"stock of {sku} is too contended; try again")


def hold(rid: str, sku: str, quantity: int, expires_at: datetime, cart_id: str = "") -> HoldResult:
    """Hold `quantity` units for reservation `rid` until `expires_at` (renewing it). Idempotent.

    Expiry times come from the caller (a workflow's clock), so holds and sweeps agree on time
    even under Temporal's time-skipping test server."""
    if quantity < 1:
        raise ValueError("a hold is for at least one unit")
    row, previous = _set_hold(sku, rid, quantity)
    try:
        _upsert_reservation(rid, sku, row.supplier_id, quantity, cart_id, ReservationStatus.HELD, expires_at,
                            existing=previous is not None)
    except HoldNotActive:
        # Confirmed or committed already (an order owns it): put the stock back as it was.
        _set_hold(sku, rid, previous or 0)
        raise
    return HoldResult(rid, sku, row.supplier_id, quantity, expires_at.isoformat())


def renew(rid: str, expires_at: datetime) -> str:
    """Push a held reservation's expiry to `expires_at`. Refused when it is no longer held."""
    if not _set_status(rid, ReservationStatus.HELD, (ReservationStatus.HELD,), expires_at):
        current = reservation(rid)
        raise HoldNotActive(rid, current["status"] if current else "")
    current = reservation(rid)
    if current and current["cart_id"]:
        session().execute(
            f"UPDATE {table('reservations_by_cart')} SET expires_at = %s WHERE cart_id = %s AND reservation_id = %s",
            [expires_at, current["cart_id"], rid],
        )
    return expires_at.isoformat()


def confirm(rid: str) -> None:
    """Make a held reservation firm (an order was placed): it no longer expires."""
    current = reservation(rid)
    if current and current["status"] == ReservationStatus.CONFIRMED:
        return
    if not _set_status(rid, ReservationStatus.CONFIRMED, (ReservationStatus.HELD,), None):
        current = reservation(rid)
        if current and current["status"] == ReservationStatus.CONFIRMED:
            return
        raise HoldNotActive(rid, current["status"] if current else "")
    # The stock row must still hold it: a hold is only released after its row left `held`.
    if not any(rid in row.holds for row in stock_rows(current["sku"], serial=True)):
        _set_status(rid, ReservationStatus.RELEASED, (ReservationStatus.CONFIRMED,))
        raise HoldNotActive(rid, "released")


def commit(rid: str) -> None:
    """At shipment: the held units leave the shelf (on hand and reserved both go down)."""
    current = reservation(rid)
    if current is None:
        raise HoldNotActive(rid, "")
    if current["status"] == ReservationStatus.COMMITTED:
        return
    if current["status"] != ReservationStatus.CONFIRMED:
        raise HoldNotActive(rid, current["status"])
    sku = current["sku"]
    for attempt in range(MAX_ATTEMPTS):
        row = next((r for r in stock_rows(sku, serial=True) if rid in r.holds), None)
        if row is None:
            break  # applied by an earlier attempt: a confirmed hold leaves the map only by commit
        quantity = row.holds[rid]
        applied = _cas(row, "on_hand = %s, reserved = %s, holds = holds - %s",
                          [row.on_hand - quantity, row.reserved - quantity, {rid}], rid)
        if applied:
            break
        _backoff(attempt)
    else:
        raise Contention(f"stock of {sku} is too contended; try again")
    _set_status(rid, ReservationStatus.COMMITTED, (ReservationStatus.CONFIRMED,), None, RELEASED_ROW_TTL_SECONDS)


def release(rid: str, expired_as_of: datetime | None = None) -> bool:
    """Give the units back. Idempotent. With `expired_as_of`, only a hold whose time ran out by
    then (the sweeper's case; a hold renewed meanwhile is left alone). Returns whether stock moved."""
    current = reservation(rid)
    if current is None:
        return False
    if current["status"] == ReservationStatus.COMMITTED:
        return False
    if current["status"] != ReservationStatus.RELEASED:
        if expired_as_of is not None:
            result = session().execute(
                f"UPDATE {table('inventory_reservations')} USING TTL {RELEASED_ROW_TTL_SECONDS}"
                f" SET status = %s, updated_at = %s WHERE reservation_id = %s IF status = %s AND expires_at < %s",
                [ReservationStatus.RELEASED, _now(), rid, ReservationStatus.HELD, expired_as_of],
            )
            if not result.was_applied:
                return False
        elif not _set_status(rid, ReservationStatus.RELEASED, (ReservationStatus.HELD, ReservationStatus.CONFIRMED),
                             None, RELEASED_ROW_TTL_SECONDS):
            latest = reservation(rid)
            if latest is None or latest["status"] != ReservationStatus.RELEASED:
                return False
    rows = stock_rows(current["sku"], serial=True)
    moved = any(rid in row.holds for row in rows)
    if rows:  # a SKU deleted from the catalog has nothing left to give back
        _set_hold(current["sku"], rid, 0)
    if current["cart_id"]:
        session().execute(
            f"DELETE FROM {table('reservations_by_cart')} WHERE cart_id = %s AND reservation_id = %s",
            [current["cart_id"], rid],
        )
    return moved


RECONCILE_WINDOW = timedelta(hours=1)


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def sweep_expired(as_of: datetime, limit: int = 10_000) -> list[str]:
    """Release every held reservation past its expiry at `as_of`, and finish releases that a crash
    left half done in the last hour. Returns the SKUs whose availability changed."""
    changed = []
    now = as_of
    statement = SimpleStatement(
        f"SELECT reservation_id, sku, status, expires_at, updated_at FROM {table('inventory_reservations')}",
        fetch_size=1000)
    for index, row in enumerate(session().execute(statement)):
        if index >= limit:
            break
        expires_at = _utc(row["expires_at"])
        expired = row["status"] == ReservationStatus.HELD and expires_at is not None and expires_at < now
        updated_at = _utc(row["updated_at"])
        recently_released = (row["status"] == ReservationStatus.RELEASED and updated_at is not None
                             and updated_at > now - RECONCILE_WINDOW)
        if expired or recently_released:
            try:
                if release(row["reservation_id"], expired_as_of=now if expired else None) or expired:
                    changed.append(row["sku"])
            except Contention:
                continue  # the next sweep gets it
    return sorted(set(changed))


def restock(sku: str, supplier_id: str, quantity: int) -> StockRow:
    """Add units to the shelf (negative to correct a count, never below what is reserved)."""
    for attempt in range(MAX_ATTEMPTS):
        row = next((r for r in stock_rows(sku, serial=attempt > 0) if r.supplier_id == supplier_id), None)
        if row is None:
            raise UnknownSku(sku)
        new_on_hand = row.on_hand + quantity
        if new_on_hand < row.reserved:
            raise OutOfStock(sku, -quantity, row.on_hand - row.reserved)
        result = session().execute(
            f"UPDATE {table('inventory_stock')} SET on_hand = %s WHERE sku = %s AND supplier_id = %s"
            f" IF on_hand = %s",
            [new_on_hand, sku, supplier_id, row.on_hand],
        )
        if result.was_applied:
            return StockRow(sku, supplier_id, new_on_hand, row.reserved, row.holds)
        _backoff(attempt)
    raise Contention(f"stock of {sku} is too contended; try again")
