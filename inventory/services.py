"""What the storefront's views call for the catalog: read-model queries returning contracts.

Search, collection and home pages read Elasticsearch; the product page reads Cassandra, so
its prices and availability are the live ones.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TextIO

from asgiref.sync import async_to_sync
from cassandra import DriverException
from cassandra.cluster import NoHostAvailable
from cassandra.cqlengine import CQLEngineException
from cassandra.cqlengine.query import DoesNotExist
from django.conf import settings
from elasticsearch import ApiError, NotFoundError, TransportError
from temporalio.client import WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from commerce.search import es
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
from inventory.documents import CollectionDocument, ProductDocument
from inventory.models import Product, StockChangeRecord, Variant, VariantByProduct
from inventory.projection import available_by_sku, colour_hex
from inventory.stock import stock_rows, stock_rows_of

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
    except DoesNotExist:
        raise  # a missing row is the caller's "not found" (it is a CQLEngineException too)
    except CQLEngineException as exc:  # "cluster is not configured": the connection was never made
        logger.warning("cassandra not connected: %s", exc)
        raise CatalogUnavailable() from exc


def _collection_card(source: dict) -> CollectionCard:
    return CollectionCard(
        slug=source["slug"],
        name=source["name"],
        department=source["department"],
        description=source["description"],
        product_count=source["product_count"],
        image_url=images.url(source["image_shape"], source["image_colour"]),
    )


def list_collections() -> list[CollectionCard]:
    """Every collection in display order; cached briefly, collections change only on reseed."""
    global _collections_cache
    now = time.monotonic()
    if _collections_cache is None or now - _collections_cache[0] > COLLECTIONS_TTL_SECONDS:
        try:
            with _search_store():
                answer = es().search(index=CollectionDocument._index._name, sort=["position"], size=500,
                                     filter_path="hits.hits._source")
        except NotFoundError:
            return []  # not indexed yet (a fresh install before `reindex`): an empty shop, not an error
        cards = [_collection_card(hit["_source"]) for hit in answer.get("hits", {}).get("hits", ())]
        _collections_cache = (now, cards)
    return _collections_cache[1]


def get_collection(slug: str) -> CollectionCard:
    for collection in list_collections():
        if collection.slug == slug:
            return collection
    raise NotFound(f"no collection {slug!r}")


def _send_search(body: dict, filter_path: str) -> dict:
    return es().search(index=catalog_search.products_alias(), body=body, filter_path=filter_path).body


def search(params: SearchParams, with_collection_facet: bool = True) -> SearchResults:
    names = {collection.slug: collection.name for collection in list_collections()}
    try:
        with _search_store():
            return catalog_search.search_products(params, names, _send_search, with_collection_facet)
    except NotFoundError:
        return SearchResults(params=params, total=0, page=1, pages=1, cards=(), facets=())


def featured_products(limit: int = 8) -> list[ProductCard]:
    """The first cards of the unfiltered listing: one small request, no facets."""
    try:
        with _search_store():
            answer = _send_search(catalog_search.featured_body(limit), catalog_search.HITS_FILTER_PATH)
        return list(catalog_search.cards(answer))
    except NotFoundError:
        return []


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


# -- stock: what the staff console and operator commands call -----------------------------------

STOCK_CHANGE_WAIT_SECONDS = 10.0
STOCK_PAGE_SIZE = 50
SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")


class StockChangeRefused(Exception):
    """The inventory said no (unknown SKU, below what is held, out of range): `str()` says why."""


class StockChangePending(Exception):
    """The change was accepted but not confirmed in time: it applies when the inventory worker runs."""


class StockUnavailable(Exception):
    """A store the stock console reads did not answer: `str()` says which, in staff's words."""


SEARCH_DOWN = ("The search index (Elasticsearch) is not answering, so the stock list cannot be built just now;"
               " a SKU's own page still works.")
STOCK_DOWN = "The stock table (Cassandra) is not answering; try again in a moment."


