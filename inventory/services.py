"""What the storefront's views call for the catalog: read-model queries returning contracts.

Search, collection and home pages read Elasticsearch; the product page reads Cassandra, so
its prices and availability are the live ones.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TextIO

from cassandra import DriverException
from cassandra.cluster import NoHostAvailable
from cassandra.cqlengine.query import DoesNotExist
from elasticsearch import ApiError, NotFoundError, TransportError
from temporalio.client import WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from commerce.temporal import get_client
from inventory.catalog import images
from inventory.catalog import search as catalog_search
from inventory.contracts import (
    TASK_QUEUE,
    CollectionCard,
    InventoryWorkflows,
    ProductCard,
    ProductPage,
    SearchParams,
    SearchResults,
    StockChange,
    StockErrors,
    StockLevel,
    VariantChoice,
    stock_change_workflow_id,
)
from inventory.documents import CollectionDocument
from inventory.models import Product, StockChangeRecord, Variant, VariantByProduct
from inventory.projection import available_by_sku, colour_hex
from inventory.stock import stock_rows

logger = logging.getLogger(__name__)

COLLECTIONS_TTL_SECONDS = 60.0
_collections_cache: tuple[float, list[CollectionCard]] | None = None


class NotFound(LookupError):
    """No such product, variant or collection."""


class Unavailable(RuntimeError):
    """A store a page needs does not answer; `message` names what, in the shopper's words."""

    message = "The shop is unavailable right now"

    def __init__(self) -> None:
        super().__init__(self.message)


class SearchUnavailable(Unavailable):
    """Elasticsearch (search, listings, collections) does not answer."""

    message = "Search is unavailable right now"


class CatalogUnavailable(Unavailable):
    """Cassandra (product pages: live prices and stock) does not answer."""

    message = "The catalog is unavailable right now"


@contextmanager
def _search_store() -> Iterator[None]:
    try:
        yield
    except TransportError as exc:  # refused, timed out, cut off
        logger.warning("elasticsearch unavailable: %s", exc)
        raise SearchUnavailable() from exc
    except ApiError as exc:
        # 404 is "not indexed yet" (callers show an empty shop); 429 and 5xx are the cluster failing.
        if exc.meta.status == 429 or exc.meta.status >= 500:
            logger.warning("elasticsearch unavailable: %s", exc)
            raise SearchUnavailable() from exc
        raise


@contextmanager
def _catalog_store() -> Iterator[None]:
    try:
        yield
    except (NoHostAvailable, DriverException) as exc:  # no host, timeouts, too few replicas
        logger.warning("cassandra unavailable: %s", exc)
        raise CatalogUnavailable() from exc


def _collection_card(doc) -> CollectionCard:
    return CollectionCard(
        slug=doc.slug,
        name=doc.name,
        department=doc.department,
        description=doc.description,
        product_count=doc.product_count,
        image_url=images.url(doc.image_shape, doc.image_colour),
    )


def list_collections() -> list[CollectionCard]:
    """Every collection in display order; cached briefly, collections change only on reseed."""
    global _collections_cache
    now = time.monotonic()
    if _collections_cache is None or now - _collections_cache[0] > COLLECTIONS_TTL_SECONDS:
        search = CollectionDocument.search().sort("position")[:500]
        try:
            with _search_store():
                cards = [_collection_card(doc) for doc in search.execute()]
        except NotFoundError:
            return []  # not indexed yet (a fresh install before `reindex`): an empty shop, not an error
        _collections_cache = (now, cards)
    return _collections_cache[1]


def get_collection(slug: str) -> CollectionCard:
    for collection in list_collections():
        if collection.slug == slug:
            return collection
    raise NotFound(f"no collection {slug!r}")


def search(params: SearchParams, with_collection_facet: bool = True) -> SearchResults:
    names = {collection.slug: collection.name for collection in list_collections()}
    try:
        with _search_store():
            return catalog_search.search_products(params, names, with_collection_facet)
    except NotFoundError:
        return SearchResults(params=params, total=0, page=1, pages=1, cards=(), facets=())


def featured_products(limit: int = 8) -> list[ProductCard]:
    return list(search(SearchParams()).cards[:limit])


def product_page(slug: str, sku: str | None = None) -> ProductPage:
    """The live product page from Cassandra; without Elasticsearch it only loses its collection links."""
    with _catalog_store():
        return _product_page(slug, sku)


def _collections_if_searchable() -> list[CollectionCard]:
    try:
        return list_collections()
    except SearchUnavailable:
        return []  # the product page still sells without its breadcrumbs


