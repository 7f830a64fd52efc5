"""Read models built from the write model: Cassandra rows joined into search listings.

A listing is what a search result, a collection page or the home page needs to show a product,
with each variant's availability (on hand minus reserved, over all suppliers).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from cassandra.query import SimpleStatement

from commerce.cassandra import session, table
from inventory.catalog.vocabulary import COLOURS
from inventory.contracts import VariantSummary

FETCH_SIZE = 2000


@dataclass(frozen=True)
class VariantListing:
    sku: str
    colour: str
    colour_hex: str
    size: str
    price_cents: int
    available: int


@dataclass
class ProductListing(VariantSummary):
    slug: str
    code: str
    name: str
    description: str
    collections: list[str]
    collection_names: list[str]
    product_type: str
    department: str
    vendor: str
    tags: list[str]
    image_shape: str
    featured: bool
    created_at: datetime | None
    variants: list[VariantListing] = field(default_factory=list)

    @property
    def search_text(self) -> str:
        return " ".join([self.name, self.product_type, *self.collection_names, *self.colours, *self.tags, self.vendor])

    @property
    def available(self) -> int:
        return sum(v.available for v in self.variants)

    @property
    def in_stock(self) -> bool:
        return self.available > 0

    @property
    def default_variant(self) -> VariantListing | None:
        """The first variant that can be bought, else the first."""
        return next((v for v in self.variants if v.available > 0), self.variants[0] if self.variants else None)

    @property
    def default_sku(self) -> str:
        variant = self.default_variant
        return variant.sku if variant else ""

    @property
    def image_colour(self) -> str:
        variant = self.default_variant
        return variant.colour_hex if variant else "c8b48d"


def colour_hex(colour: str) -> str:
    return COLOURS.get(colour, ("", "#c8b48d"))[1].lstrip("#")


def _scan(cql: str) -> Iterator[dict]:
    return iter(session().execute(SimpleStatement(cql, fetch_size=FETCH_SIZE)))


def available_by_sku(skus: list[str] | None = None) -> dict[str, int]:
    """Units available now per SKU (on hand minus reserved, summed over suppliers)."""
    totals: dict[str, int] = defaultdict(int)
    if skus is None:
        rows = _scan(f"SELECT sku, on_hand, reserved FROM {table('inventory_stock')}")
    else:
        rows = session().execute(
            f"SELECT sku, on_hand, reserved FROM {table('inventory_stock')} WHERE sku IN %s", [tuple(skus)]
        ) if skus else []
    for row in rows:
        totals[row["sku"]] += max(0, (row["on_hand"] or 0) - (row["reserved"] or 0))
    return totals


def collection_names() -> dict[str, str]:
    return {row["slug"]: row["name"] for row in _scan(f"SELECT slug, name FROM {table('collections')}")}


PRODUCT_COLUMNS = ("slug, code, name, description, collections, product_type, department, vendor, tags,"
                   " image_shape, featured, created_at")
VARIANT_COLUMNS = "product_slug, position, sku, colour, size, price_cents"


def _listing(row: dict, variants: list[dict], available: dict[str, int], names: dict[str, str]) -> ProductListing:
    return ProductListing(
        slug=row["slug"],
        code=row["code"] or "",
        name=row["name"],
        description=row["description"] or "",
        collections=list(row["collections"] or []),
        collection_names=[names.get(slug, slug) for slug in row["collections"] or []],
        product_type=row["product_type"] or "",
        department=row["department"] or "",
        vendor=row["vendor"] or "",
        tags=sorted(row["tags"] or []),
        image_shape=row["image_shape"] or "",
        featured=bool(row["featured"]),
        created_at=row["created_at"],
        variants=[
            VariantListing(v["sku"], v["colour"], colour_hex(v["colour"]), v["size"], v["price_cents"],
                           available.get(v["sku"], 0))
            for v in sorted(variants, key=lambda v: v["position"])
        ],
    )


def iter_product_listings() -> Iterator[ProductListing]:
    """Every product of the catalog as a listing. Reads variants and stock in full first:
    two table scans instead of one query per product."""
    names = collection_names()
    variants: dict[str, list[dict]] = defaultdict(list)
    for row in _scan(f"SELECT {VARIANT_COLUMNS} FROM {table('variants_by_product')}"):
        variants[row["product_slug"]].append(row)
    available = available_by_sku()
    for row in _scan(f"SELECT {PRODUCT_COLUMNS} FROM {table('products')}"):
        yield _listing(row, variants.get(row["slug"], []), available, names)


def product_slugs_of(skus: list[str]) -> list[str]:
    rows = session().execute(f"SELECT product_slug FROM {table('variants')} WHERE sku IN %s", [tuple(skus)])
    return sorted({row["product_slug"] for row in rows})


def listings_for(slugs: list[str]) -> list[ProductListing]:
    """Listings of a few products, with today's availability (what the inventory service projects)."""
    if not slugs:
        return []
    names = collection_names()
    variants = {
        slug: list(session().execute(
            f"SELECT {VARIANT_COLUMNS} FROM {table('variants_by_product')} WHERE product_slug = %s", [slug]))
        for slug in slugs
    }
    available = available_by_sku([v["sku"] for rows in variants.values() for v in rows])
    rows = session().execute(f"SELECT {PRODUCT_COLUMNS} FROM {table('products')} WHERE slug IN %s", [tuple(slugs)])
    return [_listing(row, variants.get(row["slug"], []), available, names) for row in rows]


def iter_collections() -> Iterator[dict]:
    return _scan(
        f"SELECT slug, name, department, description, position, product_count, image_shape, image_colour"
        f" FROM {table('collections')}"
    )
