"""Workflows of the inventory. Deterministic: no Django, no I/O here (activities do that).

`InventoryService` (`inventory-service`, one per shop): stock changes are signalled to it
(`skus_changed`); it projects the changed SKUs' availability to Elasticsearch in batches, and it
sweeps expired holds on a timer of its own, every `sweep_interval_seconds` of workflow time,
however busy the shop is. A failing projection (Elasticsearch down) keeps its SKUs marked and is
tried again after a backoff, while sweeps go on; a failing sweep waits for the next tick. It
continues as new after `max_rounds` rounds or when Temporal suggests it, carrying what is marked
and when the next sweep is due.

`StockChange` (`stock-change-{command_id}`): applies one stock change command once (the workflow
id makes a repeated command attach to the first), then tells the service.

`CatalogReindex` (`catalog-reindex`, started from the staff console): rebuilds the products and
collections indices from Cassandra in steps and answers `progress` with how far it got.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from inventory.contracts import (
        BatchResult,
        InventoryActivities,
        InventoryServiceInput,
        InventoryServiceStatus,
        InventorySignals,
        InventoryWorkflows,
        ProductBatch,
        ReindexErrors,
        ReindexInput,
        ReindexPhase,
        ReindexPlan,
        ReindexProgress,
        ReindexQueries,
        StockChange,
        StockChangeRequest,
        StockErrors,
        StockLevel,
    )

# Bounded: a store that is down fails the call in about a minute, and the service moves on.
SERVICE_CALL = dict(start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                             maximum_interval=timedelta(seconds=10), maximum_attempts=3))
SWEEP_CALL = dict(start_to_close_timeout=timedelta(minutes=10), heartbeat_timeout=timedelta(seconds=30),
                  retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                           maximum_interval=timedelta(seconds=10), maximum_attempts=3))
PROJECTION_BACKOFF_MAX = timedelta(minutes=5)
# Before the sweep had a timer of its own (runs started before then replay the old loop).
OWN_SWEEP_TIMER_PATCH = "inventory-service-own-sweep-timer"


@workflow.defn(name=InventoryWorkflows.SERVICE)
class InventoryServiceWorkflow:
    @workflow.init
    def __init__(self, input: InventoryServiceInput) -> None:
        self.config = input
        self.dirty: set[str] = set(input.dirty)
        self.projecting: set[str] = set()  # the batch in flight: still to be projected, for `status`
        self.rounds = 0
        self.projected = input.projected
        self.swept = input.swept
        self.next_sweep_at: datetime | None = (datetime.fromisoformat(input.next_sweep_at)
                                               if input.next_sweep_at else None)
        self.project_after: datetime | None = None
        self.projection_backoff = timedelta(seconds=5)
        self.failed_projections = 0
        self.failed_sweeps = 0

    @workflow.run
    async def run(self, input: InventoryServiceInput) -> None:
        if not workflow.patched(OWN_SWEEP_TIMER_PATCH):
            return await self._run_sweeping_only_when_idle()
        interval = timedelta(seconds=max(1, self.config.sweep_interval_seconds))
        if self.next_sweep_at is None:
            self.next_sweep_at = workflow.now() + interval
        while True:
            if workflow.now() >= self.next_sweep_at:
                await self._sweep()
                self.next_sweep_at = workflow.now() + interval
            if self.dirty and self._may_project():
                await self._project()
            self.rounds += 1
            if self.rounds >= self.config.max_rounds or workflow.info().is_continue_as_new_suggested():
                break
            await self._wait_for_work()
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(InventoryServiceInput(
            dirty=sorted(self.dirty),
            sweep_interval_seconds=self.config.sweep_interval_seconds,
            max_rounds=self.config.max_rounds,
            projected=self.projected,
            swept=self.swept,
            next_sweep_at=self.next_sweep_at.isoformat(),
            project_batch_size=self.config.project_batch_size,
        ))

    async def _wait_for_work(self) -> None:
        """Until the next sweep is due, or SKUs are marked and may be projected (a projection
        backing off waits for its own time instead of waking on every signal)."""
        now = workflow.now()
        if self.project_after is not None and self.project_after > now:
            wake_at = min(self.next_sweep_at, self.project_after)
            await workflow.sleep(max(timedelta(0), wake_at - now))
            return
        try:
            await workflow.wait_condition(lambda: bool(self.dirty),
                                          timeout=max(timedelta(seconds=0.001), self.next_sweep_at - now))
        except TimeoutError:
            pass

    def _may_project(self) -> bool:
        return self.project_after is None or workflow.now() >= self.project_after

    async def _sweep(self) -> None:
        try:
            released = await workflow.execute_activity(InventoryActivities.SWEEP_EXPIRED_HOLDS,
                                                       workflow.now().isoformat(), result_type=list[str],
                                                       **SWEEP_CALL)
        except ActivityError as error:
            self.failed_sweeps += 1
            workflow.logger.warning("sweep failed, trying again at the next tick: %s", error.cause or error)
            return
        self.swept += 1
        self.dirty.update(released)

    async def _project(self) -> None:
        batch = sorted(self.dirty)[: self.config.project_batch_size]
        self.dirty.difference_update(batch)
        self.projecting = set(batch)
        try:
            await workflow.execute_activity(InventoryActivities.PROJECT_AVAILABILITY, batch, **SERVICE_CALL)
        except ActivityError as error:
            # Keep them marked and try again later; sweeps go on meanwhile.
            self.dirty.update(batch)
            self.projecting = set()
            self.failed_projections += 1
            self.project_after = workflow.now() + self.projection_backoff
            self.projection_backoff = min(self.projection_backoff * 2, PROJECTION_BACKOFF_MAX)
            workflow.logger.warning("projection failed, trying again after %s: %s", self.projection_backoff,
                                    error.cause or error)
            return
        self.projecting = set()
        self.projected += len(batch)
        self.project_after = None
        self.projection_backoff = timedelta(seconds=5)

    async def _run_sweeping_only_when_idle(self) -> None:
        """The loop of runs started before OWN_SWEEP_TIMER_PATCH, kept so they replay; they end
        within `max_rounds` rounds and continue as new into the loop above."""
        legacy_call = dict(start_to_close_timeout=timedelta(minutes=5),
                           retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                                    maximum_interval=timedelta(minutes=1)))
        while self.rounds < self.config.max_rounds:
            try:
                await workflow.wait_condition(lambda: bool(self.dirty),
                                              timeout=timedelta(seconds=self.config.sweep_interval_seconds))
            except TimeoutError:
                released = await workflow.execute_activity(InventoryActivities.SWEEP_EXPIRED_HOLDS,
                                                           workflow.now().isoformat(), result_type=list[str],
                                                           **legacy_call)
                self.swept += 1
                self.dirty.update(released)
            if self.dirty:
                skus, self.dirty = sorted(self.dirty), set()
                await workflow.execute_activity(InventoryActivities.PROJECT_AVAILABILITY, skus, **legacy_call)
                self.projected += len(skus)
            self.rounds += 1
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(InventoryServiceInput(
            dirty=sorted(self.dirty), sweep_interval_seconds=self.config.sweep_interval_seconds,
            max_rounds=self.config.max_rounds, projected=self.projected, swept=self.swept,
        ))

    @workflow.signal(name=InventorySignals.SKUS_CHANGED)
    def skus_changed(self, skus: list[str]) -> None:
        if not isinstance(skus, list):
            return
        self.dirty.update(sku for sku in skus[:10_000] if isinstance(sku, str) and 0 < len(sku) <= 64)

    @workflow.query
    def status(self) -> InventoryServiceStatus:
        return InventoryServiceStatus(sorted(self.dirty | self.projecting), self.rounds, self.projected, self.swept,
                                      self.next_sweep_at.isoformat() if self.next_sweep_at else "",
                                      self.failed_projections, self.failed_sweeps)


STOCK_CHANGE_CALL = dict(start_to_close_timeout=timedelta(seconds=30),
                         retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200),
                                                  maximum_interval=timedelta(seconds=5), maximum_attempts=10,
                                                  non_retryable_error_types=list(StockErrors.NON_RETRYABLE)))


@workflow.defn(name=InventoryWorkflows.STOCK_CHANGE)
class StockChangeWorkflow:
    @workflow.run
    async def run(self, change: StockChange) -> StockLevel:
        level = await workflow.execute_activity(
            InventoryActivities.APPLY_STOCK_CHANGE, StockChangeRequest(change, workflow.now().isoformat()),
            result_type=StockLevel, **STOCK_CHANGE_CALL)
        await workflow.execute_activity(InventoryActivities.NOTIFY_STOCK_CHANGED, [change.sku], **SERVICE_CALL)
        return level


# The reindex has no execution timeout: one would end it before it removes its half-built indices.
# Every step's retries are bounded instead, so a store that stays down fails the reindex (and the
# cleanup runs) within minutes; a document Elasticsearch refuses fails it at once.
REINDEX_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10),
                            maximum_attempts=5, non_retryable_error_types=[ReindexErrors.DOCUMENT_REFUSED])
REINDEX_STEP = dict(start_to_close_timeout=timedelta(minutes=1), retry_policy=REINDEX_RETRY)
# A page reads its products' variants and stock (a query per product) before it writes them.
REINDEX_PAGE = dict(start_to_close_timeout=timedelta(minutes=5), heartbeat_timeout=timedelta(minutes=1),
                    retry_policy=REINDEX_RETRY)
REINDEX_CLEANUP = dict(start_to_close_timeout=timedelta(seconds=30),
                       retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                                maximum_interval=timedelta(seconds=10), maximum_attempts=10))
MAX_REINDEX_BATCH = 2000


def _reason(error: BaseException) -> str:
    cause = error.cause if isinstance(error, ActivityError) and error.cause else error
    return cause.message if isinstance(cause, FailureError) else (str(cause) or type(cause).__name__)


@workflow.defn(name=InventoryWorkflows.CATALOG_REINDEX)
class CatalogReindexWorkflow:
    """Fills new products and collections indices beside the live ones, a page of products per
    activity, then moves both aliases at once. On failure (or cancel) the new indices are removed,
    the aliases stay where they were, and the workflow fails with the reason."""

    @workflow.init
    def __init__(self, input: ReindexInput) -> None:
        self.phase = ReindexPhase.STARTING
        self.done = 0
        self.total = 0
        self.started_at = ""
        self.finished_at = ""
        self.error = ""
        self.requested_by = input.requested_by[:150]

    @workflow.run
    async def run(self, input: ReindexInput) -> ReindexProgress:
        self.started_at = workflow.now().isoformat()
        batch_size = min(max(1, input.batch_size), MAX_REINDEX_BATCH)
        plan: ReindexPlan | None = None
        step = "Preparing the new indices"
        try:
            plan = await workflow.execute_activity(InventoryActivities.BEGIN_REINDEX, result_type=ReindexPlan,
                                                   **REINDEX_STEP)
            self.total = plan.total
            self.phase, step = ReindexPhase.COLLECTIONS, "Indexing collections"
            self.done += await workflow.execute_activity(InventoryActivities.INDEX_COLLECTIONS,
                                                         plan.collections_index, result_type=int, **REINDEX_STEP)
            self.phase, step = ReindexPhase.PRODUCTS, "Indexing products"
            cursor = ""
            while True:
                page = await workflow.execute_activity(
                    InventoryActivities.INDEX_PRODUCTS, ProductBatch(plan.products_index, cursor, batch_size),
                    result_type=BatchResult, **REINDEX_PAGE)
                self.done += page.indexed
                cursor = page.cursor
                if not cursor:
                    break
            self.phase, step = ReindexPhase.SWITCHING, "Switching the storefront to the new indices"
            await workflow.execute_activity(InventoryActivities.PUBLISH_REINDEX, plan, result_type=list[str],
                                            **REINDEX_STEP)
        except (ActivityError, asyncio.CancelledError) as error:
            cancelled = isinstance(error, asyncio.CancelledError)
            self.error = f"{step} failed: {'the reindex was cancelled' if cancelled else _reason(error)}"
            await self._abandon(plan)
            self.phase, self.finished_at = ReindexPhase.FAILED, workflow.now().isoformat()
            if cancelled:
                raise
            raise ApplicationError(self.error, type=ReindexErrors.FAILED, non_retryable=True) from None
        self.phase, self.finished_at = ReindexPhase.FINISHED, workflow.now().isoformat()
        return self.progress()

    async def _abandon(self, plan: ReindexPlan | None) -> None:
        if plan is None:
            return  # nothing was created (`begin` removes what it made when it fails)
        try:
            await workflow.execute_activity(InventoryActivities.ABANDON_REINDEX, plan, result_type=list[str],
                                            **REINDEX_CLEANUP)
        except ActivityError as error:
            self.error += (f" The new indices {plan.products_index} and {plan.collections_index} could not be"
                           f" removed ({_reason(error)}); the storefront still searches the old ones.")

    @workflow.query(name=ReindexQueries.PROGRESS)
    def progress(self) -> ReindexProgress:
        return ReindexProgress(self.phase, self.done, self.total, self.started_at, self.finished_at, self.error,
                               self.requested_by)
