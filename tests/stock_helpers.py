"""Test stock: SKU rows set to a known level, so tests never race each other for units."""

from __future__ import annotations

import uuid

from commerce.cassandra import session, table
from inventory.stock import stock_rows

SUPPLIER = "heron-warehouse"


def fresh_sku(on_hand: int, sku: str | None = None) -> str:
    """A SKU whose stock is `on_hand` units with nothing reserved: a new SKU unless one is given.
    An existing SKU keeps its supplier rows (the first gets the units), so reseeding still finds them."""
    sku = sku or f"TST-{uuid.uuid4().hex[:10].upper()}"
    suppliers = [row.supplier_id for row in stock_rows(sku, serial=True)] or [SUPPLIER]
    for index, supplier_id in enumerate(suppliers):
        session().execute(
            f"INSERT INTO {table('inventory_stock')} (sku, supplier_id, on_hand, reserved, holds, hold_expiry,"
            " applied) VALUES (%s, %s, %s, 0, {}, {}, {})",
            [sku, supplier_id, on_hand if index == 0 else 0],
        )
    return sku


def levels(sku: str) -> tuple[int, int, dict]:
    """(on hand, reserved, holds) over every supplier of the SKU."""
    rows = stock_rows(sku, serial=True)
    holds = {rid: units for row in rows for rid, units in row.holds.items()}
    return sum(r.on_hand for r in rows), sum(r.reserved for r in rows), holds
