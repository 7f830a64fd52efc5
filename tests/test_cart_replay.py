"""The cart's branches, recorded from real runs (time-skipping server, real activities and stores) and
replayed: persist, continue-as-new, idle expiry, a refusal, staff ending a cart. With RECORD_HISTORIES=1
each run is saved as tests/histories/cart_<branch>.json, which tests/test_replay.py replays with every
other history.

tests/histories/cart_expiry_before_patch.json was recorded before the idle expiry waited for its
update handlers (`workflow.patched`), and tests/histories/*_two_stock_calls.json before a new line was
looked up and held in one local activity: they must keep replaying on the old branches.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowHistory, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

import cart.worker
import inventory.worker
from cart.contracts import (
    TASK_QUEUE,
    AddItem,
    ApplyCoupon,
    CartActivities,
    CartErrors,
    CartInput,
    CartSettings,
    CartStatus,
    CartView,
    EndCart,
    SetQuantity,
    cart_workflow_id,
)
from cart.workflows import EXPIRY_WAITS_FOR_HANDLERS, ONE_STOCK_CALL_PER_NEW_LINE, CartWorkflow
from commerce.temporal import binary_path
from inventory.contracts import InventoryActivities
from tests.histories import HISTORY_DIR, record
from tests.stock_helpers import fresh_sku, levels


@pytest.fixture(scope="module")
async def env(catalog):
    """The time-skipping server with the cart's and the inventory's real workers."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(binary_path("temporal-test-server")))
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with Worker(env.client, task_queue=cart.worker.TASK_QUEUE, workflows=cart.worker.WORKFLOWS,
                          activities=cart.worker.ACTIVITIES, activity_executor=executor), \
                Worker(env.client, task_queue=inventory.worker.TASK_QUEUE, workflows=inventory.worker.WORKFLOWS,
                       activities=inventory.worker.ACTIVITIES, activity_executor=executor):
            yield env
    await env.shutdown()


@pytest.fixture
def skus(catalog):
    """Catalog SKUs with 10 units each, apart from every other test's."""
    variants = iter(catalog.variants[2300:2320])

    def take(on_hand: int = 10) -> str:
        return fresh_sku(on_hand, sku=next(variants).sku)

    return take


async def _cart(env, settings: CartSettings | None = None):
    cart_id = uuid.uuid4().hex
    return await env.client.start_workflow(CartWorkflow.run, CartInput(cart_id, settings or CartSettings()),
                                           id=cart_workflow_id(cart_id), task_queue=TASK_QUEUE)


async def _add(handle, sku: str, quantity: int) -> CartView:
    return await handle.execute_update(CartWorkflow.add_item, AddItem(sku, quantity), result_type=CartView)


async def _replays(history: WorkflowHistory) -> bool:
    replay = await Replayer(workflows=[CartWorkflow]).replay_workflow(history, raise_on_replay_failure=False)
    assert replay.replay_failure is None, replay.replay_failure
    return True


def _activities(history: WorkflowHistory) -> list[str]:
    return [event.activity_task_scheduled_event_attributes.activity_type.name for event in history.events
            if event.HasField("activity_task_scheduled_event_attributes")]


def _patches(history: WorkflowHistory) -> list[str]:
    """The ids of the `workflow.patched` markers in the history."""
    markers = [event.marker_recorded_event_attributes for event in history.events
               if event.HasField("marker_recorded_event_attributes")]
    return [json.loads(marker.details["patch-data"].payloads[0].data)["id"] for marker in markers
            if marker.marker_name == "core_patch"]


def _local_activities(history: WorkflowHistory) -> list[str]:
    """The types of the local activities the history recorded (as markers), in order."""
    markers = [event.marker_recorded_event_attributes for event in history.events
               if event.HasField("marker_recorded_event_attributes")]
    return [json.loads(marker.details["data"].payloads[0].data)["activity_type"] for marker in markers
            if marker.marker_name == "core_local_activity"]


def _has(history: WorkflowHistory, attributes: str) -> bool:
    return any(event.HasField(attributes) for event in history.events)


async def test_a_cart_saves_its_snapshot_after_its_changes_and_replays(env, skus):
    shirt, mug = skus(), skus()
    handle = await _cart(env)
    await _add(handle, shirt, 2)
    await _add(handle, mug, 1)
    await handle.execute_update(CartWorkflow.set_quantity, SetQuantity(shirt, 3), result_type=CartView)
    await handle.execute_update(CartWorkflow.apply_coupon, ApplyCoupon("WELCOME10"), result_type=CartView)
    await env.sleep(timedelta(seconds=5))  # past the snapshot delay: the main loop saves

    history = await record(handle, "cart_persist")

    assert {CartActivities.SAVE_SNAPSHOT, InventoryActivities.NOTIFY_STOCK_CHANGED} <= set(_activities(history))
    assert await _replays(history)


async def test_a_cart_continues_as_new_and_replays(env, skus):
    sku = skus()
    handle = await _cart(env, CartSettings(continue_as_new_after=3))
    first_run = handle.result_run_id
    await _add(handle, sku, 1)
    for quantity in (2, 3):
        await handle.execute_update(CartWorkflow.set_quantity, SetQuantity(sku, quantity), result_type=CartView)
    first = env.client.get_workflow_handle(handle.id, run_id=first_run)
    while (await first.describe()).status != WorkflowExecutionStatus.CONTINUED_AS_NEW:
        await asyncio.sleep(0.1)
    view = await _add(handle, sku, 1)  # the next run carries the cart on

    assert view.item_count == 4
    history = await record(first, "cart_continue_as_new")

    assert _has(history, "workflow_execution_continued_as_new_event_attributes")
    assert await _replays(history)


