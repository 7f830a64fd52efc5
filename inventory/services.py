"""What the storefront's views call for the catalog: read-model queries returning contracts.

Search, collection and home pages read Elasticsearch; the product page reads Cassandra, so
its prices and availability are the live ones.
"""

from __future__ import annotations

import time

from cassandra.cqlengine.query import DoesNotExist
from elasticsearch import NotFoundError

from inventory.catalog import images
from inventory.catalog import search as catalog_search
from inventory.contracts import CollectionCard, ProductCard, ProductPage, SearchParams, SearchResults, VariantChoice
from inventory.documents import CollectionDocument
from inventory.models import Product, Variant, VariantByProduct
from inventory.projection import available_by_sku, colour_hex

COLLECTIONS_TTL_SECONDS = 60.0
_collections_cache: tuple[float, list[CollectionCard]] | None = None


class NotFound(LookupError):
    """No such product, variant or collection."""


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
        return catalog_search.search_products(params, names, with_collection_facet)
    except NotFoundError:
        return SearchResults(params=params, total=0, page=1, pages=1, cards=(), facets=())


def featured_products(limit: int = 8) -> list[ProductCard]:
    return list(search(SearchParams()).cards[:limit])


def product_page(slug: str, sku: str | None = None) -> ProductPage:
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

    names = {collection.slug: collection for collection in list_collections()}
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


INVENTORY_SERVICE_ID = "inventory-service"
INVENTORY_TASK_QUEUE = "inventory"


async def signal_stock_changed(client, skus: list[str]) -> None:
    """Signal-with-start the inventory service: it starts on the first stock change."""
    from django.conf import settings

    from inventory.contracts import InventoryServiceInput
    from inventory.workflows import InventoryServiceWorkflow

    await client.start_workflow(
        InventoryServiceWorkflow.run,
        InventoryServiceInput(sweep_interval_seconds=settings.INVENTORY_SWEEP_SECONDS,
                              max_rounds=settings.INVENTORY_CONTINUE_AS_NEW_ROUNDS),
        id=INVENTORY_SERVICE_ID,
        task_queue=INVENTORY_TASK_QUEUE,
        start_signal="skus_changed",
        start_signal_args=[sorted(set(skus))],
    )


def stock_levels(query: str, limit: int = 200) -> list[dict]:
    """Stock rows for the admin page: by exact SKU, or every SKU of a product slug."""
    from inventory.stock import stock_rows

    query = query.strip()
    if not query:
        return []
    skus = [query] if Variant.objects.filter(sku=query).first() else [
        row.sku for row in VariantByProduct.objects.filter(product_slug=query)
    ]
    rows = []
    for sku in skus[:limit]:
        for row in stock_rows(sku):
            rows.append({"sku": row.sku, "supplier_id": row.supplier_id, "on_hand": row.on_hand,
                         "reserved": row.reserved, "available": row.available, "holds": len(row.holds)})
    return rows


async def restock(client, sku: str, supplier_id: str, quantity: int):
    """Add units (or correct a count) and tell the inventory service, which re-projects the SKU."""
    from asgiref.sync import sync_to_async

    from inventory.stock import restock as restock_row

    row = await sync_to_async(restock_row, thread_sensitive=False)(sku, supplier_id, quantity)
    await signal_stock_changed(client, [sku])
    return row
