"""The inventory service: one long-running workflow, `inventory-service`.

Stock changes are signalled to it (`skus_changed`); it collects them as dirty SKUs and projects
their availability to Elasticsearch in batches. When nothing has changed for a sweep interval it
releases expired holds instead. After `max_rounds` rounds it continues as new, carrying what is
still dirty. Deterministic: no Django, no I/O here.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from inventory.contracts import InventoryServiceInput, InventoryServiceStatus

CALL = dict(start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)))


@workflow.defn(name="InventoryService")
class InventoryServiceWorkflow:
    @workflow.init
    def __init__(self, input: InventoryServiceInput) -> None:
        self.config = input
        self.dirty: set[str] = set(input.dirty)
        self.rounds = 0
        self.projected = input.projected
        self.swept = input.swept

    @workflow.run
    async def run(self, input: InventoryServiceInput) -> None:
        while self.rounds < self.config.max_rounds:
            try:
                await workflow.wait_condition(lambda: bool(self.dirty),
                                              timeout=timedelta(seconds=self.config.sweep_interval_seconds))
            except asyncio.TimeoutError:
                released = await workflow.execute_activity("sweep_expired_holds", workflow.now().isoformat(),
                                                           result_type=list[str], **CALL)
                self.swept += 1
                self.dirty.update(released)
            if self.dirty:
                skus, self.dirty = sorted(self.dirty), set()
                await workflow.execute_activity("project_availability", skus, **CALL)
                self.projected += len(skus)
            self.rounds += 1
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(InventoryServiceInput(
            dirty=sorted(self.dirty),
            sweep_interval_seconds=self.config.sweep_interval_seconds,
            max_rounds=self.config.max_rounds,
            projected=self.projected,
            swept=self.swept,
        ))

    @workflow.signal
    def skus_changed(self, skus: list[str]) -> None:
        self.dirty.update(sku for sku in skus if isinstance(sku, str) and 0 < len(sku) <= 64)

    @workflow.query
    def status(self) -> InventoryServiceStatus:
        return InventoryServiceStatus(sorted(self.dirty), self.rounds, self.projected, self.swept)
