"""The cart and inventory workflows against the real dev server, workers and stores."""

import asyncio
import time
import uuid

import pytest
from temporalio.client import WorkflowExecutionStatus

from cart import services as cart_services
from cart.contracts import (
    TASK_QUEUE,
    AddItem,
    ApplyCoupon,
    CartErrors,
    CartInput,
    CartSettings,
    CartView,
    RemoveItem,
    SetQuantity,
    cart_workflow_id,
)
from cart.workflows import CartWorkflow
from tests.histories import record
from tests.stock_helpers import fresh_sku, levels

pytestmark = pytest.mark.usefixtures("catalog", "running_workers")


def _variants(catalog, start: int, count: int):
    return [v for v in catalog.variants[start:start + count]]


async def test_continue_as_new_keeps_the_cart_intact_across_250_updates(temporal_client, catalog):
    first, second, third = _variants(catalog, 1800, 3)
    for variant in (first, second, third):
        fresh_sku(50, sku=variant.sku)
    cart_id = uuid.uuid4().hex
    handle = await temporal_client.start_workflow(
        CartWorkflow.run, CartInput(cart_id, cart_services.cart_settings()), id=cart_workflow_id(cart_id),
        task_queue=TASK_QUEUE)
    first_run = handle.first_execution_run_id or handle.result_run_id

    for variant in (first, second, third):
        await handle.execute_update(CartWorkflow.add_item, AddItem(variant.sku, 1), result_type=CartView)
    await handle.execute_update(CartWorkflow.apply_coupon, ApplyCoupon("WELCOME10"), result_type=CartView)
    expected = {first.sku: 1, second.sku: 1, third.sku: 1}
    for index in range(246):
        variant = (first, second)[index % 2]
        quantity = index % 9 + 1
        await handle.execute_update(CartWorkflow.set_quantity, SetQuantity(variant.sku, quantity),
                                    result_type=CartView)
        expected[variant.sku] = quantity

    latest = temporal_client.get_workflow_handle(cart_workflow_id(cart_id))
    view = await latest.query(CartWorkflow.get_cart)
    assert {line.sku: line.quantity for line in view.lines} == expected
    assert view.coupon_code == "WELCOME10"
    assert view.subtotal_cents == sum(v.price_cents * expected[v.sku] for v in (first, second, third))
    assert (await temporal_client.get_workflow_handle(handle.id, run_id=first_run).describe()).status == \
        WorkflowExecutionStatus.CONTINUED_AS_NEW
    assert (await latest.describe()).run_id != first_run
    for variant in (first, second, third):
        assert levels(variant.sku)[1] == expected[variant.sku]


@pytest.mark.parametrize("attempt", [1, 2, 3])
async def test_fifty_shoppers_racing_for_seven_units_get_seven_holds_and_43_refusals(catalog, attempt):
    variant = catalog.variants[1850 + attempt]
    fresh_sku(7, sku=variant.sku)

    async def shopper():
        cart_id, nonce = uuid.uuid4().hex, uuid.uuid4().hex
        for _ in range(5):
            try:
                await cart_services.add_item(cart_id, variant.sku, 1, nonce)
                return "held"
            except cart_services.CartUnavailable:
                continue  # not confirmed in time on a loaded machine: the same form again applies once
            except cart_services.CartRefusal as refusal:
                return (refusal.error_type, str(refusal))
        return "unanswered"

    outcomes = await asyncio.gather(*(shopper() for _ in range(50)))

    refusals = [outcome for outcome in outcomes if outcome != "held"]
    assert outcomes.count("held") == 7
    assert len(refusals) == 43
    assert all(kind == CartErrors.OUT_OF_STOCK and "sold out" in message for kind, message in refusals)
    on_hand, reserved, holds = levels(variant.sku)
    assert (on_hand, reserved, len(holds)) == (7, 7, 7)


async def test_a_cart_history_replays(temporal_client, catalog):
    shirt, mug = _variants(catalog, 1900, 2)
    fresh_sku(10, sku=shirt.sku)
    fresh_sku(10, sku=mug.sku)
    cart_id = uuid.uuid4().hex
    handle = await temporal_client.start_workflow(
        CartWorkflow.run, CartInput(cart_id, cart_services.cart_settings()), id=cart_workflow_id(cart_id),
        task_queue=TASK_QUEUE)
    await handle.execute_update(CartWorkflow.add_item, AddItem(shirt.sku, 2), result_type=CartView)
    await handle.execute_update(CartWorkflow.add_item, AddItem(mug.sku, 1), result_type=CartView)
    await handle.execute_update(CartWorkflow.set_quantity, SetQuantity(shirt.sku, 3), result_type=CartView)
    await handle.execute_update(CartWorkflow.apply_coupon, ApplyCoupon("TAKE5"), result_type=CartView)
    await handle.execute_update(CartWorkflow.remove_item, RemoveItem(mug.sku), result_type=CartView)
    await asyncio.sleep(0.5)  # let the main loop persist the last change

    history = await record(handle, "cart")

    from temporalio.worker import Replayer
    replay = await Replayer(workflows=[CartWorkflow]).replay_workflow(history, raise_on_replay_failure=False)
    assert replay.replay_failure is None


async def _wait_for(condition, timeout: float = 30.0):
    """Poll `condition` (sync or async) until it holds; False if it never does in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return True
        await asyncio.sleep(0.3)
    return False


async def test_an_expired_cart_starts_afresh_on_the_next_add(temporal_client, catalog):
    variant = catalog.variants[1990]
    fresh_sku(5, sku=variant.sku)
    cart_id = uuid.uuid4().hex
    config = CartSettings(idle_expiry_seconds=1)
    handle = await temporal_client.start_workflow(CartWorkflow.run, CartInput(cart_id, config),
                                                  id=cart_workflow_id(cart_id), task_queue=TASK_QUEUE)
    await handle.result()
    assert (await cart_services.get_cart(cart_id)).lines == ()

    view = await cart_services.add_item(cart_id, variant.sku, 2, uuid.uuid4().hex)

    assert view.item_count == 2 and view.status == "active"
    assert levels(variant.sku)[1] == 2
