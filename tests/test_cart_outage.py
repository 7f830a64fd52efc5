"""Honest failures: the cart while its worker is down or Temporal cannot be reached.

No worker polls the test namespace in this module except where a test starts them, so an update or
a query waits for a worker exactly as it does when the worker process is dead.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from html import unescape

import pytest
from temporalio.worker import Worker

from cart import services
from cart.contracts import AddItem, CartInput, CartSettings, CartStatus, CartView, cart_workflow_id
from cart.workflows import CartWorkflow
from commerce.workers import run_workers
from inventory.contracts import InventoryActivities
from tests.outages import closed_port
from tests.stock_helpers import fresh_sku, levels
from tests.test_cart_rules import Stock, save_cart_snapshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog")]


@pytest.fixture
def short_wait(settings):
    """The web tier waits 2 s for the cart (10 s in production): the 503 comes sooner."""
    settings.CART_UPDATE_TIMEOUT_SECONDS = 2
    settings.CART_CREATIONS_PER_MINUTE = 1000  # every test client comes from 127.0.0.1
    return settings


@contextlib.asynccontextmanager
async def _workers(client):
    """The shop's workers, as `runworkers` runs them, for the length of the block."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_workers(client, None, stop))
    try:
        yield
    finally:
        stop.set()
        await task


def _messages(html: str) -> list[str]:
    return [unescape(m) for m in re.findall(r'<p class="message [^"]*"[^>]*>([^<]*)</p>', html)]


def _count(html: str) -> int:
    return int(re.search(r'data-testid="cart-count">(\d+)<', html).group(1))


def _form_to_send_again(response) -> dict[str, str]:
    """The hidden fields of the page's "Try again" form."""
    html = response.content.decode()
    form = html[html.index('data-testid="cart-retry"'):]
    return {name: unescape(value) for name, value in
            re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form)}


def _assert_honest_503(response, nonce: str, words: str) -> None:
    html = response.content.decode()
    assert response.status_code == 503
    assert 'class="site-header"' in html  # the shop's layout, not a bare error
    assert any(words in message for message in _messages(html)), _messages(html)
    assert _form_to_send_again(response)["nonce"] == nonce


