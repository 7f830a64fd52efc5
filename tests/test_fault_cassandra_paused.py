"""Cassandra stops answering for 20 seconds (its process paused with SIGSTOP, then SIGCONT) while
checkouts are submitted: every one completes once it is back, and nothing is lost or counted twice.

Slow (about a minute): marked `faults`; `make test` runs it with everything else. The process is
always resumed, even when the test fails, so the tests after it find the store as it was.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from contextlib import contextmanager

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from checkout import payments
from commerce import stack
from orders import store as order_store
from tests.stock_helpers import fresh_sku, levels
from tests.test_checkout import _add, _order_number, _row_auth_key, _to_review, _value

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("catalog", "running_workers")]

CHECKOUTS = 5
PAUSE_SECONDS = 20


@pytest.fixture(autouse=True)
def shop_settings(settings):
    settings.CART_CREATIONS_PER_MINUTE = 1000
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@contextmanager
def cassandra_paused():
    pid = stack.service("cassandra").pid()
    assert pid, "the local Cassandra is not running"
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


async def test_checkouts_submitted_while_cassandra_is_paused_complete_once_it_returns(catalog):
    variants = catalog.variants[1200:1200 + CHECKOUTS]
    for variant in variants:
        await sync_to_async(fresh_sku)(10, variant.sku)
    shoppers = [AsyncClient() for _ in variants]
    reviews = []
    for client, variant in zip(shoppers, variants, strict=True):
        await _add(client, variant.sku, 2)
        reviews.append(await _to_review(client))

    with cassandra_paused():
        paused_at = time.monotonic()
        # The submit answers "processing" without the store: the saga's steps wait for it.
        forms = [{"expected_total_cents": _value(review, "expected_total_cents"), "nonce": _value(review, "nonce")}
                 for review in reviews]
        submits = [await client.post("/checkout/submit/", form) for client, form in zip(shoppers, forms, strict=True)]
        await asyncio.sleep(max(0.0, PAUSE_SECONDS - (time.monotonic() - paused_at)))
    assert all(response.status_code == 302 for response in submits), [r.status_code for r in submits]

    numbers = []
    for client in shoppers:
        confirmation, location = await _submit_settled(client)
        assert location.endswith("/checkout/complete/"), location
        numbers.append(_order_number(confirmation))

    assert len(set(numbers)) == CHECKOUTS
    for number, variant, review in zip(numbers, variants, reviews, strict=True):
        order = await sync_to_async(order_store.read_order)(number)
        total = int(_value(review, "expected_total_cents"))
        assert order is not None and order.totals.total_cents == total
        ledger = await sync_to_async(payments.ledger)(await sync_to_async(_row_auth_key)(number))
        assert [(entry.kind, entry.status) for entry in ledger] == [("authorize", "authorized")]
        on_hand, reserved, holds = await sync_to_async(levels)(variant.sku)
        assert (on_hand, reserved, len(holds)) == (10, 2, 1)  # one confirmed hold of two units
    print(f"\n{CHECKOUTS} checkouts submitted into a {PAUSE_SECONDS} s Cassandra pause: "
          f"{len(numbers)} orders, {CHECKOUTS} authorizations, 0 voids; each SKU 10 on hand, 2 reserved")


async def _submit_settled(client) -> tuple[str, str]:
    """Follow a submitted checkout's processing page until it settles (the saga retries meanwhile)."""
    location = "/checkout/processing/"
    for _ in range(300):
        response = await client.get("/checkout/processing/")
        if response.status_code == 302:
            location = response["Location"]
            break
        await asyncio.sleep(0.2)
    page = await client.get(location, follow=True)
    return page.content.decode(), location

