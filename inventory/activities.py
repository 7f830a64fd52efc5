"""Activities of the inventory: all of its I/O (Cassandra stock, Elasticsearch availability,
signals to the inventory service). Business refusals become non-retryable ApplicationErrors."""

from __future__ import annotations

from datetime import datetime

from cassandra.cqlengine.query import LWTException
from django.conf import settings
from temporalio import activity
from temporalio.exceptions import ApplicationError

from commerce.cassandra import prepare, session, table
from inventory import reindexing, stock
from inventory.catalog import images
from inventory.contracts import (
    SERVICE_WORKFLOW_ID,
    TASK_QUEUE,
    BatchResult,
    HeldVariant,
    HoldRequest,
    HoldResult,
    InventoryActivities,
    InventoryServiceInput,
    InventorySignals,
    InventoryWorkflows,
    ProductBatch,
    ReindexErrors,
    ReindexPlan,
    StockChangeRequest,
    StockLevel,
    VariantInfo,
)
from inventory.models import StockChangeRecord
from inventory.projection import colour_hex
from inventory.sweeper import SweepProgress, sweep_page


def _refusal(error: stock.StockError) -> ApplicationError:
    details = [error.available] if isinstance(error, stock.OutOfStock) else []
    return ApplicationError(str(error), *details, type=error.kind, non_retryable=True)


@activity.defn(name=InventoryActivities.LOOKUP_VARIANT)
def lookup_variant(sku: str) -> VariantInfo:
    # Prepared statements, not model queries: this runs inside a cart update, where the models'
    # query building was a third of the call.
    variant = session().execute(prepare(f"SELECT product_slug, colour, size, price_cents FROM {table('variants')}"
                                        " WHERE sku = ?"), [sku]).one()
    product = session().execute(prepare(f"SELECT name, image_shape FROM {table('products')} WHERE slug = ?"),
                                [variant["product_slug"]]).one() if variant else None
    if variant is None or product is None:
        raise _refusal(stock.UnknownSku(sku))
    return VariantInfo(
        sku=sku,
        product_slug=variant["product_slug"],
        name=product["name"],
        colour=variant["colour"] or "",
        size=variant["size"] or "",
        price_cents=variant["price_cents"],
        image_url=images.url(product["image_shape"] or "", colour_hex(variant["colour"] or "")),
    )


@activity.defn(name=InventoryActivities.HOLD_STOCK)
def hold_stock(request: HoldRequest) -> HoldResult:
    try:
        return stock.hold(request.reservation_id, request.sku, request.quantity,
                          datetime.fromisoformat(request.expires_at), request.cart_id)
    except stock.StockError as error:
        raise _refusal(error) from None


@activity.defn(name=InventoryActivities.HOLD_VARIANT)
def hold_variant(request: HoldRequest) -> HeldVariant:
    """A new cart line: its SKU looked up (priced by the catalog) and held in one local activity, so
    the cart's update waits for one round trip through its worker instead of two."""
    return HeldVariant(lookup_variant(request.sku), hold_stock(request))


@activity.defn(name=InventoryActivities.RELEASE_STOCK)
def release_stock(reservation_id: str) -> bool:
    return stock.release(reservation_id)


@activity.defn(name=InventoryActivities.RELEASE_HOLDS)
def release_holds(reservation_ids: list[str]) -> int:
    return sum(1 for rid in reservation_ids if stock.release(rid))


def service_input() -> InventoryServiceInput:
    return InventoryServiceInput(sweep_interval_seconds=settings.INVENTORY_SWEEP_SECONDS,
                                 max_rounds=settings.INVENTORY_CONTINUE_AS_NEW_ROUNDS)


@activity.defn(name=InventoryActivities.NOTIFY_STOCK_CHANGED)
async def notify_stock_changed(skus: list[str]) -> None:
    """Tell the inventory service which SKUs moved (signal-with-start: it starts on first use)."""
    await activity.client().start_workflow(
        InventoryWorkflows.SERVICE,
        service_input(),
        id=SERVICE_WORKFLOW_ID,
        task_queue=TASK_QUEUE,
        start_signal=InventorySignals.SKUS_CHANGED,
        start_signal_args=[sorted(set(skus))],
    )


