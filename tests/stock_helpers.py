"""Test stock: SKU rows of their own, so tests never race each other for units."""

from __future__ import annotations

import uuid

from commerce.cassandra import session, table
from inventory.stock import stock_rows

SUPPLIER = "heron-warehouse"


def fresh_sku(on_hand: int, sku: str | None = None) -> str:
    """A stock row with `on_hand` units and nothing reserved (a new SKU unless one is given)."""
    sku = sku or f"TST-{uuid.uuid4().hex[:10].upper()}"
    session().execute(f"DELETE FROM {table('inventory_stock')} WHERE sku = %s", [sku])
    session().execute(
        f"INSERT INTO {table('inventory_stock')} (sku, supplier_id, on_hand, reserved, holds)"
        " VALUES (%s, %s, %s, 0, {})",
        [sku, SUPPLIER, on_hand],
    )
    return sku


def levels(sku: str) -> tuple[int, int, dict]:
    row = stock_rows(sku, serial=True)[0]
    return row.on_hand, row.reserved, row.holds