@dataclass(frozen=True)
class StockListRow:
    """One SKU at one supplier in the staff's stock list: found through the index, counted from
    the stock row (`on_hand` None: the index knows a SKU that has no stock row)."""

    sku: str
    product_slug: str
    product_name: str
    colour: str
    size: str
    supplier_id: str
    on_hand: int | None
    reserved: int | None

    @property
    def available(self) -> int | None:
        return None if self.on_hand is None else self.on_hand - self.reserved


@dataclass(frozen=True)
class StockListPage:
    """A page of the stock list in SKU order. Pages follow each other by SKU (the index's composite
    aggregation): `next_after` / `previous_before` are the SKUs the neighbouring pages start from."""

    rows: tuple[StockListRow, ...]
    total: int  # SKUs that match, over every page
    start: int  # how many matching SKUs come before this page
    skus: int  # SKUs on this page (a SKU with two suppliers is two rows)
    next_after: str = ""
    previous_before: str = ""


@dataclass(frozen=True)
class StockHold:
    """A reservation's units in a stock row. No expiry: confirmed, an order owns the units."""

    reservation_id: str
    supplier_id: str
    units: int
    expires_at: datetime | None
    cart_id: str  # the cart that took the hold (an order keeps its cart's reservation id); "" if unknown

    @property
    def confirmed(self) -> bool:
        return self.expires_at is None


@dataclass(frozen=True)
class SkuStock:
    """A SKU's stock page: its product, its stock per supplier, who holds units, and what changed."""

    sku: str
    product_slug: str
    product_name: str
    colour: str
    size: str
    levels: tuple[StockLevel, ...]
    holds: tuple[StockHold, ...]
    changes: tuple[StockChangeRecord, ...]


@dataclass(frozen=True)
class StockChangeResult:
    level: StockLevel
    applied: bool  # False: this command id had been applied before (a second submit of one form)


def new_command_id() -> str:
    return uuid.uuid4().hex


async def change_stock(change: StockChange, wait_seconds: float = STOCK_CHANGE_WAIT_SECONDS) -> StockLevel:
    """Apply a stock change command through its own workflow, once per command id: sending the
    same command again (a double-submitted form, a retried command) attaches to the first."""
    return (await _change_stock(change, wait_seconds)).level


def apply_stock_change(change: StockChange) -> StockChangeResult:
    """`change_stock` for the staff console (sync), saying whether this call applied the command."""
    return async_to_sync(_change_stock)(change, STOCK_CHANGE_WAIT_SECONDS)


async def _change_stock(change: StockChange, wait_seconds: float) -> StockChangeResult:
    client = await get_client()
    handle = client.get_workflow_handle(stock_change_workflow_id(change.command_id), result_type=StockLevel)
    applied = True
    try:
        handle = await client.start_workflow(
            InventoryWorkflows.STOCK_CHANGE, change, id=handle.id, task_queue=TASK_QUEUE,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            execution_timeout=timedelta(days=1), result_type=StockLevel)
    except WorkflowAlreadyStartedError:
        applied = False  # applied (or refused) before: its result is the answer
    except RPCError as error:
        logger.warning("stock change %s could not be started: %s", change.command_id, error)
        raise StockChangePending("The inventory service is unreachable; nothing was changed. Try again.") from error
    try:
        return StockChangeResult(await asyncio.wait_for(handle.result(), timeout=wait_seconds), applied)
    except WorkflowFailureError as failure:
        cause = failure.cause.cause if isinstance(failure.cause, ActivityError) else failure.cause
        if isinstance(cause, ApplicationError) and cause.type in StockErrors.NON_RETRYABLE:
            raise StockChangeRefused(cause.message) from None
        raise StockChangePending("The stock change failed; see the worker log.") from failure
    except (TimeoutError, RPCError) as error:
        raise StockChangePending("The stock change is queued and applies as soon as the inventory worker runs;"
                                 " it will not apply twice.") from error


@contextmanager
def _stock_stores() -> Iterator[None]:
    """Staff's words for a store that does not answer (the shopper's are CatalogUnavailable & co.)."""
    try:
        with _search_store(), _catalog_store():
            yield
    except SearchUnavailable as down:
        raise StockUnavailable(SEARCH_DOWN) from down
    except CatalogUnavailable as down:
        raise StockUnavailable(STOCK_DOWN) from down


