"""Frozen dataclasses exchanged between the catalog's services, views and (later) workflows.

Standard library only: workflows import this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

# -- the inventory's Temporal face: other apps use these names, never string literals -------------

TASK_QUEUE = "inventory"
SERVICE_WORKFLOW_ID = "inventory-service"
# One reindex of the catalog at a time: starting another while it runs attaches to it.
REINDEX_WORKFLOW_ID = "catalog-reindex"


def stock_change_workflow_id(command_id: str) -> str:
    """The short workflow that applies one stock change command, once."""
    return f"stock-change-{command_id}"


class InventoryWorkflows:
    SERVICE = "InventoryService"
    STOCK_CHANGE = "StockChange"
    CATALOG_REINDEX = "CatalogReindex"


class InventoryActivities:
    """Activity names of the inventory. The cart runs the first four as local activities."""

    LOOKUP_VARIANT = "lookup_variant"
    HOLD_STOCK = "hold_stock"
    HOLD_VARIANT = "hold_variant"  # a new cart line: lookup and hold in one call
    RELEASE_STOCK = "release_stock"
    RELEASE_HOLDS = "release_holds"
    NOTIFY_STOCK_CHANGED = "notify_stock_changed"
    PROJECT_AVAILABILITY = "project_availability"
    SWEEP_EXPIRED_HOLDS = "sweep_expired_holds"
    APPLY_STOCK_CHANGE = "apply_stock_change"
    BEGIN_REINDEX = "begin_catalog_reindex"
    INDEX_COLLECTIONS = "index_collections"
    INDEX_PRODUCTS = "index_products_page"
    PUBLISH_REINDEX = "publish_catalog_reindex"
    ABANDON_REINDEX = "abandon_catalog_reindex"


class InventorySignals:
    SKUS_CHANGED = "skus_changed"


class ReindexQueries:
    PROGRESS = "progress"


class StockErrors:
    """ApplicationError types of the inventory: business refusals a retry cannot change."""

    OUT_OF_STOCK = "OutOfStock"
    UNKNOWN_SKU = "UnknownSku"
    HOLD_NOT_ACTIVE = "HoldNotActive"
    INVALID_STOCK_CHANGE = "InvalidStockChange"

    NON_RETRYABLE = (OUT_OF_STOCK, UNKNOWN_SKU, HOLD_NOT_ACTIVE, INVALID_STOCK_CHANGE)


class ReindexErrors:
    """ApplicationError types of the catalog reindex."""

    DOCUMENT_REFUSED = "DocumentRefused"  # Elasticsearch refused a document: retrying writes it no better
    FAILED = "ReindexFailed"  # the workflow's own failure, after it removed the half-built indices


class VariantSummary:
    """What a product's variants add up to; for any class with `variants` that have colour, size
    and price_cents (the generator's records and the search listings)."""

    variants: list

    @property
    def colours(self) -> list[str]:
        return list(dict.fromkeys(v.colour for v in self.variants))

    @property
    def sizes(self) -> list[str]:
        return list(dict.fromkeys(v.size for v in self.variants))

    @property
    def price_min_cents(self) -> int:
        return min((v.price_cents for v in self.variants), default=0)

    @property
    def price_max_cents(self) -> int:
        return max((v.price_cents for v in self.variants), default=0)


class ReservationStatus:
    """What the sweeper's index says of a hold (plain strings: stored and compared as text).
    A released or committed hold has no index row: it left the stock row, and the index with it."""

    HELD = "held"
    CONFIRMED = "confirmed"


MAX_STOCK_DELTA = 100_000  # units one stock change may add or remove
MAX_REASON_LENGTH = 200


@dataclass(frozen=True)
class StockChange:
    """A command to add units to a SKU at a supplier (negative: correct a count down), applied once
    by its id however often it is sent."""

    command_id: str
    sku: str
    supplier_id: str
    delta: int
    reason: str
    actor: str = ""


@dataclass(frozen=True)
class StockChangeRequest:
    """What the stock change workflow hands its activity: the command and the workflow's time."""

    change: StockChange
    applied_at: str  # ISO 8601


@dataclass(frozen=True)
class StockLevel:
    sku: str
    supplier_id: str
    on_hand: int
    reserved: int
    holds: int  # how many reservations hold units

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class HoldRequest:
    reservation_id: str
    sku: str
    quantity: int
    expires_at: str  # ISO 8601, from the calling workflow's clock
    cart_id: str = ""


@dataclass(frozen=True)
class HoldResult:
    reservation_id: str
    sku: str
    supplier_id: str
    quantity: int
    expires_at: str  # ISO 8601


@dataclass(frozen=True)
class VariantInfo:
    """What a cart needs to know of a SKU, priced by the catalog (never by the browser)."""

    sku: str
    product_slug: str
    name: str
    colour: str
    size: str
    price_cents: int
    image_url: str


@dataclass(frozen=True)
class HeldVariant:
    """A new cart line's SKU, looked up and held in one call."""

    variant: VariantInfo
    hold: HoldResult


@dataclass(frozen=True)
class InventoryServiceInput:
    dirty: list[str] = field(default_factory=list)
    sweep_interval_seconds: int = 60
    max_rounds: int = 100
    projected: int = 0  # SKUs projected so far, over every run
    swept: int = 0  # sweeps so far, over every run
    next_sweep_at: str = ""  # ISO 8601; carried over continue-as-new so the timer keeps its pace
    project_batch_size: int = 500


@dataclass(frozen=True)
class InventoryServiceStatus:
    dirty: list[str]
    rounds: int
    projected: int
    swept: int
    next_sweep_at: str = ""
    failed_projections: int = 0
    failed_sweeps: int = 0


class SortOrder(str, Enum):
    RELEVANCE = "relevance"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    NAME = "name"

    @property
    def label(self) -> str:
        return {
            "relevance": "Best match",
            "price_asc": "Price: low to high",
            "price_desc": "Price: high to low",
            "name": "Name: A to Z",
        }[self.value]


@dataclass(frozen=True)
class PriceBucket:
    key: str
    label: str
    min_cents: int | None
    max_cents: int | None


# Price facet buckets; a bucket's upper bound is exclusive.
PRICE_BUCKETS = (
    PriceBucket("under-25", "Under $25", None, 2500),
    PriceBucket("25-50", "$25 to $50", 2500, 5000),
    PriceBucket("50-100", "$50 to $100", 5000, 10000),
    PriceBucket("100-200", "$100 to $200", 10000, 20000),
    PriceBucket("200-up", "$200 and up", 20000, None),
)


@dataclass(frozen=True)
class SearchParams:
    """A validated search request: every field already cleaned, bad parts dropped."""

    q: str = ""
    collections: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    price_min_cents: int | None = None
    price_max_cents: int | None = None
    sort: SortOrder = SortOrder.RELEVANCE
    page: int = 1


@dataclass(frozen=True)
class FacetOption:
    value: str
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Facet:
    name: str  # the query-string parameter
    title: str
    options: tuple[FacetOption, ...]


@dataclass(frozen=True)
class ProductCard:
    slug: str
    name: str
    product_type: str
    price_min_cents: int
    price_max_cents: int
    image_url: str
    in_stock: bool
    sku: str
    colours: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchResults:
    params: SearchParams
    total: int
    page: int
    pages: int
    cards: tuple[ProductCard, ...]
    facets: tuple[Facet, ...]
    suggestion: str = ""


@dataclass(frozen=True)
class CollectionCard:
    slug: str
    name: str
    department: str
    description: str
    product_count: int
    image_url: str


@dataclass(frozen=True)
class VariantChoice:
    """One colour or size button on the product page."""

    label: str
    url: str
    selected: bool
    enabled: bool
    note: str = ""  # why it is disabled: "sold out" or "not made"
    swatch: str = ""  # colour hex, for colour buttons


@dataclass(frozen=True)
class ProductPage:
    slug: str
    name: str
    description: str
    product_type: str
    vendor: str
    collections: tuple[CollectionCard, ...]
    sku: str
    colour: str
    size: str
    price_cents: int
    available: int
    image_url: str
    gallery: tuple[str, ...]
    colour_choices: tuple[VariantChoice, ...]
    size_choices: tuple[VariantChoice, ...]
    tags: tuple[str, ...] = field(default_factory=tuple)


# -- the catalog reindex (workflow `CatalogReindex`, id REINDEX_WORKFLOW_ID) --------------------

REINDEX_BATCH_SIZE = 250  # products per activity: one step of the progress


class ReindexPhase:
    STARTING = "starting"  # creating the new indices, counting the catalog
    COLLECTIONS = "collections"
    PRODUCTS = "products"
    SWITCHING = "switching"  # moving the aliases to the new indices
    FINISHED = "finished"
    FAILED = "failed"

    ENDED = (FINISHED, FAILED)


@dataclass(frozen=True)
class ReindexInput:
    batch_size: int = REINDEX_BATCH_SIZE
    requested_by: str = ""


@dataclass(frozen=True)
class ReindexPlan:
    """The new (not yet searched) indices a reindex fills, and how many documents go into them."""

    products_index: str
    collections_index: str
    products: int
    collections: int

    @property
    def total(self) -> int:
        return self.products + self.collections


@dataclass(frozen=True)
class ProductBatch:
    """One page of the products table to index; `cursor` "" is the first page."""

    index: str
    cursor: str  # the Cassandra paging state, hex
    size: int


@dataclass(frozen=True)
class BatchResult:
    indexed: int
    cursor: str  # "" after the last page


@dataclass(frozen=True)
class ReindexProgress:
    """What the reindex workflow answers to `ReindexQueries.PROGRESS`, and returns when done."""

    phase: str
    done: int = 0
    total: int = 0
    started_at: str = ""  # ISO 8601, workflow time
    finished_at: str = ""
    error: str = ""
    requested_by: str = ""
