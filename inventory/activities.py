"""Activities of the inventory: all of its I/O (Cassandra stock, Elasticsearch availability,
signals to the inventory service). Business refusals become non-retryable ApplicationErrors."""

from __future__ import annotations

from datetime import datetime

from temporalio import activity
from temporalio.exceptions import ApplicationError

from inventory import stock
from inventory.catalog import images
from inventory.contracts import HoldRequest, HoldResult, VariantInfo
from inventory.models import Product, Variant
from inventory.projection import colour_hex


def _refusal(error: stock.StockError) -> ApplicationError:
    details = [error.available] if isinstance(error, stock.OutOfStock) else []
    return ApplicationError(str(error), *details, type=error.kind, non_retryable=True)


@activity.defn(name="lookup_variant")
def lookup_variant(sku: str) -> VariantInfo:
    variant = Variant.objects.filter(sku=sku).first()
    product = Product.objects.filter(slug=variant.product_slug).first() if variant else None
    if variant is None or product is None:
        raise _refusal(stock.UnknownSku(sku))
    return VariantInfo(
        sku=variant.sku,
        product_slug=product.slug,
        name=product.name,
        colour=variant.colour,
        size=variant.size,
        price_cents=variant.price_cents,
        image_url=images.url(product.image_shape, colour_hex(variant.colour)),
    )


@activity.defn(name="hold_stock")
def hold_stock(request: HoldRequest) -> HoldResult:
    try:
        return stock.hold(request.reservation_id, request.sku, request.quantity,
                          datetime.fromisoformat(request.expires_at), request.cart_id)
    except stock.StockError as error:
        raise _refusal(error) from None


@activity.defn(name="release_stock")
def release_stock(reservation_id: str) -> bool:
    return stock.release(reservation_id)


@activity.defn(name="release_holds")
def release_holds(reservation_ids: list[str]) -> int:
    return sum(1 for rid in reservation_ids if stock.release(rid))


@activity.defn(name="notify_stock_changed")
async def notify_stock_changed(skus: list[str]) -> None:
    """Tell the inventory service which SKUs moved (signal-with-start: it starts on first use)."""
    from inventory.services import signal_stock_changed

    await signal_stock_changed(activity.client(), skus)


@activity.defn(name="project_availability")
def project_availability(skus: list[str]) -> int:
    """Write the availability of these SKUs' products into the `products` index. Returns products updated."""
    from inventory.documents import ProductDocument
    from inventory.projection import listings_for, product_slugs_of

    listings = listings_for(product_slugs_of(skus)) if skus else []
    if listings:
        ProductDocument().update(listings)
    return len(listings)


@activity.defn(name="sweep_expired_holds")
def sweep_expired_holds(as_of: str) -> list[str]:
    """Release holds whose time ran out by `as_of` (the service's workflow time) and finish
    half-done releases. Returns the SKUs that moved."""
    return stock.sweep_expired(datetime.fromisoformat(as_of))