def _variant_filter(low: bool, sku_prefix: str = "") -> dict:
    """Which nested variants (SKUs) of the matched products are rows of the list."""
    clauses = []
    if low:
        clauses.append({"range": {"variants.available": {"lte": settings.INVENTORY_LOW_STOCK_UNITS}}})
    if sku_prefix:
        clauses.append({"prefix": {"variants.sku": sku_prefix}})
    return {"bool": {"filter": clauses}}


def _product_query(query: str, low: bool) -> dict:
    """The products whose SKUs the list shows: a SKU (or its beginning), a product slug or the words
    of its name; with `low`, only products with a SKU at or below the low-stock threshold."""
    clauses = []
    if query:
        clauses.append({"bool": {"minimum_should_match": 1, "should": [
            {"term": {"slug": query.lower()}},
            {"match": {"name": {"query": query, "operator": "and"}}},
            {"nested": {"path": "variants", "query": {"prefix": {"variants.sku": query.upper()}}}},
        ]}})
    if low:
        clauses.append({"nested": {"path": "variants", "query": _variant_filter(True)}})
    return {"bool": {"filter": clauses}}


def stock_list(query: str = "", low: bool = False, after: str = "", before: str = "") -> StockListPage:
    """A page of the staff's stock list: the SKUs from the `products` index (matching `query`; with
    `low`, those at or below the low-stock threshold by the availability last projected there),
    after (or before) a SKU, each counted from its stock row in Cassandra. Raises StockUnavailable
    when either store does not answer."""
    query = query.strip()[:100]
    after, before = (cursor if SKU_PATTERN.match(cursor) else "" for cursor in (after, before))
    with _stock_stores():
        try:
            total, start, skus = _listed_skus(query, low, after, "" if after else before)
            products = _products_of(skus)
        except NotFoundError:
            return StockListPage((), 0, 0, 0)  # not indexed yet: nothing to list
        rows_by_sku = defaultdict(list)
        for row in stock_rows_of(skus):
            rows_by_sku[row.sku].append(row)
    rows = []
    for sku in skus:
        slug, name, colour, size = products.get(sku, ("", "", "", ""))
        rows += [StockListRow(sku, slug, name, colour, size, row.supplier_id, row.on_hand, row.reserved)
                 for row in sorted(rows_by_sku[sku], key=lambda r: r.supplier_id)] or [
            StockListRow(sku, slug, name, colour, size, "", None, None)]
    return StockListPage(tuple(rows), total, start, len(skus),
                         next_after=skus[-1] if skus and start + len(skus) < total else "",
                         previous_before=skus[0] if skus and start > 0 else "")


def _listed_skus(query: str, low: bool, after: str, before: str) -> tuple[int, int, list[str]]:
    """(SKUs matching, how many come before the page, the page's SKUs) in one request.

    A search that names SKUs (a SKU or its beginning) lists those SKUs; one that names products (a
    slug, words of the name) lists all their SKUs. A page after a SKU is the composite aggregation's
    next page; one before it, the same in reverse order."""
    cursor = after or before
    sources = [{"sku": {"terms": {"field": "variants.sku", "order": "desc" if before else "asc"}}}]
    page = {"composite": {"size": STOCK_PAGE_SIZE, "sources": sources}}
    if cursor:
        page["composite"]["after"] = {"sku": cursor}
    aggs = {"named": {"filter": _variant_filter(False, query.upper())}} if query else {}
    for name, variant_filter in [("any", _variant_filter(low))] + (
            [("sku", _variant_filter(low, query.upper()))] if query else []):
        aggs[name] = {"filter": variant_filter, "aggs": {"page": page}}
        if cursor:  # how many SKUs precede the cursor, for "51-100 of 2,820"
            precede = {"range": {"variants.sku": {"lte" if after else "lt": cursor}}}
            aggs[name]["aggs"]["before"] = {"filter": precede}
    response = es().search(index=ProductDocument._index._name, size=0, query=_product_query(query, low),
                           aggs={"variants": {"nested": {"path": "variants"}, "aggs": aggs}})
    variants = response["aggregations"]["variants"]
    chosen = variants["sku"] if query and variants["named"]["doc_count"] else variants["any"]
    skus = [bucket["key"]["sku"] for bucket in chosen["page"]["buckets"]]
    preceding = chosen["before"]["doc_count"] if cursor else 0
    if before:
        skus.reverse()
        preceding -= len(skus)
    return chosen["doc_count"], max(preceding, 0), skus