async def test_an_idle_cart_expires_and_replays(env, skus):
    sku = skus()
    handle = await _cart(env, CartSettings(idle_expiry_seconds=10 * 60))
    await _add(handle, sku, 2)

    assert (await handle.result()).status == CartStatus.EXPIRED
    history = await record(handle, "cart_expiry")

    assert _patches(history) == [ONE_STOCK_CALL_PER_NEW_LINE, EXPIRY_WAITS_FOR_HANDLERS]
    assert InventoryActivities.RELEASE_HOLDS in _activities(history)
    assert await _replays(history)


async def test_a_refused_add_is_recorded_and_replays(env, skus):
    sku = skus(on_hand=1)
    handle = await _cart(env)

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await _add(handle, sku, 2)
    await _add(handle, sku, 1)

    assert refused.value.cause.type == CartErrors.OUT_OF_STOCK
    history = await record(handle, "cart_out_of_stock")
    outcomes = [event.workflow_execution_update_completed_event_attributes.outcome for event in history.events
                if event.HasField("workflow_execution_update_completed_event_attributes")]
    assert [outcome.HasField("failure") for outcome in outcomes] == [True, False]
    # Each add of a new line, refused or not, is one stock call: lookup and hold together.
    assert _local_activities(history) == [InventoryActivities.HOLD_VARIANT] * 2
    assert await _replays(history)


async def test_an_add_of_an_unknown_sku_is_refused_by_the_one_stock_call_and_changes_nothing(env, skus):
    sku = skus()
    handle = await _cart(env)
    await _add(handle, sku, 1)

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await _add(handle, "NO-SUCH-SKU-1", 1)  # well formed, so the validator lets it reach the stock call

    assert refused.value.cause.type == CartErrors.UNKNOWN_SKU
    assert refused.value.cause.message == "There is no such product."
    view = await handle.query(CartWorkflow.get_cart)
    assert [(line.sku, line.quantity) for line in view.lines] == [(sku, 1)]
    history = await handle.fetch_history()
    assert _local_activities(history) == [InventoryActivities.HOLD_VARIANT] * 2
    assert await _replays(history)


async def test_staff_end_a_cart_its_holds_are_released_its_run_ends_and_it_replays(env, skus):
    shirt, mug = skus(), skus()
    handle = await _cart(env)
    added = await _add(handle, shirt, 2)
    await _add(handle, mug, 1)

    with pytest.raises(WorkflowUpdateFailedError) as refused:  # rejected before it reaches history
        await handle.execute_update(CartWorkflow.end_cart, EndCart("grace", "  "), result_type=CartView)
    ended = await handle.execute_update(CartWorkflow.end_cart, EndCart("grace", "abandoned"), id="end-1",
                                        result_type=CartView)
    result = await handle.result()

    assert added.updated_at and ended.updated_at >= added.updated_at
    assert refused.value.cause.type == CartErrors.INVALID_REQUEST
    assert ended.status == result.status == CartStatus.ENDED
    assert result.message == ended.message == "Ended by grace: abandoned"
    assert {line.sku: line.quantity for line in result.lines} == {shirt: 2, mug: 1}
    assert levels(shirt)[1:] == (0, {}) and levels(mug)[1:] == (0, {})
    history = await record(handle, "cart_ended")
    accepted = [event for event in history.events
                if event.HasField("workflow_execution_update_accepted_event_attributes")]
    assert len(accepted) == 3  # the two adds and the end: the rejected end left no trace
    assert {InventoryActivities.RELEASE_HOLDS, CartActivities.SAVE_SNAPSHOT} <= set(_activities(history))
    assert _has(history, "workflow_execution_completed_event_attributes")
    assert await _replays(history)


@pytest.mark.parametrize("name", ["cart", "cart_persist", "cart_continue_as_new", "cart_expiry_before_patch",
                                  "cart_expiry", "cart_out_of_stock", "cart_ended", "cart_two_stock_calls",
                                  "cart_out_of_stock_two_stock_calls"])
async def test_each_recorded_cart_branch_replays(name):
    path = HISTORY_DIR / f"{name}.json"
    history = WorkflowHistory.from_json(name, path.read_text())

    assert await _replays(history)
    if name.startswith("cart_expiry"):
        # The history from before the patch replays on the old branch: it has no marker.
        assert (EXPIRY_WAITS_FOR_HANDLERS in _patches(history)) != name.endswith("before_patch")
        assert _has(history, "workflow_execution_completed_event_attributes")
    if name.endswith("two_stock_calls"):
        # Recorded before the single stock call: a new line was looked up, then held.
        assert ONE_STOCK_CALL_PER_NEW_LINE not in _patches(history)
        assert _local_activities(history)[:2] == [InventoryActivities.LOOKUP_VARIANT, InventoryActivities.HOLD_STOCK]
    elif name not in ("cart_expiry_before_patch",):
        assert ONE_STOCK_CALL_PER_NEW_LINE in _patches(history)
        assert InventoryActivities.LOOKUP_VARIANT not in _local_activities(history)
