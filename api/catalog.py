"""GET /products (the storefront's search, its filters) and GET /products/{slug} (live variants)."""

from __future__ import annotations

import asyncio
import math
from typing import Annotated, Literal

from asgiref.sync import sync_to_async
from ninja import Field, Path, Query, Router, Schema
from pydantic import StringConstraints

from api.auth import require
from api.errors import NotFound, Unavailable
from api.schemas import ErrorOut, ProductCardOut, ProductListOut, ProductOut, ValidationErrorOut, VariantOut
from commerce.money import MAX_CENTS
from identity.contracts import TokenScopes
from inventory import services
from inventory.contracts import ProductPage, SearchParams, SortOrder

router = Router(tags=["catalog"])

STOREFRONT_PAGE_SIZE = 24  # inventory.catalog.search.PAGE_SIZE: the search answers pages of this size
MAX_PAGE_SIZE = 48
MAX_RESULTS = 10_000  # Elasticsearch's window: no page reaches past it
MAX_VALUES = 20
MAX_VARIANTS = 200
Value = Annotated[str, StringConstraints(min_length=1, max_length=80, strip_whitespace=True)]
SLUG = r"^[a-z0-9][a-z0-9-]{0,119}$"

ERRORS = {400: ValidationErrorOut, 401: ErrorOut, 403: ErrorOut, 429: ErrorOut, 503: ErrorOut}


class ProductFilters(Schema):
    q: str = Field("", max_length=200, description="Words to search for.")
    collection: list[Value] = Field(default_factory=list, max_length=MAX_VALUES, description="Collection slugs.")
    type: list[Value] = Field(default_factory=list, max_length=MAX_VALUES, description="Product types.")
    color: list[Value] = Field(default_factory=list, max_length=MAX_VALUES, description="Colours.")
    size: list[Value] = Field(default_factory=list, max_length=MAX_VALUES, description="Sizes.")
    price_min_cents: int | None = Field(None, ge=0, le=MAX_CENTS)
    price_max_cents: int | None = Field(None, ge=0, le=MAX_CENTS)
    sort: Literal["relevance", "price_asc", "price_desc", "name"] = "relevance"
    page: int = Field(1, ge=1, le=MAX_RESULTS)
    page_size: int = Field(24, ge=1, le=MAX_PAGE_SIZE)


def _search_range(filters: ProductFilters) -> ProductListOut:
    """The API's page, cut from the storefront's fixed-size pages (one or two, three at most)."""
    low, high = filters.price_min_cents, filters.price_max_cents
    if low is not None and high is not None and low > high:
        low, high = high, low
    start = min((filters.page - 1) * filters.page_size, MAX_RESULTS - filters.page_size)
    end = start + filters.page_size
    params = dict(q=" ".join(filters.q.split()), collections=tuple(dict.fromkeys(filters.collection)),
                  types=tuple(dict.fromkeys(filters.type)), colours=tuple(dict.fromkeys(filters.color)),
                  sizes=tuple(dict.fromkeys(filters.size)), price_min_cents=low, price_max_cents=high,
                  sort=SortOrder(filters.sort))
    cards, total = [], 0
    first = start // STOREFRONT_PAGE_SIZE + 1
    for number in range(first, (end - 1) // STOREFRONT_PAGE_SIZE + 2):
        results = services.search(SearchParams(**params, page=number), with_collection_facet=False)
        total = results.total
        if results.page != number:  # past the last page: the storefront answered its last one
            break
        cards.extend(results.cards)
    offset = start - (first - 1) * STOREFRONT_PAGE_SIZE
    items = [ProductCardOut(slug=card.slug, name=card.name, product_type=card.product_type,
                            price_min_cents=card.price_min_cents, price_max_cents=card.price_max_cents,
                            in_stock=card.in_stock, sku=card.sku, colours=list(card.colours), image_url=card.image_url)
             for card in cards[offset:offset + filters.page_size]]
    pages = max(1, math.ceil(min(total, MAX_RESULTS) / filters.page_size))
    return ProductListOut(items=items, page=filters.page, page_size=filters.page_size, total=total, pages=pages)


@router.get("/products", response={200: ProductListOut, **ERRORS}, summary="Search products")
async def list_products(request, filters: Query[ProductFilters]):
    """Products matching the storefront's search filters, in the storefront's order."""
    require(request, TokenScopes.CATALOG_READ)
    try:
        return await sync_to_async(_search_range, thread_sensitive=False)(filters)
    except services.Unavailable as error:
        raise Unavailable(error.message) from None


def _sku_of(url: str) -> str:
    return url.partition("variant=")[2] if url else ""


def _page(slug: str, sku: str | None) -> ProductPage:
    return services.product_page(slug, sku)


async def _product(slug: str) -> ProductOut:
    """Every variant, live: a product page per variant (the page of one variant names its colour's
    other sizes, and one variant of each other colour)."""
    read = sync_to_async(_page, thread_sensitive=False)
    first = await read(slug, None)
    pages: dict[str, ProductPage] = {first.sku: first}
    pending = [sku for sku in map(_sku_of, (c.url for c in (*first.colour_choices, *first.size_choices))) if sku]
    while pending and len(pages) < MAX_VARIANTS:
        batch = [sku for sku in dict.fromkeys(pending) if sku not in pages][:20]
        if not batch:
            break
        for page in await asyncio.gather(*(read(slug, sku) for sku in batch)):
            pages[page.sku] = page
        pending = [sku for page in pages.values() for choice in page.size_choices
                   if (sku := _sku_of(choice.url)) and sku not in pages]
    variants = sorted(pages.values(), key=lambda p: (p.colour, p.size, p.sku))
    return ProductOut(slug=first.slug, name=first.name, description=first.description,
                      product_type=first.product_type, vendor=first.vendor,
                      collections=[c.slug for c in first.collections], tags=list(first.tags),
                      image_url=first.image_url,
                      variants=[VariantOut(sku=p.sku, colour=p.colour, size=p.size, price_cents=p.price_cents,
                                           available=max(p.available, 0)) for p in variants])


@router.get("/products/{slug}", response={200: ProductOut, 404: ErrorOut, **ERRORS}, summary="A product")
async def get_product(request, slug: str = Path(..., pattern=SLUG, max_length=120)):
    """A product with every variant: its price in cents and the units available now."""
    require(request, TokenScopes.CATALOG_READ)
    try:
        return await _product(slug)
    except services.NotFound:
        raise NotFound(f"There is no product {slug!r}.") from None
    except services.Unavailable as error:
        raise Unavailable(error.message) from None