def _products_of(skus: list[str]) -> dict[str, tuple[str, str, str, str]]:
    """sku -> (product slug, product name, colour, size), from the index, in one request."""
    if not skus:
        return {}
    response = es().search(
        index=ProductDocument._index._name, size=len(skus),
        query={"nested": {"path": "variants", "query": {"terms": {"variants.sku": skus}}}},
        source=["slug", "name", "variants.sku", "variants.colour", "variants.size"])
    return {variant["sku"]: (hit["_source"]["slug"], hit["_source"]["name"], variant["colour"], variant["size"])
            for hit in response["hits"]["hits"] for variant in hit["_source"].get("variants", [])}


def low_stock_count() -> int | None:
    """SKUs at or below the low-stock threshold by the index's last projection; None when the
    index does not answer (or does not exist yet)."""
    try:
        with _search_store():
            response = es().search(
                index=ProductDocument._index._name, size=0,
                aggs={"variants": {"nested": {"path": "variants"},
                                   "aggs": {"low": {"filter": _variant_filter(True)}}}})
    except (SearchUnavailable, NotFoundError):
        return None
    return response["aggregations"]["variants"]["low"]["doc_count"]


def sku_stock(sku: str) -> SkuStock:
    """A SKU's stock page, all from Cassandra (it works without the index): NotFound when the SKU
    has no stock row, StockUnavailable when Cassandra does not answer."""
    if not SKU_PATTERN.match(sku):
        raise NotFound(f"no SKU {sku[:64]!r}")
    with _stock_stores():
        rows = sorted(stock_rows(sku), key=lambda row: row.supplier_id)
        if not rows:
            raise NotFound(f"no stock of SKU {sku!r}")
        variant = Variant.objects.filter(sku=sku).first()
        product = Product.objects.filter(slug=variant.product_slug).first() if variant else None
        changes = tuple(stock_changes(sku))
    holds = [StockHold(rid, row.supplier_id, units, row.hold_expiry.get(rid), _cart_of(rid, sku))
             for row in rows for rid, units in row.holds.items()]
    # Lapsing soonest first; confirmed holds (an order's) after them.
    holds.sort(key=lambda h: (h.confirmed, h.expires_at or datetime.max.replace(tzinfo=UTC), h.reservation_id))
    return SkuStock(
        sku=sku,
        product_slug=variant.product_slug if variant else "",
        product_name=product.name if product else "",
        colour=variant.colour if variant else "",
        size=variant.size if variant else "",
        levels=tuple(StockLevel(r.sku, r.supplier_id, r.on_hand, r.reserved, len(r.holds)) for r in rows),
        holds=tuple(holds),
        changes=changes,
    )


def _cart_of(reservation_id: str, sku: str) -> str:
    """The cart in a cart's reservation id (`cart-<cart id>-<sku>`, kept by the order it becomes)."""
    prefix, suffix = "cart-", f"-{sku}"
    if reservation_id.startswith(prefix) and reservation_id.endswith(suffix):
        return reservation_id[len(prefix):-len(suffix)]
    return ""


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
    from commerce.search import rebuild, rebuild_from_actions
    from inventory.documents import ProductDocument
    from inventory.projection import iter_collections, iter_product_listings
    from inventory.reindexing import product_actions

    summaries = []
    if target in ("collections", "all"):
        rows = list(iter_collections())
        summaries.append(rebuild(CollectionDocument, rows, len(rows), progress))
    if target in ("products", "all"):
        listings = list(iter_product_listings())
        summaries.append(rebuild_from_actions(ProductDocument, lambda index: product_actions(index, listings),
                                              len(listings), progress))
    return summaries