def _product_page(slug: str, sku: str | None) -> ProductPage:
    try:
        product = Product.objects.get(slug=slug)
    except DoesNotExist:
        raise NotFound(f"no product {slug!r}") from None
    variants = sorted(VariantByProduct.objects.filter(product_slug=slug), key=lambda v: v.position)
    if not variants:
        raise NotFound(f"product {slug!r} has no variants")
    available = available_by_sku([v.sku for v in variants])
    if sku:
        selected = next((v for v in variants if v.sku == sku), None)
        if selected is None:
            raise NotFound(f"product {slug!r} has no variant {sku!r}")
    else:
        selected = next((v for v in variants if available.get(v.sku, 0) > 0), variants[0])

    by_combo = {(v.colour, v.size): v for v in variants}
    colours = list(dict.fromkeys(v.colour for v in variants))
    sizes = list(dict.fromkeys(v.size for v in variants))

    colour_choices = []
    for colour in colours:
        of_colour = [v for v in variants if v.colour == colour]
        in_stock = [v for v in of_colour if available.get(v.sku, 0) > 0]
        target = by_combo.get((colour, selected.size))
        if target is None or available.get(target.sku, 0) == 0:
            target = (in_stock or of_colour)[0]
        colour_choices.append(VariantChoice(
            label=colour,
            url=f"?variant={target.sku}",
            selected=colour == selected.colour,
            enabled=bool(in_stock),
            note="" if in_stock else "sold out",
            swatch=colour_hex(colour),
        ))

    size_choices = []
    for size in sizes:
        variant = by_combo.get((selected.colour, size))
        if variant is None:
            size_choices.append(VariantChoice(size, "", False, False, f"not made in {selected.colour}"))
            continue
        units = available.get(variant.sku, 0)
        size_choices.append(VariantChoice(
            label=size,
            url=f"?variant={variant.sku}",
            selected=variant.sku == selected.sku,
            enabled=units > 0,
            note="" if units > 0 else "sold out",
        ))

    names = {collection.slug: collection for collection in _collections_if_searchable()}
    return ProductPage(
        slug=product.slug,
        name=product.name,
        description=product.description,
        product_type=product.product_type,
        vendor=product.vendor,
        collections=tuple(names[s] for s in product.collections or [] if s in names),
        sku=selected.sku,
        colour=selected.colour,
        size=selected.size,
        price_cents=selected.price_cents,
        available=available.get(selected.sku, 0),
        image_url=images.url(product.image_shape, colour_hex(selected.colour)),
        gallery=tuple(images.url(product.image_shape, colour_hex(colour)) for colour in colours),
        colour_choices=tuple(colour_choices),
        size_choices=tuple(size_choices),
        tags=tuple(sorted(product.tags or [])),
    )


# -- stock: what the admin and operator commands call ------------------------------------------

STOCK_CHANGE_WAIT_SECONDS = 10.0


class StockChangeRefused(Exception):
    """The inventory said no (unknown SKU, below what is held, out of range): `str()` says why."""


class StockChangePending(Exception):
    """The change was accepted but not confirmed in time: it applies when the inventory worker runs."""


def new_command_id() -> str:
    return uuid.uuid4().hex


async def change_stock(change: StockChange, wait_seconds: float = STOCK_CHANGE_WAIT_SECONDS) -> StockLevel:
    """Apply a stock change command through its own workflow, once per command id: sending the
    same command again (a double-submitted form, a retried command) attaches to the first."""
    client = await get_client()
    handle = client.get_workflow_handle(stock_change_workflow_id(change.command_id), result_type=StockLevel)
    try:
        handle = await client.start_workflow(
            InventoryWorkflows.STOCK_CHANGE, change, id=handle.id, task_queue=TASK_QUEUE,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            execution_timeout=timedelta(days=1), result_type=StockLevel)
    except WorkflowAlreadyStartedError:
        pass  # applied (or refused) before: its result is the answer
    except RPCError as error:
        logger.warning("stock change %s could not be started: %s", change.command_id, error)
        raise StockChangePending("The inventory service is unreachable; nothing was changed. Try again.") from error
    try:
        return await asyncio.wait_for(handle.result(), timeout=wait_seconds)
    except WorkflowFailureError as failure:
        cause = failure.cause.cause if isinstance(failure.cause, ActivityError) else failure.cause
        if isinstance(cause, ApplicationError) and cause.type in StockErrors.NON_RETRYABLE:
            raise StockChangeRefused(cause.message) from None
        raise StockChangePending("The stock change failed; see the worker log.") from failure
    except (TimeoutError, RPCError) as error:
        raise StockChangePending("The stock change is queued and applies as soon as the inventory worker runs;"
                                 " it will not apply twice.") from error


def stock_levels(query: str, limit: int = 200) -> list[StockLevel]:
    """Stock rows for the admin page: by exact SKU, or every SKU of a product slug."""
    query = query.strip()[:100]
    if not query:
        return []
    skus = [query] if Variant.objects.filter(sku=query).first() else [
        row.sku for row in VariantByProduct.objects.filter(product_slug=query)
    ]
    return [StockLevel(row.sku, row.supplier_id, row.on_hand, row.reserved, len(row.holds))
            for sku in skus[:limit] for row in stock_rows(sku)]


def stock_changes(sku: str, limit: int = 20) -> list[StockChangeRecord]:
    """The latest stock changes of a SKU, newest first."""
    return list(StockChangeRecord.objects.filter(sku=sku).limit(limit))


# -- catalog: what the operator commands call ---------------------------------------------------

def seed_catalog(products: int, seed: int, reset: bool, progress: TextIO):
    """Generate the catalog from `seed` and write it (stock rows only where missing); `reset`
    empties the catalog and stock tables first. Returns the store's summary."""
    from inventory.catalog.generator import generate_catalog
    from inventory.catalog.store import clear_catalog, write_catalog

    if reset:
        clear_catalog()
    return write_catalog(generate_catalog(products=products, seed=seed), progress)


def rebuild_search(target: str, progress: TextIO) -> list:
    """Rebuild the `collections` and/or `products` index from Cassandra behind its alias."""
    from commerce.search import rebuild
    from inventory.documents import ProductDocument
    from inventory.projection import iter_collections, iter_product_listings

    summaries = []
    if target in ("collections", "all"):
        rows = list(iter_collections())
        summaries.append(rebuild(CollectionDocument, rows, len(rows), progress))
    if target in ("products", "all"):
        listings = list(iter_product_listings())
        summaries.append(rebuild(ProductDocument, listings, len(listings), progress))
    return summaries
