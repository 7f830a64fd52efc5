"""The cart workflow's `merge_lines` update under the time-skipping server with fake stock: quantities
add up, capped by the stock there is, the per-item cap and the line cap, each capped line says why,
and the same merge sent twice (one update id) applies once."""

from __future__ import annotations

import uuid

from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from cart.contracts import (
    TASK_QUEUE,
    CartActivities,
    CartInput,
    CartLine,
    CartSettings,
    CartSnapshot,
    CartUpdates,
    CartView,
    MergeLines,
    MergeResult,
    cart_workflow_id,
)
from cart.workflows import CartWorkflow
from inventory.contracts import TASK_QUEUE as INVENTORY_TASK_QUEUE
from inventory.contracts import HoldRequest, HoldResult, InventoryActivities, StockErrors


def _line(sku: str, quantity: int) -> CartLine:
    return CartLine(sku, sku.lower(), f"Item {sku}", "Blue", "M", 1000, quantity, "/i.svg")


class Stock:
    """Units each reservation may hold at most (what is free plus what it holds already)."""

    def __init__(self, most: dict[str, int]) -> None:
        self.most = most
        self.held: dict[str, int] = {}

    def activities(self):
        @activity.defn(name=InventoryActivities.HOLD_STOCK)
        async def hold(request: HoldRequest) -> HoldResult:
            most = self.most.get(request.sku, 100)
            if request.quantity > most:
                raise ApplicationError(f"Sorry, only {most} left (you asked for {request.quantity}).", most,
                                       type=StockErrors.OUT_OF_STOCK, non_retryable=True)
            self.held[request.reservation_id] = request.quantity
            return HoldResult(request.reservation_id, request.sku, "s1", request.quantity, request.expires_at)

        @activity.defn(name=CartActivities.SAVE_SNAPSHOT)
        async def save(snapshot: CartSnapshot) -> None:
            pass

        return [hold, save]


@activity.defn(name=InventoryActivities.NOTIFY_STOCK_CHANGED)
async def notify(skus: list[str]) -> None:
    pass


async def _cart(env, stock: Stock, settings: CartSettings, lines: dict[str, int]):
    """A running cart holding `lines` (added through its own merge from an empty cart)."""
    cart_id = uuid.uuid4().hex
    handle = await env.client.start_workflow(CartWorkflow.run, CartInput(cart_id, settings),
                                             id=cart_workflow_id(cart_id), task_queue=TASK_QUEUE)
    if lines:
        setup = MergeLines("setup", tuple(_line(sku, quantity) for sku, quantity in lines.items()))
        await handle.execute_update(CartUpdates.MERGE, setup, id="merge-setup", result_type=MergeResult)
    return handle


async def _run(env, stock: Stock, check) -> None:
    async with Worker(env.client, task_queue=TASK_QUEUE, workflows=[CartWorkflow], activities=stock.activities()), \
            Worker(env.client, task_queue=INVENTORY_TASK_QUEUE, activities=[notify]):
        await check()


async def test_merged_quantities_add_up_within_stock_and_the_caps_and_each_capped_line_says_why(env):
    stock = Stock({"MUG": 3})
    settings = CartSettings(max_units_per_sku=5, max_lines=3)

    async def check():
        handle = await _cart(env, stock, settings, {"MUG": 2, "SHIRT": 3})
        result = await handle.execute_update(
            CartUpdates.MERGE, MergeLines("g1", (_line("MUG", 2), _line("SHIRT", 4), _line("HAT", 1),
                                                 _line("SOCK", 1))),
            id="merge-g1", result_type=MergeResult)

        assert {line.sku: line.quantity for line in result.cart.lines} == {"MUG": 3, "SHIRT": 5, "HAT": 1}
        outcome = {line.sku: (line.kept, line.in_cart, line.reason) for line in result.lines}
        assert outcome["MUG"] == (1, 3, "that is all there is in stock")
        assert outcome["SHIRT"] == (2, 5, "you can hold at most 5 of one item")
        assert outcome["HAT"] == (1, 1, "")
        assert outcome["SOCK"] == (0, 0, "a cart holds at most 3 different items")
        assert [line.label for line in result.capped] == ["Item MUG (Blue, M)", "Item SHIRT (Blue, M)",
                                                          "Item SOCK (Blue, M)"]
        assert stock.held[f"cart-{result.cart.cart_id}-MUG"] == 3

    await _run(env, stock, check)


async def test_the_same_merge_sent_twice_applies_once(env):
    stock = Stock({})

    async def check():
        handle = await _cart(env, stock, CartSettings(), {"MUG": 1})
        merge = MergeLines("g2", (_line("MUG", 2),))
        await handle.execute_update(CartUpdates.MERGE, merge, id="merge-g2", result_type=MergeResult)
        again = await handle.execute_update(CartUpdates.MERGE, merge, id="merge-g2", result_type=MergeResult)

        assert [(line.sku, line.quantity) for line in again.cart.lines] == [("MUG", 3)]
        view = await handle.query(CartWorkflow.get_cart)
        assert isinstance(view, CartView) and view.item_count == 3

    await _run(env, stock, check)


async def test_a_merge_of_a_bad_line_is_refused_before_it_reaches_history(env):
    stock = Stock({})

    async def check():
        handle = await _cart(env, stock, CartSettings(), {})
        try:
            await handle.execute_update(CartUpdates.MERGE, MergeLines("g3", (_line("MUG", 0),)), id="merge-g3",
                                        result_type=MergeResult)
        except WorkflowUpdateFailedError as error:
            assert "Quantity" in str(error.cause)
        else:
            raise AssertionError("a line of 0 units was merged")

    await _run(env, stock, check)
