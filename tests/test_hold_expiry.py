"""Timers under the time-skipping test server, with the real activities (Cassandra, Elasticsearch)."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cart.activities import save_cart_snapshot
from cart.contracts import AddItem, BeginCheckout, CartInput, CartSettings, CartStatus, CartView
from cart.workflows import CartWorkflow
from checkout.activities import hold_lines, release_lines
from checkout.contracts import TASK_QUEUE as CHECKOUT_QUEUE
from checkout.contracts import CheckoutOutcome, CheckoutStep, CheckoutView
from checkout.workflows import CheckoutWorkflow
from commerce.temporal import binary_path
from identity.services import store_config
from inventory import reservations
from inventory.activities import (
    hold_stock,
    hold_variant,
    lookup_variant,
    notify_stock_changed,
    project_availability,
    release_holds,
    release_stock,
    sweep_expired_holds,
)
from inventory.workflows import InventoryServiceWorkflow
from tests.stock_helpers import fresh_sku, levels

pytestmark = pytest.mark.usefixtures("catalog")


@pytest.fixture
async def skipping_env():
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(binary_path("temporal-test-server")))
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with Worker(env.client, task_queue="cart", workflows=[CartWorkflow],
                          activities=[save_cart_snapshot, lookup_variant, hold_stock, hold_variant, release_stock],
                          activity_executor=executor), \
                Worker(env.client, task_queue="inventory", workflows=[InventoryServiceWorkflow],
                       activities=[notify_stock_changed, project_availability, sweep_expired_holds, release_holds],
                       activity_executor=executor), \
                Worker(env.client, task_queue=CHECKOUT_QUEUE, workflows=[CheckoutWorkflow],
                       activities=[hold_lines, release_lines], activity_executor=executor):
            yield env
    await env.shutdown()


async def _cart_with(env, sku: str, quantity: int, config: CartSettings):
    cart_id = uuid.uuid4().hex
    handle = await env.client.start_workflow(CartWorkflow.run, CartInput(cart_id, config), id=f"cart-{cart_id}",
                                             task_queue="cart")
    view = await handle.execute_update(CartWorkflow.add_item, AddItem(sku, quantity), result_type=CartView)
    return cart_id, handle, view


async def test_an_expired_hold_is_swept_and_the_stock_comes_back(skipping_env, catalog):
    variant = catalog.variants[1950]
    fresh_sku(5, sku=variant.sku)
    cart_id, handle, view = await _cart_with(skipping_env, variant.sku, 2, CartSettings(hold_ttl_seconds=15 * 60))
    assert view.item_count == 2 and levels(variant.sku)[1] == 2

    # The inventory service sweeps every minute; after 17 the 15-minute hold has expired.
    await skipping_env.sleep(timedelta(minutes=17))

    assert levels(variant.sku) == (5, 0, {})
    assert reservations.lookup(f"cart-{cart_id}-{variant.sku}") is None


async def test_a_hold_within_its_time_is_kept(skipping_env, catalog):
    variant = catalog.variants[1960]
    fresh_sku(5, sku=variant.sku)
    await _cart_with(skipping_env, variant.sku, 1, CartSettings(hold_ttl_seconds=60 * 60))

    await skipping_env.sleep(timedelta(minutes=21))

    assert levels(variant.sku)[1] == 1


async def test_an_idle_cart_expires_and_releases_its_holds(skipping_env, catalog):
    variant = catalog.variants[1970]
    fresh_sku(5, sku=variant.sku)
    # The hold outlives the cart, so only the cart's own expiry can have released it.
    config = CartSettings(hold_ttl_seconds=10 * 24 * 3600, idle_expiry_seconds=30 * 60)
    _, handle, _ = await _cart_with(skipping_env, variant.sku, 3, config)

    result = await handle.result()

    assert result.status == CartStatus.EXPIRED
    assert levels(variant.sku) == (5, 0, {})


async def test_a_checkout_step_left_idle_ends_the_checkout_and_releases_the_stock(skipping_env, catalog):
    variant = catalog.variants[1980]
    fresh_sku(5, sku=variant.sku)
    # The cart's own hold would outlive the test: only the checkout's timeout can release the stock.
    _, handle, _ = await _cart_with(skipping_env, variant.sku, 2, CartSettings(hold_ttl_seconds=10 * 24 * 3600))
    cart = await handle.execute_update(CartWorkflow.begin_checkout, BeginCheckout(store_config()),
                                       result_type=CartView)
    checkout = skipping_env.client.get_workflow_handle(cart.checkout_id, result_type=CheckoutOutcome)
    assert levels(variant.sku)[1] == 2

    await skipping_env.sleep(timedelta(minutes=61))
    outcome = await checkout.result()

    assert outcome.step == CheckoutStep.CANCELLED and levels(variant.sku) == (5, 0, {})
    view = await handle.query(CartWorkflow.get_cart)
    assert view.status == CartStatus.ACTIVE and view.item_count == 2  # the cart is the shopper's again
    assert isinstance(await checkout.query(CheckoutWorkflow.get_checkout), CheckoutView)
