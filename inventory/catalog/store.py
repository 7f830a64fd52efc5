"""Write a generated catalog to Cassandra, idempotently.

Catalog rows are upserts of the same values, so writing the same catalog twice changes nothing.
Stock rows are inserted only where none exists: re-seeding never resets stock that shoppers have
since reserved or bought.

Rows go in unlogged batches grouped by partition key (a product's row with its variant list, each
SKU's variant row with its stock row), kept under Cassandra's batch warning thresholds: one request
per batch instead of one per row, which is where a row-by-row seed spent its time (the driver's
per-request cost, ~0.4 ms of client CPU per row).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO

from cassandra.concurrent import execute_concurrent, execute_concurrent_with_args
from cassandra.query import BatchStatement, BatchType, PreparedStatement, SimpleStatement

from commerce.cassandra import prepare, session, table
from commerce.progress import Progress
from inventory.catalog.generator import Catalog, ProductRecord

CATALOG_TABLES = ("suppliers", "collections", "products", "products_by_collection", "variants",
                  "variants_by_product", "inventory_stock", "inventory_reservations", "stock_changes")
CONCURRENCY = 64  # single statements in flight (compare-and-set stock inserts)
BATCH_CONCURRENCY = 16  # batches in flight: more only queues in the server
# Below Cassandra's defaults for a warning (unlogged_batch_across_partitions_warn_threshold: 10,
# batch_size_warn_threshold: 5 KiB of mutations); the byte figure is an estimate from the values.
BATCH_PARTITIONS = 10
BATCH_BYTES = 4000
CELL_OVERHEAD = 24
CHUNK = 500  # products per progress step


@dataclass(frozen=True)
class SeedSummary:
    suppliers: int
    collections: int
    products: int
    variants: int
    stock_rows_created: int
    stock_rows_kept: int


@dataclass(frozen=True)
class Row:
    """One row to write: the statement, its values, and the partition key it lands in."""

    statement: PreparedStatement
    values: tuple
    partition: str

    @property
    def size(self) -> int:
        return sum(len(str(value)) + CELL_OVERHEAD for value in self.values)


def _statements() -> dict[str, PreparedStatement]:
    return {
        "supplier": prepare(f"INSERT INTO {table('suppliers')} (supplier_id, name, strategy) VALUES (?, ?, ?)"),
        "collection": prepare(
            f"INSERT INTO {table('collections')} (slug, name, department, description, position, product_count,"
            " image_shape, image_colour) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
        "product": prepare(
            f"INSERT INTO {table('products')} (slug, code, name, description, product_type, department, vendor,"
            " supplier_id, collections, tags, colours, sizes, image_shape, price_min_cents, price_max_cents,"
            " featured, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        "in_collection": prepare(
            f"INSERT INTO {table('products_by_collection')} (collection_slug, product_slug, name) VALUES (?, ?, ?)"),
        "variant": prepare(
            f"INSERT INTO {table('variants')} (sku, product_slug, colour, size, price_cents, position)"
            " VALUES (?, ?, ?, ?, ?, ?)"),
        "variant_of_product": prepare(
            f"INSERT INTO {table('variants_by_product')} (product_slug, position, sku, colour, size, price_cents)"
            " VALUES (?, ?, ?, ?, ?, ?)"),
        "stock": prepare(
            f"INSERT INTO {table('inventory_stock')} (sku, supplier_id, on_hand, reserved) VALUES (?, ?, ?, 0)"),
        "stock_if_missing": prepare(
            f"INSERT INTO {table('inventory_stock')} (sku, supplier_id, on_hand, reserved)"
            " VALUES (?, ?, ?, 0) IF NOT EXISTS"),
    }


def batches(rows: Iterable[Row]) -> Iterator[BatchStatement]:
    """`rows` packed in order into unlogged batches of at most BATCH_PARTITIONS partition keys and about
    BATCH_BYTES (a row alone can be larger). Rows of one key should come together: the same key in
    several tables counts once (Cassandra counts partition keys, not tables)."""
    batch, partitions, size = None, set(), 0
    for row in rows:
        new_partition = row.partition not in partitions
        if batch is not None and ((new_partition and len(partitions) >= BATCH_PARTITIONS)
                                  or size + row.size > BATCH_BYTES):
            yield batch
            batch = None
        if batch is None:
            batch, partitions, size = BatchStatement(batch_type=BatchType.UNLOGGED), set(), 0
        batch.add(row.statement, row.values)
        partitions.add(row.partition)
        size += row.size
    if batch is not None:
        yield batch


def _write(rows: Iterable[Row]) -> None:
    execute_concurrent(session(), [(batch, ()) for batch in batches(rows)], concurrency=BATCH_CONCURRENCY,
                       raise_on_first_error=True)


def _run(statement: PreparedStatement, rows: list[tuple]) -> list:
    results = execute_concurrent_with_args(session(), statement, rows, concurrency=CONCURRENCY)
    failures = [result for success, result in results if not success]
    if failures:
        raise failures[0]
    return [result for _, result in results]


def clear_catalog() -> None:
    """Empty the catalog and stock tables (for `seed_catalog --reset`), all at once."""
    futures = [session().execute_async(f"TRUNCATE {table(name)}", timeout=120) for name in CATALOG_TABLES]
    for future in futures:
        future.result()


def existing_stock() -> set[tuple[str, str]]:
    """(sku, supplier_id) of every stock row, read in one paged scan."""
    statement = SimpleStatement(f"SELECT sku, supplier_id FROM {table('inventory_stock')}", fetch_size=5000)
    return {(row["sku"], row["supplier_id"]) for row in session().execute(statement)}


def _product_rows(product: ProductRecord, statements: dict, with_stock: bool) -> Iterator[Row]:
    p = product
    yield Row(statements["product"],
              (p.slug, p.code, p.name, p.description, p.product_type, p.department, p.vendor, p.supplier_id,
               p.collections, p.tags, p.colours, p.sizes, p.image_shape, p.price_min_cents, p.price_max_cents,
               p.featured, p.created_at), p.slug)
    for v in p.variants:
        yield Row(statements["variant_of_product"], (v.product_slug, v.position, v.sku, v.colour, v.size,
                                                     v.price_cents), p.slug)
    for v in p.variants:
        yield Row(statements["variant"], (v.sku, v.product_slug, v.colour, v.size, v.price_cents, v.position), v.sku)
        if with_stock:
            yield Row(statements["stock"], (v.sku, p.supplier_id, v.on_hand), v.sku)


def _collection_rows(catalog: Catalog, statements: dict) -> Iterator[Row]:
    members: dict[str, list[ProductRecord]] = {c.slug: [] for c in catalog.collections}
    for product in catalog.products:
        for slug in product.collections:
            members[slug].append(product)
    for c in catalog.collections:
        yield Row(statements["collection"], (c.slug, c.name, c.department, c.description, c.position,
                                             c.product_count, c.image_shape, c.image_colour), c.slug)
        for product in members[c.slug]:
            yield Row(statements["in_collection"], (c.slug, product.slug, product.name), c.slug)


def write_catalog(catalog: Catalog, stream: TextIO | None = None) -> SeedSummary:
    statements = _statements()
    existing = existing_stock()
    # No stock row at all (a fresh or reset keyspace): nobody can hold stock that has no row, and only the
    # seed creates rows, so plain inserts go in the products' batches. Otherwise each missing row is a
    # compare-and-set, which never overwrites a row a shopper has touched since we looked.
    fresh = not existing
    _write(Row(statements["supplier"], (s.supplier_id, s.name, s.strategy), s.supplier_id)
           for s in catalog.suppliers)
    _write(_collection_rows(catalog, statements))
    created = kept = 0
    with Progress("seeding products", len(catalog.products), stream) as progress:
        for start in range(0, len(catalog.products), CHUNK):
            chunk = catalog.products[start:start + CHUNK]
            _write(row for product in chunk for row in _product_rows(product, statements, with_stock=fresh))
            stock = [(v.sku, p.supplier_id, v.on_hand) for p in chunk for v in p.variants]
            if fresh:
                created += len(stock)
            else:
                missing = [values for values in stock if values[:2] not in existing]
                applied = sum(1 for result in _run(statements["stock_if_missing"], missing) if result.was_applied)
                created += applied
                kept += len(stock) - applied
            progress.advance(len(chunk))
    return SeedSummary(
        suppliers=len(catalog.suppliers),
        collections=len(catalog.collections),
        products=len(catalog.products),
        variants=len(catalog.variants),
        stock_rows_created=created,
        stock_rows_kept=kept,
    )
