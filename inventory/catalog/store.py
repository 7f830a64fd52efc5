"""Write a generated catalog to Cassandra, idempotently.

Catalog rows are upserts of the same values, so writing the same catalog twice changes nothing.
Stock rows are inserted only where none exists (`IF NOT EXISTS`): re-seeding never resets stock
that shoppers have since reserved or bought.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from cassandra.concurrent import execute_concurrent_with_args

from commerce.cassandra import prepare, session, table
from commerce.progress import Progress
from inventory.catalog.generator import Catalog

CATALOG_TABLES = ("suppliers", "collections", "products", "products_by_collection", "variants",
                  "variants_by_product", "inventory_stock", "inventory_reservations", "stock_changes")
CONCURRENCY = 64
CHUNK = 500


@dataclass(frozen=True)
class SeedSummary:
    suppliers: int
    collections: int
    products: int
    variants: int
    stock_rows_created: int
    stock_rows_kept: int


def _run(cql: str, rows: Iterable[tuple]) -> list:
    results = execute_concurrent_with_args(session(), prepare(cql), list(rows), concurrency=CONCURRENCY)
    failures = [result for success, result in results if not success]
    if failures:
        raise failures[0]
    return [result for _, result in results]


def clear_catalog() -> None:
    """Empty the catalog and stock tables (for `seed_catalog --reset`)."""
    for name in CATALOG_TABLES:
        session().execute(f"TRUNCATE {table(name)}", timeout=120)


def write_catalog(catalog: Catalog, stream: TextIO | None = None) -> SeedSummary:
    _run(
        f"INSERT INTO {table('suppliers')} (supplier_id, name, strategy) VALUES (?, ?, ?)",
        [(s.supplier_id, s.name, s.strategy) for s in catalog.suppliers],
    )
    _run(
        f"INSERT INTO {table('collections')} (slug, name, department, description, position, product_count,"
        " image_shape, image_colour) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(c.slug, c.name, c.department, c.description, c.position, c.product_count, c.image_shape, c.image_colour)
         for c in catalog.collections],
    )
    created = kept = 0
    with Progress("seeding products", len(catalog.products), stream) as progress:
        for start in range(0, len(catalog.products), CHUNK):
            chunk = catalog.products[start:start + CHUNK]
            variants = [variant for product in chunk for variant in product.variants]
            _run(
                f"INSERT INTO {table('products')} (slug, code, name, description, product_type, department, vendor,"
                " supplier_id, collections, tags, colours, sizes, image_shape, price_min_cents, price_max_cents,"
                " featured, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(p.slug, p.code, p.name, p.description, p.product_type, p.department, p.vendor, p.supplier_id,
                  p.collections, p.tags, p.colours, p.sizes, p.image_shape, p.price_min_cents, p.price_max_cents,
                  p.featured, p.created_at) for p in chunk],
            )
            _run(
                f"INSERT INTO {table('products_by_collection')} (collection_slug, product_slug, name) VALUES (?, ?, ?)",
                [(slug, p.slug, p.name) for p in chunk for slug in p.collections],
            )
            _run(
                f"INSERT INTO {table('variants')} (sku, product_slug, colour, size, price_cents, position)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(v.sku, v.product_slug, v.colour, v.size, v.price_cents, v.position) for v in variants],
            )
            _run(
                f"INSERT INTO {table('variants_by_product')} (product_slug, position, sku, colour, size, price_cents)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(v.product_slug, v.position, v.sku, v.colour, v.size, v.price_cents) for v in variants],
            )
            supplier_of = {p.slug: p.supplier_id for p in chunk}
            results = _run(
                f"INSERT INTO {table('inventory_stock')} (sku, supplier_id, on_hand, reserved)"
                " VALUES (?, ?, ?, 0) IF NOT EXISTS",
                [(v.sku, supplier_of[v.product_slug], v.on_hand) for v in variants],
            )
            applied = sum(1 for result in results if result.was_applied)
            created += applied
            kept += len(results) - applied
            progress.advance(len(chunk))
    return SeedSummary(
        suppliers=len(catalog.suppliers),
        collections=len(catalog.collections),
        products=len(catalog.products),
        variants=len(catalog.variants),
        stock_rows_created=created,
        stock_rows_kept=kept,
    )
