"""The steps of a catalog reindex, each small enough to be one activity of `CatalogReindex`.

`manage.py reindex` rebuilds an index in one go (`commerce.search.rebuild`); the staff console's
reindex runs the same work as a workflow so its progress can be followed: `begin` creates the new
concrete indices beside the live ones and counts the work, `index_collections` and
`index_products_page` (a page of the products table per call, resumable from its cursor) fill them,
`publish` moves both aliases in one atomic step and drops the old indices, and `abandon` removes a
half-built pair, so a failed reindex leaves the storefront searching the old indices.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from cassandra.query import SimpleStatement
from elasticsearch.helpers import BulkIndexError

from commerce.cassandra import session, table
from commerce.search import (
    concrete_indices,
    create_concrete_index,
    document_actions,
    drop_index,
    es,
    fill_index,
    point_aliases,
)
from inventory.contracts import BatchResult, ProductBatch, ReindexPlan
from inventory.documents import CollectionDocument, ProductDocument
from inventory.projection import ProductListing, iter_collections, listings_for

logger = logging.getLogger(__name__)


class DocumentRefused(Exception):
    """Elasticsearch refused a document of the catalog: `str()` names it and says why."""


def _count(name: str) -> int:
    """Rows of a catalog table, by reading their keys (an unrestricted COUNT(*) is the same scan, with a
    warning from the server)."""
    statement = SimpleStatement(f"SELECT slug FROM {table(name)}", fetch_size=5000)
    return sum(1 for _ in session().execute(statement))


# The fields of ProductDocument and of its nested variants, read straight off a listing.
PRODUCT_FIELDS = ("slug", "code", "name", "description", "search_text", "collections", "collection_names",
                  "product_type", "department", "vendor", "tags", "colours", "sizes", "price_min_cents",
                  "price_max_cents", "available", "in_stock", "featured", "image_shape", "image_colour",
                  "default_sku", "created_at")
VARIANT_FIELDS = ("sku", "colour", "colour_hex", "size", "price_cents", "available")


def product_source(listing: ProductListing) -> dict:
    """The document of a product, the same as `ProductDocument().prepare(listing)`, which walks
    elasticsearch-dsl's field objects for every value and was most of a reindex's time."""
    source = {name: getattr(listing, name) for name in PRODUCT_FIELDS}
    source["variants"] = [{name: getattr(variant, name) for name in VARIANT_FIELDS} for variant in listing.variants]
    return source


def product_actions(index: str, listings: Iterable[ProductListing]) -> Iterator[dict]:
    """Bulk actions that write `listings` into `index`."""
    for listing in listings:
        yield {"_index": index, "_id": ProductDocument.generate_id(listing), "_source": product_source(listing)}


def begin() -> ReindexPlan:
    """New, empty products and collections indices (not searched yet), and the work to fill them."""
    products_index = create_concrete_index(ProductDocument)
    try:
        collections_index = create_concrete_index(CollectionDocument)
    except BaseException:
        drop_index(products_index)
        raise
    try:
        return ReindexPlan(products_index, collections_index, products=_count("products"),
                           collections=_count("collections"))
    except BaseException:
        abandon(products_index, collections_index)
        raise


def _fill(index: str, actions) -> int:
    try:
        return fill_index(index, actions)
    except BulkIndexError as error:
        # Only the first refusal is named: one is enough to act on, and the message stays short.
        item = next(iter(error.errors[0].values()), {}) if error.errors else {}
        cause = item.get("error") or {}
        reason = _reason(cause) if isinstance(cause, dict) else str(cause)
        raise DocumentRefused(f"the index refused {item.get('_id', 'a document')!r}: {reason}") from None


def _reason(cause: dict) -> str:
    """Elasticsearch's reason for refusing a document, without its preview of the value, and what caused it."""
    reason = str(cause.get("reason") or "no reason given").split(". Preview of field")[0][:200]
    underlying = cause.get("caused_by") or {}
    return f"{reason} ({str(underlying.get('reason', ''))[:150]})" if underlying.get("reason") else reason


def index_collections(index: str) -> int:
    """Every collection into `index`; returns how many."""
    rows = list(iter_collections())
    return _fill(index, document_actions(CollectionDocument, index, rows))


def index_products_page(batch: ProductBatch, heartbeat: Callable[[], None] = lambda: None) -> BatchResult:
    """One page of the products table (from `batch.cursor`) into `batch.index`, as listings with
    today's variants and availability; returns how many and the cursor of the next page."""
    statement = SimpleStatement(f"SELECT slug FROM {table('products')}", fetch_size=max(1, batch.size))
    result = session().execute(statement, paging_state=bytes.fromhex(batch.cursor) if batch.cursor else None)
    listings = listings_for([row["slug"] for row in result.current_rows])
    heartbeat()
    indexed = _fill(batch.index, product_actions(batch.index, listings)) if listings else 0
    return BatchResult(indexed, result.paging_state.hex() if result.paging_state else "")


def publish(plan: ReindexPlan) -> list[str]:
    """Make the new indices the searched ones (both aliases in one step) and drop the old ones.
    Returns the dropped indices. Safe to repeat: a second call finds the aliases already moved."""
    es().indices.refresh(index=f"{plan.products_index},{plan.collections_index}")
    left = point_aliases({ProductDocument._index._name: plan.products_index,
                          CollectionDocument._index._name: plan.collections_index})
    dropped = [name for names in left.values() for name in names]
    for name in dropped:
        try:
            drop_index(name)
        except Exception as error:  # noqa: BLE001 - the swap is done; an old index left over only takes space
            logger.warning("reindex: the old index %s was not dropped: %s", name, error)
    return dropped


def abandon(*indices: str) -> list[str]:
    """Delete the half-built indices of a failed reindex, but never one an alias points at (a publish
    that failed after its swap). Returns the deleted ones."""
    live = {name for document in (ProductDocument, CollectionDocument)
            for name in concrete_indices(document._index._name)}
    deleted = [index for index in indices if index and index not in live]
    for index in deleted:
        drop_index(index)
    return deleted
