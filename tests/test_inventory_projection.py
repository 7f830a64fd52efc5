"""The inventory service with its real activities: a stock change reaches the search index."""

import asyncio
import time
import uuid

from asgiref.sync import sync_to_async
from temporalio.client import WorkflowExecutionStatus

from inventory import services
from inventory.contracts import TASK_QUEUE, InventoryServiceInput, InventoryServiceStatus, StockChange
from inventory.documents import ProductDocument
from inventory.stock import stock_rows
from inventory.workflows import InventoryServiceWorkflow
from tests.stock_helpers import fresh_sku


async def _eventually(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await sync_to_async(condition)():
            return True
        await asyncio.sleep(0.3)
    return False


async def test_a_stock_change_reaches_the_search_index_and_the_service_continues_as_new(
        temporal_client, catalog, running_workers):
    product = catalog.products[-1]
    variant = product.variants[0]
    await sync_to_async(fresh_sku)(4, sku=variant.sku)
    handle = await temporal_client.start_workflow(
        InventoryServiceWorkflow.run, InventoryServiceInput(sweep_interval_seconds=3600, max_rounds=2),
        id=f"inventory-service-test-{uuid.uuid4().hex[:8]}", task_queue=TASK_QUEUE)
    first_run = handle.result_run_id

    def indexed_available(units: int) -> bool:
        ProductDocument._index.refresh()
        doc = ProductDocument.get(id=product.slug)
        return next(v.available for v in doc.variants if v.sku == variant.sku) == units

    await handle.signal(InventoryServiceWorkflow.skus_changed, [variant.sku])
    assert await _eventually(lambda: indexed_available(4))

    supplier = (await sync_to_async(stock_rows)(variant.sku))[0].supplier_id
    level = await services.change_stock(StockChange(uuid.uuid4().hex, variant.sku, supplier, 9, "delivery"))
    assert level.on_hand == 13
    # The stock change tells the shop's own service; this test's service is told the same way.
    await handle.signal(InventoryServiceWorkflow.skus_changed, [variant.sku])
    assert await _eventually(lambda: indexed_available(13))

    first = temporal_client.get_workflow_handle(handle.id, run_id=first_run)
    deadline = time.monotonic() + 30
    while (await first.describe()).status != WorkflowExecutionStatus.CONTINUED_AS_NEW:
        assert time.monotonic() < deadline, "the service never continued as new"
        await asyncio.sleep(0.3)
    latest = temporal_client.get_workflow_handle(handle.id)
    # The shop's own service projects the SKU too, so the index may show 13 before this one has.
    deadline = time.monotonic() + 30
    while (status := await latest.query(InventoryServiceWorkflow.status,
                                        result_type=InventoryServiceStatus)).projected < 2:
        assert time.monotonic() < deadline, f"the second projection never came: {status}"
        await asyncio.sleep(0.3)
    # One projection by the first run, carried over continue-as-new, and one by the next.
    await temporal_client.get_workflow_handle(handle.id).terminate("test done")