@activity.defn(name=InventoryActivities.PROJECT_AVAILABILITY)
def project_availability(skus: list[str]) -> int:
    """Write the availability of these SKUs' products into the `products` index. Returns products updated."""
    from inventory.documents import ProductDocument
    from inventory.projection import listings_for, product_slugs_of

    listings = listings_for(product_slugs_of(skus)) if skus else []
    if listings:
        ProductDocument().update(listings)
    return len(listings)


@activity.defn(name=InventoryActivities.SWEEP_EXPIRED_HOLDS)
def sweep_expired_holds(as_of: str) -> list[str]:
    """Release holds whose time ran out by `as_of` (the service's workflow time), a page of the
    reservation index at a time. Each page is heartbeated, so a retried attempt resumes where the
    last one got to. Returns the SKUs that moved."""
    progress = SweepProgress()
    details = activity.info().heartbeat_details
    if details:
        state, released = details[0]
        progress = SweepProgress(bytes.fromhex(state) if state else None, set(released))
    moment = datetime.fromisoformat(as_of)
    while not progress.done:
        sweep_page(progress, moment, settings.INVENTORY_SWEEP_PAGE_SIZE)
        activity.heartbeat([(progress.paging_state or b"").hex(), sorted(progress.released_skus)])
    return sorted(progress.released_skus)


@activity.defn(name=InventoryActivities.APPLY_STOCK_CHANGE)
def apply_stock_change(request: StockChangeRequest) -> StockLevel:
    """Apply a stock change once and record it (who, why, the count after) in `stock_changes`."""
    change, at = request.change, datetime.fromisoformat(request.applied_at)
    try:
        row, _ = stock.apply_change(change, at)
    except stock.StockError as error:
        raise _refusal(error) from None
    # Written whether or not this attempt applied the change: a crash before this line is healed
    # by the retry, and the same key makes a second write the same row.
    try:
        StockChangeRecord.if_not_exists().create(
            sku=change.sku, changed_at=at, command_id=change.command_id, supplier_id=change.supplier_id,
            delta=change.delta, on_hand_after=row.on_hand, reason=change.reason, actor=change.actor)
    except LWTException:
        pass  # recorded by an earlier attempt
    return StockLevel(row.sku, row.supplier_id, row.on_hand, row.reserved, len(row.holds))


# -- the catalog reindex: one activity per step, so the workflow can tell how far it got --------

def _refused(error: reindexing.DocumentRefused) -> ApplicationError:
    return ApplicationError(str(error), type=ReindexErrors.DOCUMENT_REFUSED, non_retryable=True)


@activity.defn(name=InventoryActivities.BEGIN_REINDEX)
def begin_catalog_reindex() -> ReindexPlan:
    return reindexing.begin()


@activity.defn(name=InventoryActivities.INDEX_COLLECTIONS)
def index_collections(index: str) -> int:
    try:
        return reindexing.index_collections(index)
    except reindexing.DocumentRefused as error:
        raise _refused(error) from None


@activity.defn(name=InventoryActivities.INDEX_PRODUCTS)
def index_products_page(batch: ProductBatch) -> BatchResult:
    """A page is written whole or retried whole: writing a product twice writes the same document."""
    try:
        return reindexing.index_products_page(batch, heartbeat=activity.heartbeat)
    except reindexing.DocumentRefused as error:
        raise _refused(error) from None


@activity.defn(name=InventoryActivities.PUBLISH_REINDEX)
def publish_catalog_reindex(plan: ReindexPlan) -> list[str]:
    return reindexing.publish(plan)


@activity.defn(name=InventoryActivities.ABANDON_REINDEX)
def abandon_catalog_reindex(plan: ReindexPlan) -> list[str]:
    return reindexing.abandon(plan.products_index, plan.collections_index)
