"""Elasticsearch stopped (its process ended, as an outage or an upgrade ends it) while shoppers buy:
search says it is unavailable, product pages, the cart and checkout keep working, and the read
projections (a product's availability, the order) catch up once it is started again.

Slow (its restart takes about half a minute): marked `faults`. It is always started again, even when
the test fails, so the tests after it find it as it was.
"""

from __future__ import annotations

import asyncio
from contextlib import contextmanager

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from commerce import stack
from commerce.search import es
from inventory.activities import project_availability
from inventory.catalog import search
from orders.documents import OrderDocument
from tests.stock_helpers import fresh_sku
from tests.test_checkout import _add, _order_number, _submit, _to_review

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("catalog", "running_workers")]

CATCH_UP_SECONDS = 120  # the projections' retries back off up to a minute


@pytest.fixture(autouse=True)
def shop_settings(settings):
    settings.CART_CREATIONS_PER_MINUTE = 1000
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@contextmanager
def elasticsearch_stopped():
    quiet = lambda line: None  # noqa: E731 - the stack's progress lines are not this test's output
    stack.down(["elasticsearch"], out=quiet)
    try:
        yield
    finally:
        stack.up(["elasticsearch"], out=quiet)


def _variant_available(slug: str, sku: str) -> int | None:
    """What the search index says is available of one variant."""
    found = es().search(index=search.products_alias(), query={"ids": {"values": [slug]}}, source=["variants"])
    variants = [hit["_source"]["variants"] for hit in found["hits"]["hits"]]
    return next((v["available"] for listed in variants for v in listed if v["sku"] == sku), None)


def _order_indexed(number: str) -> bool:
    found = es().search(index=OrderDocument._index._name, query={"term": {"order_number": number}})
    return bool(found["hits"]["hits"])


async def _eventually(check, *args) -> bool:
    for _ in range(CATCH_UP_SECONDS * 2):
        if await sync_to_async(check)(*args):
            return True
        await asyncio.sleep(0.5)
    return False


async def test_with_elasticsearch_stopped_search_is_unavailable_but_the_shop_sells_and_catches_up(catalog):
    variant = catalog.variants[1250]
    product = next(p for p in catalog.products if p.slug == variant.product_slug)
    await sync_to_async(fresh_sku)(10, variant.sku)
    await sync_to_async(project_availability)([variant.sku])
    client = AsyncClient()
    assert await sync_to_async(_variant_available)(product.slug, variant.sku) == 10

    with elasticsearch_stopped():
        searched = await client.get("/search/?q=shirt")
        page = await client.get(f"/products/{product.slug}/")
        await _add(client, variant.sku, 3)
        confirmation, location = await _submit(client, await _to_review(client))
        order_page_status = (await client.get(f"/orders/{_order_number(confirmation)}/")).status_code

    assert searched.status_code == 503 and "Search is unavailable right now" in searched.content.decode()
    assert page.status_code == 200 and 'class="add-to-cart"' in page.content.decode()
    assert location.endswith("/checkout/complete/"), location
    assert order_page_status == 200
    number = _order_number(confirmation)
    # Back: the availability the outage missed and the order's read model arrive by themselves.
    assert await _eventually(lambda: _variant_available(product.slug, variant.sku) == 7), \
        await sync_to_async(_variant_available)(product.slug, variant.sku)
    assert await _eventually(_order_indexed, number)
    assert (await client.get("/search/?q=shirt")).status_code == 200
