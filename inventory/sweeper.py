"""The sweep: release every hold whose time ran out, paging through the whole reservation index.

Run by the inventory service on its own timer. Each index row is settled against the stock row,
which is the truth: an expired hold is released (conditioned on the expiry read, so a renewal
racing the sweep wins), a confirmed hold's index row is marked confirmed, an index row whose hold
is gone is deleted, and one whose hold was renewed is rewritten with the stock row's expiry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from inventory import reservations, stock
from inventory.contracts import ReservationStatus


@dataclass
class SweepProgress:
    """Where a sweep is: resumable from `paging_state` (None before the first page)."""

    paging_state: bytes | None = None
    released_skus: set[str] = field(default_factory=set)
    scanned: int = 0
    done: bool = False


def settle(row: reservations.IndexRow, as_of: datetime) -> bool:
    """Settle one expired index row. Returns whether stock came back."""
    holding = next((r for r in stock.stock_rows(row.sku, serial=True) if row.reservation_id in r.holds), None)
    if holding is None:
        reservations.forget(row.reservation_id, row.written_at)
        return False
    if holding.is_confirmed(row.reservation_id):
        reservations.record(row.reservation_id, row.sku, holding.supplier_id, ReservationStatus.CONFIRMED, None,
                            row.cart_id)
        return False
    expiry = holding.hold_expiry[row.reservation_id]
    if expiry >= as_of:
        reservations.record(row.reservation_id, row.sku, holding.supplier_id, ReservationStatus.HELD, expiry,
                            row.cart_id)
        return False
    released = stock.release_if_expired(row.reservation_id, row.sku, as_of)
    if released:
        reservations.forget(row.reservation_id, row.written_at)
    return released


def sweep_page(progress: SweepProgress, as_of: datetime, page_size: int) -> SweepProgress:
    """Settle the expired rows of the next page of the index; `progress.done` after the last."""
    current = reservations.page(page_size, progress.paging_state)
    for row in current.rows:
        progress.scanned += 1
        expired = (row.status == ReservationStatus.HELD and row.expires_at is not None and row.expires_at < as_of)
        if not expired:
            continue
        try:
            if settle(row, as_of):
                progress.released_skus.add(row.sku)
        except stock.Contention:
            continue  # the next sweep gets it
    progress.paging_state = current.paging_state
    progress.done = current.paging_state is None
    return progress


def sweep_expired(as_of: datetime, page_size: int = 500) -> list[str]:
    """Sweep the whole index at once (tests and operators; the service pages with heartbeats)."""
    progress = SweepProgress()
    while not progress.done:
        sweep_page(progress, as_of, page_size)
    return sorted(progress.released_skus)
