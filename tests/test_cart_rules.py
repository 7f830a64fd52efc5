"""The cart workflow's rules under the time-skipping server with fake stock activities (no store):
caps, coupon expiry, the stock calls' retry budget, idle expiry with an update waiting."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.core.checks import Warning as CheckWarning
from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from cart.checks import stock_budget_fits_the_update_timeout
from cart.contracts import (
    TASK_QUEUE,
    AddItem,
    ApplyCoupon,
    CartActivities,
    CartErrors,
    CartInput,
    CartSettings,
    CartSnapshot,
    CartStatus,
    CartView,
    SetQuantity,
    cart_workflow_id,
)
from cart.coupons import COUPONS, Coupon
from cart.workflows import STOCK_CALL, STOCK_CALLS_PER_UPDATE, CartWorkflow
from commerce.temporal import binary_path
from inventory.contracts import TASK_QUEUE as INVENTORY_TASK_QUEUE
from inventory.contracts import (
    HeldVariant,
    HoldRequest,
    HoldResult,
    InventoryActivities,
    StockErrors,
    VariantInfo,
)


@dataclass
class Stock:
    """The fake stock: units on hand per SKU, and a hook that can hold up the next hold."""

    on_hand: dict[str, int] = field(default_factory=dict)
    hold_gate: asyncio.Event | None = None  # while set and not open, holds hang
    release_gate: asyncio.Event | None = None  # while set and not open, releasing holds hangs
    releases_started: asyncio.Event = field(default_factory=asyncio.Event)
    holds_started: int = 0
    held: list[str] = field(default_factory=list)

    def lookup(self, sku: str) -> VariantInfo:
        if sku not in self.on_hand:
            raise ApplicationError("unknown", type=StockErrors.UNKNOWN_SKU, non_retryable=True)
        return VariantInfo(sku, "a-product", f"Item {sku}", "Black", "M", 1500, "/img.svg")

    async def hold(self, request: HoldRequest) -> HoldResult:
        self.holds_started += 1
        if self.hold_gate is not None:
            await self.hold_gate.wait()
        if request.quantity > self.on_hand[request.sku]:
            raise ApplicationError("sold out", self.on_hand[request.sku], type=StockErrors.OUT_OF_STOCK,
                                   non_retryable=True)
        self.held.append(request.sku)
        return HoldResult(request.reservation_id, request.sku, "fake", request.quantity, request.expires_at)

    def activities(self):
        @activity.defn(name=InventoryActivities.LOOKUP_VARIANT)
        async def lookup_variant(sku: str) -> VariantInfo:
            return self.lookup(sku)

        @activity.defn(name=InventoryActivities.HOLD_STOCK)
        async def hold_stock(request: HoldRequest) -> HoldResult:
            return await self.hold(request)

        @activity.defn(name=InventoryActivities.HOLD_VARIANT)
        async def hold_variant(request: HoldRequest) -> HeldVariant:
            return HeldVariant(self.lookup(request.sku), await self.hold(request))

        @activity.defn(name=InventoryActivities.RELEASE_STOCK)
        async def release_stock(reservation_id: str) -> None:
            pass

        return [lookup_variant, hold_stock, hold_variant, release_stock]

    def inventory_activities(self):
        @activity.defn(name=InventoryActivities.RELEASE_HOLDS)
        async def release_holds(reservation_ids: list[str]) -> None:
            self.releases_started.set()
            if self.release_gate is not None:
                await self.release_gate.wait()

        @activity.defn(name=InventoryActivities.NOTIFY_STOCK_CHANGED)
        async def notify_stock_changed(skus: list[str]) -> None:
            pass

        return [release_holds, notify_stock_changed]


@activity.defn(name=CartActivities.SAVE_SNAPSHOT)
async def save_cart_snapshot(snapshot: CartSnapshot) -> None:
    pass


@pytest.fixture(scope="module")
async def env():
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(binary_path("temporal-test-server")))
    yield env
    await env.shutdown()


SHARED_STOCK = Stock()


@pytest.fixture(scope="module")
async def workers(env):
    # One set of workers for the module: an activity left without a worker would stop time skipping.
    async with Worker(env.client, task_queue=TASK_QUEUE, workflows=[CartWorkflow],
                      activities=[*SHARED_STOCK.activities(), save_cart_snapshot]), \
            Worker(env.client, task_queue=INVENTORY_TASK_QUEUE, activities=SHARED_STOCK.inventory_activities()):
        yield


@pytest.fixture
def stock(workers) -> Stock:
    """The fake stock, fresh for each test."""
    SHARED_STOCK.__init__(on_hand={"SKU-A": 50, "SKU-B": 50, "SKU-C": 50})
    return SHARED_STOCK


async def _cart(env, stock, settings: CartSettings):
    cart_id = uuid.uuid4().hex
    return await env.client.start_workflow(CartWorkflow.run, CartInput(cart_id, settings),
                                           id=cart_workflow_id(cart_id), task_queue=TASK_QUEUE)


async def _refusal(call) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as raised:
        await call
    assert isinstance(raised.value.cause, ApplicationError)
    return raised.value.cause


async def test_a_cart_holds_at_most_the_configured_units_of_one_item(env, stock):
    handle = await _cart(env, stock, CartSettings(max_units_per_sku=20))
    await handle.execute_update(CartWorkflow.add_item, AddItem("SKU-A", 15), result_type=CartView)

    more = await _refusal(handle.execute_update(CartWorkflow.add_item, AddItem("SKU-A", 6), result_type=CartView))
    at_once = await _refusal(handle.execute_update(CartWorkflow.add_item, AddItem("SKU-B", 21), result_type=CartView))
    set_to = await _refusal(handle.execute_update(CartWorkflow.set_quantity, SetQuantity("SKU-A", 21),
                                                  result_type=CartView))

    for refusal in (more, at_once, set_to):
        assert refusal.type == CartErrors.TOO_MANY_OF_ONE_ITEM
        assert "You can hold at most 20 of one item." in refusal.message
    assert "You have 15 × Item SKU-A in your cart." in more.message
    view = await handle.query(CartWorkflow.get_cart)
    assert [(line.sku, line.quantity) for line in view.lines] == [("SKU-A", 15)]


async def test_a_cart_holds_at_most_the_configured_number_of_lines(env, stock):
    handle = await _cart(env, stock, CartSettings(max_lines=2))
    for sku in ("SKU-A", "SKU-B"):
        await handle.execute_update(CartWorkflow.add_item, AddItem(sku, 1), result_type=CartView)

    refusal = await _refusal(handle.execute_update(CartWorkflow.add_item, AddItem("SKU-C", 1), result_type=CartView))
    view = await handle.execute_update(CartWorkflow.add_item, AddItem("SKU-A", 1), result_type=CartView)

    assert refusal.type == CartErrors.CART_FULL and refusal.message == "A cart holds at most 2 different items."
    assert [(line.sku, line.quantity) for line in view.lines] == [("SKU-A", 2), ("SKU-B", 1)]


async def test_an_applied_coupon_stops_discounting_once_it_expires(env, stock, monkeypatch):
    now = await env.get_current_time()
    monkeypatch.setitem(COUPONS, "FLASH", Coupon("FLASH", "20% off for an hour", percent_off=20,
                                                 expires_at=now + timedelta(hours=1)))
    handle = await _cart(env, stock, CartSettings())
    await handle.execute_update(CartWorkflow.add_item, AddItem("SKU-A", 2), result_type=CartView)
    applied = await handle.execute_update(CartWorkflow.apply_coupon, ApplyCoupon("FLASH"), result_type=CartView)
    assert (applied.discount_cents, applied.coupon_expired) == (600, False)

    await env.sleep(timedelta(hours=2))

    view = await handle.query(CartWorkflow.get_cart)
    assert view.coupon_code == "FLASH" and view.coupon_expired
    assert view.discount_cents == 0 and view.total_cents == view.subtotal_cents == 3000
    replay = await Replayer(workflows=[CartWorkflow]).replay_workflow(await handle.fetch_history(),
                                                                      raise_on_replay_failure=False)
    assert replay.replay_failure is None


def test_the_stock_calls_of_one_update_fit_inside_the_web_timeout(settings):
    budget = STOCK_CALLS_PER_UPDATE * STOCK_CALL["schedule_to_close_timeout"]
    assert budget < timedelta(seconds=settings.CART_UPDATE_TIMEOUT_SECONDS)
    assert STOCK_CALL["start_to_close_timeout"] < STOCK_CALL["schedule_to_close_timeout"]
    assert STOCK_CALL["retry_policy"].non_retryable_error_types == list(StockErrors.NON_RETRYABLE)
    assert stock_budget_fits_the_update_timeout() == []

    settings.CART_UPDATE_TIMEOUT_SECONDS = 5
    [warning] = stock_budget_fits_the_update_timeout()
    assert isinstance(warning, CheckWarning) and warning.id == "cart.W001"


async def test_a_stuck_stock_call_ends_in_a_refusal_before_the_web_stops_waiting(env, stock, settings):
    stock.hold_gate = asyncio.Event()  # never opened: every hold attempt hangs
    handle = await _cart(env, stock, CartSettings())

    refusal = await _refusal(handle.execute_update(
        CartWorkflow.add_item, AddItem("SKU-A", 1), result_type=CartView,
        rpc_timeout=timedelta(seconds=settings.CART_UPDATE_TIMEOUT_SECONDS)))

    assert refusal.type == CartErrors.UNAVAILABLE
    assert stock.holds_started >= 2  # a stuck attempt is retried within the budget
    assert (await handle.query(CartWorkflow.get_cart)).lines == ()


async def test_an_update_waiting_while_the_cart_expires_is_refused_before_the_run_ends(env, stock):
    stock.release_gate = asyncio.Event()
    handle = await _cart(env, stock, CartSettings(idle_expiry_seconds=60))
    await handle.execute_update(CartWorkflow.add_item, AddItem("SKU-A", 1), result_type=CartView)
    result = asyncio.create_task(handle.result())  # time skips to the idle timeout
    # The cart is expiring: it holds its lock while its holds are released.
    await asyncio.wait_for(stock.releases_started.wait(), timeout=60)

    late = await handle.start_update(CartWorkflow.add_item, AddItem("SKU-B", 1), id="late-add",
                                     wait_for_stage=WorkflowUpdateStage.ACCEPTED, result_type=CartView)
    stock.release_gate.set()

    refusal = await _refusal(late.result())
    assert refusal.type == CartErrors.CART_CLOSED
    assert (await result).status == CartStatus.EXPIRED
    assert stock.held == ["SKU-A"]  # nothing was held for the expired cart
