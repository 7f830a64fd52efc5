"""The inventory service workflow under the time-skipping server, with fake activities: it sweeps
on its own timer however busy the shop is, keeps SKUs marked while projection fails, and
continues as new carrying its work. Histories of each branch are recorded for replay."""

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from inventory.contracts import (
    TASK_QUEUE,
    InventoryActivities,
    InventoryServiceInput,
    InventoryServiceStatus,
    StockChange,
    StockChangeRequest,
    StockErrors,
    StockLevel,
    stock_change_workflow_id,
)
from inventory.workflows import InventoryServiceWorkflow, StockChangeWorkflow
from tests.histories import record


class FakeStores:
    """What the service's activities would have done, and a switch to make Elasticsearch fail."""

    def __init__(self) -> None:
        self.sweeps: list[str] = []
        self.projected: list[str] = []
        self.search_down = False
        self.sweep_down = False

    def activities(self):
        @activity.defn(name=InventoryActivities.SWEEP_EXPIRED_HOLDS)
        async def sweep(as_of: str) -> list[str]:
            if self.sweep_down:
                raise RuntimeError("Cassandra is down")
            self.sweeps.append(as_of)
            return ["SWEPT-1"]

        @activity.defn(name=InventoryActivities.PROJECT_AVAILABILITY)
        async def project(skus: list[str]) -> int:
            if self.search_down:
                raise RuntimeError("Elasticsearch is down")
            self.projected.extend(skus)
            return len(skus)

        return [sweep, project]


async def _service(env, stores: FakeStores, **config):
    worker = Worker(env.client, task_queue=TASK_QUEUE, workflows=[InventoryServiceWorkflow],
                    activities=stores.activities(), activity_executor=ThreadPoolExecutor(2))
    handle = await env.client.start_workflow(
        InventoryServiceWorkflow.run, InventoryServiceInput(**config),
        id=f"inventory-service-{uuid.uuid4().hex[:8]}", task_queue=TASK_QUEUE)
    return worker, handle


async def _status(handle) -> InventoryServiceStatus:
    return await handle.query(InventoryServiceWorkflow.status, result_type=InventoryServiceStatus)


async def _settled(handle, condition) -> InventoryServiceStatus:
    """The status once `condition` holds: the test server does not skip time while an activity runs,
    so a projection attempt in flight when the sleep ends finishes in real time (at most 5 s here)."""
    status = await _status(handle)
    for _ in range(100):
        if condition(status):
            break
        await asyncio.sleep(0.05)
        status = await _status(handle)
    return status


async def test_it_sweeps_every_interval_even_while_signals_never_stop(env):
    stores = FakeStores()
    worker, handle = await _service(env, stores, sweep_interval_seconds=60)
    async with worker:
        # A busy shop: a stock change every 10 seconds for 5 minutes.
        for n in range(30):
            await handle.signal(InventoryServiceWorkflow.skus_changed, [f"SKU-{n}"])
            await env.sleep(timedelta(seconds=10))
        status = await _status(handle)
        await record(handle, "inventory_service_busy")
        await handle.terminate("test done")

    assert len(stores.sweeps) >= 4 and status.swept == len(stores.sweeps)
    assert {f"SKU-{n}" for n in range(29)} <= set(stores.projected)


async def test_it_keeps_skus_marked_while_projection_fails_and_sweeps_on(env):
    stores = FakeStores()
    stores.search_down = True
    worker, handle = await _service(env, stores, sweep_interval_seconds=60)
    async with worker:
        await handle.signal(InventoryServiceWorkflow.skus_changed, ["SKU-A"])
        await env.sleep(timedelta(minutes=4))
        down = await _settled(handle, lambda status: status.failed_projections >= 1)

        stores.search_down = False
        await env.sleep(timedelta(minutes=6))
        up = await _status(handle)
        await record(handle, "inventory_service_projection_failing")
        await handle.terminate("test done")

    assert "SKU-A" in down.dirty and down.failed_projections >= 1 and down.swept >= 3
    assert "SKU-A" in stores.projected and up.dirty == [] and up.swept > down.swept


async def test_a_failing_sweep_waits_for_the_next_tick(env):
    stores = FakeStores()
    stores.sweep_down = True
    worker, handle = await _service(env, stores, sweep_interval_seconds=60)
    async with worker:
        await env.sleep(timedelta(minutes=3))
        down = await _status(handle)
        stores.sweep_down = False
        await env.sleep(timedelta(minutes=2))
        up = await _status(handle)
        await record(handle, "inventory_service_sweep_failing")
        await handle.terminate("test done")

    assert down.failed_sweeps >= 2 and down.swept == 0
    assert up.swept >= 1


async def test_it_continues_as_new_with_its_marked_skus_and_its_sweep_time(env):
    stores = FakeStores()
    stores.search_down = True
    worker, handle = await _service(env, stores, sweep_interval_seconds=60, max_rounds=3)
    first_run = handle.result_run_id
    async with worker:
        await handle.signal(InventoryServiceWorkflow.skus_changed, ["SKU-B"])
        await env.sleep(timedelta(minutes=3))
        first = env.client.get_workflow_handle(handle.id, run_id=first_run)
        assert (await first.describe()).status == WorkflowExecutionStatus.CONTINUED_AS_NEW
        status = await _status(env.client.get_workflow_handle(handle.id))
        await record(first, "inventory_service_continue_as_new")
        await env.client.get_workflow_handle(handle.id).terminate("test done")

    assert "SKU-B" in status.dirty and status.next_sweep_at
    assert status.swept >= 1  # counts carried over the runs


class FakeStock:
    def __init__(self) -> None:
        self.applied: dict[str, int] = {}
        self.notified: list[list[str]] = []

    def activities(self):
        @activity.defn(name=InventoryActivities.APPLY_STOCK_CHANGE)
        async def apply(request: StockChangeRequest) -> StockLevel:
            change = request.change
            if change.delta < -5:
                raise ApplicationError("3 units are held", type=StockErrors.INVALID_STOCK_CHANGE, non_retryable=True)
            self.applied.setdefault(change.command_id, change.delta)
            return StockLevel(change.sku, change.supplier_id, 5 + change.delta, 0, 0)

        @activity.defn(name=InventoryActivities.NOTIFY_STOCK_CHANGED)
        async def notify(skus: list[str]) -> None:
            self.notified.append(skus)

        return [apply, notify]


@pytest.mark.parametrize("delta,name", [(4, "stock_change"), (-9, "stock_change_refused")])
async def test_a_stock_change_applies_then_tells_the_service_or_fails_with_the_refusal(env, delta, name):
    fake = FakeStock()
    command_id = uuid.uuid4().hex
    async with Worker(env.client, task_queue=TASK_QUEUE, workflows=[StockChangeWorkflow],
                      activities=fake.activities()):
        handle = await env.client.start_workflow(
            StockChangeWorkflow.run, StockChange(command_id, "SKU-1", "heron-warehouse", delta, "delivery"),
            id=stock_change_workflow_id(command_id), task_queue=TASK_QUEUE)
        if delta > 0:
            level = await handle.result()
        else:
            with pytest.raises(WorkflowFailureError) as failure:
                await handle.result()
        await record(handle, name)

    if delta > 0:
        assert level.on_hand == 9 and fake.applied == {command_id: 4} and fake.notified == [["SKU-1"]]
    else:
        assert failure.value.cause.cause.type == StockErrors.INVALID_STOCK_CHANGE and fake.notified == []