async def _until_count(cart_id: str, count: int, timeout: float = 60.0) -> None:
    """Wait until the cart holds `count` units (its worker may need a moment to pick the cart up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(services.CartUnavailable):
            if (await services.get_cart(cart_id)).item_count == count:
                return
        await asyncio.sleep(0.3)
    raise AssertionError(f"cart {cart_id} never held {count} units")


async def test_an_add_answers_503_with_the_same_nonce_while_no_cart_worker_runs_and_applies_once_later(
        async_client, temporal_client, catalog, short_wait):
    variant = catalog.variants[2200]
    fresh_sku(10, sku=variant.sku)
    nonce = uuid.uuid4().hex
    form = {"sku": variant.sku, "quantity": 2, "nonce": nonce}

    first = await async_client.post("/cart/add/", form, HTTP_REFERER="/cart/")
    # The shopper presses "Try again": the same form, the same nonce.
    retry = await async_client.post("/cart/add/", _form_to_send_again(first))

    _assert_honest_503(first, nonce, "queued and will apply when the service is back")
    _assert_honest_503(retry, nonce, "queued and will apply when the service is back")
    assert levels(variant.sku)[1] == 0

    async with _workers(temporal_client):
        await _until_count(services.new_cart_id(nonce), 2)  # the queued add, applied once
        short_wait.CART_UPDATE_TIMEOUT_SECONDS = 10
        again = await async_client.post("/cart/add/", _form_to_send_again(first))
        html = (await async_client.get("/cart/")).content.decode()

    assert again.status_code == 302
    assert _count(html) == 2
    assert levels(variant.sku)[1] == 2


async def test_the_cart_page_answers_503_and_never_an_empty_cart_while_the_cart_worker_is_down(
        async_client, temporal_client, catalog, short_wait):
    variant = catalog.variants[2201]
    fresh_sku(10, sku=variant.sku)
    async with _workers(temporal_client):
        await async_client.post("/cart/add/", {"sku": variant.sku, "quantity": 1, "nonce": uuid.uuid4().hex})
        cart_id = await (await async_client.asession()).aget("cart_id")

    page = await async_client.get("/cart/")
    nonce = uuid.uuid4().hex
    add = await async_client.post("/cart/add/", {"sku": variant.sku, "quantity": 2, "nonce": nonce})

    html = page.content.decode()
    assert page.status_code == 503
    assert 'class="site-header"' in html and 'data-testid="cart-unavailable"' in html
    assert 'data-testid="cart-empty"' not in html
    assert any("cannot be shown right now" in message for message in _messages(html))
    _assert_honest_503(add, nonce, "queued and will apply when the service is back")

    async with _workers(temporal_client):
        await _until_count(cart_id, 3)
        short_wait.CART_UPDATE_TIMEOUT_SECONDS = 10
        again = await async_client.post("/cart/add/", _form_to_send_again(add))
        html = (await async_client.get("/cart/")).content.decode()

    assert again.status_code == 302
    assert _count(html) == 3
    assert levels(variant.sku)[1] == 3


async def test_the_cart_answers_503_when_temporal_cannot_be_reached(async_client, catalog, short_wait):
    short_wait.TEMPORAL_ADDRESS = f"127.0.0.1:{closed_port()}"
    variant = catalog.variants[2202]
    nonce = uuid.uuid4().hex
    session = await async_client.asession()
    session["cart_id"] = uuid.uuid4().hex
    await session.asave()
    async_client.cookies["sessionid"] = session.session_key

    add = await async_client.post("/cart/add/", {"sku": variant.sku, "quantity": 1, "nonce": nonce})
    page = await async_client.get("/cart/")

    _assert_honest_503(add, nonce, "cannot be reached just now")
    assert page.status_code == 503 and 'data-testid="cart-empty"' not in page.content.decode()


async def _idle_timer_fired(handle) -> bool:
    """Whether the run's first timer (its idle timer) fired."""
    events = (await handle.fetch_history()).events
    first = next(event.event_id for event in events if event.HasField("timer_started_event_attributes"))
    return any(event.timer_fired_event_attributes.started_event_id == first for event in events
               if event.HasField("timer_fired_event_attributes"))


async def test_an_update_that_arrives_as_the_cart_goes_idle_finishes_and_keeps_the_cart(temporal_client):
    """An update sent while the cart's worker is away reaches the workflow in one task with the idle
    timer that fired meanwhile, so the cart goes idle with the update in flight. Fake stock activities,
    on a task queue of the test's own."""
    stock = Stock(on_hand={"SKU-A": 50})
    queue = f"cart-idle-{uuid.uuid4().hex[:8]}"  # no other worker polls it
    cart_id = uuid.uuid4().hex
    # No snapshot is saved during the test: nothing reaches the shared queues of the namespace.
    settings = CartSettings(idle_expiry_seconds=2, snapshot_delay_seconds=3600)
    worker = Worker(temporal_client, task_queue=queue, workflows=[CartWorkflow],
                    activities=[*stock.activities(), save_cart_snapshot])
    async with worker:
        handle = await temporal_client.start_workflow(CartWorkflow.run, CartInput(cart_id, settings),
                                                      id=cart_workflow_id(cart_id), task_queue=queue)
        await handle.query(CartWorkflow.get_cart)  # the run is waiting, its idle timer started
    try:
        update = asyncio.create_task(handle.execute_update(CartWorkflow.add_item, AddItem("SKU-A", 2),
                                                           result_type=CartView))
        while not await _idle_timer_fired(handle):
            await asyncio.sleep(0.2)
        async with Worker(temporal_client, task_queue=queue, workflows=[CartWorkflow],
                          activities=[*stock.activities(), save_cart_snapshot]):
            view = await update
            cart = await handle.query(CartWorkflow.get_cart)
            history = await handle.fetch_history()
    finally:
        await handle.terminate("test done")

    assert view.item_count == 2
    assert cart.status == CartStatus.ACTIVE and cart.item_count == 2
    scheduled = [event.activity_task_scheduled_event_attributes.activity_type.name for event in history.events
                 if event.HasField("activity_task_scheduled_event_attributes")]
    assert InventoryActivities.RELEASE_HOLDS not in scheduled  # it did not start to expire under the update
