"""The sweeper's index of holds: `inventory_reservations`, one row per live hold.

The stock row (inventory/stock.py) is the truth of who holds what and until when. This index
only says where a hold lives (SKU, supplier) and when it lapses, so the sweeper can find expired
holds without scanning every stock row. Two rules keep the two tables safe to crash between:

- The index row is written *before* the stock row changes, and with an expiry no earlier than the
  stock row's. A crash in between leaves an index row pointing at a hold that does not exist (or
  not yet): the sweeper finds no expired hold there and deletes the index row. A stock hold
  therefore always has an index row, and the sweeper always finds it.
- Every write is a plain INSERT with a TTL on every cell, row marker included, so an index row
  nobody deletes disappears whole. The sweeper deletes only up to the write time it read
  (`USING TIMESTAMP`), so it never deletes a row a newer hold has just written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cassandra.query import SimpleStatement

from commerce.cassandra import session, table
from inventory.contracts import ReservationStatus

# An index row outlives its hold's expiry by this much: the sweeper deletes it long before,
# and if the sweeper is down for a week the row still goes, whole.
INDEX_GRACE_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class IndexRow:
    reservation_id: str
    sku: str
    supplier_id: str
    cart_id: str
    status: str
    expires_at: datetime | None
    written_at: int  # the write's timestamp in microseconds, for a bounded delete


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _now() -> datetime:
    return datetime.now(UTC)


def record(rid: str, sku: str, supplier_id: str, status: str, expires_at: datetime | None,
           cart_id: str = "") -> None:
    """Write a hold's index row whole. A held row expires INDEX_GRACE_SECONDS after its hold;
    a confirmed row (an order owns the units) lives until the hold is committed or released."""
    columns = "(reservation_id, sku, supplier_id, cart_id, status, expires_at)"
    values = [rid, sku, supplier_id, cart_id, status, expires_at]
    if status == ReservationStatus.HELD:
        ttl = max(1, int((expires_at - _now()).total_seconds()) + INDEX_GRACE_SECONDS)
        session().execute(f"INSERT INTO {table('inventory_reservations')} {columns}"
                          f" VALUES (%s, %s, %s, %s, %s, %s) USING TTL {ttl}", values)
    else:
        session().execute(f"INSERT INTO {table('inventory_reservations')} {columns}"
                          f" VALUES (%s, %s, %s, %s, %s, %s)", values)


def _index_row(row) -> IndexRow:
    return IndexRow(row["reservation_id"], row["sku"], row["supplier_id"] or "", row["cart_id"] or "",
                    row["status"] or "", _utc(row["expires_at"]), row["written_at"] or 0)


_SELECT = ("SELECT reservation_id, sku, supplier_id, cart_id, status, expires_at, writetime(sku) AS written_at"
           " FROM {table}")


def lookup(rid: str) -> IndexRow | None:
    found = session().execute(_SELECT.format(table=table("inventory_reservations")) + " WHERE reservation_id = %s",
                              [rid]).one()
    return _index_row(found) if found else None


def forget(rid: str, written_at: int | None = None) -> None:
    """Delete an index row; with `written_at`, only what was written up to that moment."""
    using = f" USING TIMESTAMP {int(written_at)}" if written_at else ""
    session().execute(f"DELETE FROM {table('inventory_reservations')}{using} WHERE reservation_id = %s", [rid])


@dataclass(frozen=True)
class Page:
    rows: list[IndexRow]
    paging_state: bytes | None


def page(page_size: int, paging_state: bytes | None = None) -> Page:
    """One page of the whole index, in token order; pass the returned state to read the next."""
    statement = SimpleStatement(_SELECT.format(table=table("inventory_reservations")), fetch_size=page_size)
    result = session().execute(statement, paging_state=paging_state)
    return Page([_index_row(row) for row in result.current_rows], result.paging_state)
