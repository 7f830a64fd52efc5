"""What the staff console's catalog page calls: products from the `products` index, and the catalog
reindex workflow (start it, follow it).

Synchronous, for the admin's views: Temporal calls run through `async_to_sync` on the shared client
(`commerce.temporal.get_client`). Errors are `ConsoleError`s whose `str()` is a message for staff:
`CatalogUnavailable` when Elasticsearch or Temporal does not answer (never a 500).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from elasticsearch import ApiError, NotFoundError, TransportError
from elasticsearch.dsl import Q
from temporalio.client import WorkflowExecutionStatus, WorkflowQueryFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from commerce.instants import parse_instant
from commerce.temporal import get_client
from inventory import services
from inventory.catalog.search import MAX_RESULT_WINDOW
from inventory.contracts import (
    REINDEX_WORKFLOW_ID,
    TASK_QUEUE,
    InventoryWorkflows,
    ReindexInput,
    ReindexPhase,
    ReindexProgress,
    ReindexQueries,
)
from inventory.documents import ProductDocument

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
MAX_QUERY_LENGTH = 100
MAX_PAGE = MAX_RESULT_WINDOW // PAGE_SIZE
QUERY_TIMEOUT = timedelta(seconds=5)


class ConsoleError(Exception):
    """Base of what this module raises: `str()` is the message for staff."""


class CatalogUnavailable(ConsoleError):
    pass


# -- products -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProductFilters:
    """A validated product list request (the page cleans the query string into this)."""

    query: str = ""
    collection: str = ""
    department: str = ""
    in_stock: bool | None = None
    page: int = 1


@dataclass(frozen=True)
class ProductRow:
    slug: str
    code: str
    name: str
    department: str
    collections: tuple[str, ...]
    price_min_cents: int
    price_max_cents: int
    variants: int
    available: int


@dataclass(frozen=True)
class ProductList:
    filters: ProductFilters
    total: int
    page: int
    pages: int
    rows: tuple[ProductRow, ...]


@dataclass(frozen=True)
class FilterChoices:
    collections: tuple[tuple[str, str], ...]  # (slug, name)
    departments: tuple[str, ...]


def filter_choices() -> FilterChoices:
    """The collections and departments to filter by; empty when search does not answer."""
    try:
        collections = services.list_collections()
    except services.SearchUnavailable:
        return FilterChoices((), ())
    return FilterChoices(tuple((c.slug, c.name) for c in sorted(collections, key=lambda c: c.name)),
                         tuple(sorted({c.department for c in collections if c.department})))


def _text_query(words: str):
    """Words of the name, or a product code, or (part of) a slug."""
    return Q("bool", minimum_should_match=1, should=[
        Q("match", name={"query": words, "operator": "and"}),
        Q("term", code=words),
        Q("term", slug=words.lower()),
        Q("prefix", slug=words.lower().replace(" ", "-")),
    ])


def _row(hit) -> ProductRow:
    source = hit.to_dict()
    return ProductRow(
        slug=source.get("slug", ""), code=source.get("code", ""), name=source.get("name", ""),
        department=source.get("department", ""), collections=tuple(source.get("collections") or ()),
        price_min_cents=int(source.get("price_min_cents") or 0),
        price_max_cents=int(source.get("price_max_cents") or 0),
        variants=len(source.get("variants") or ()), available=int(source.get("available") or 0))


def list_products(filters: ProductFilters) -> ProductList:
    """A page of products from the index, by name; raises CatalogUnavailable when it does not answer."""
    page = min(max(1, filters.page), MAX_PAGE)
    search = ProductDocument.search().extra(track_total_hits=True)
    if filters.query:
        search = search.query(_text_query(filters.query[:MAX_QUERY_LENGTH]))
    if filters.collection:
        search = search.filter("term", collections=filters.collection)
    if filters.department:
        search = search.filter("term", department=filters.department)
    if filters.in_stock is not None:
        search = search.filter("term", in_stock=filters.in_stock)
    start = (page - 1) * PAGE_SIZE
    search = search.sort("name.raw", "slug")[start:start + PAGE_SIZE]
    try:
        response = search.execute()
    except NotFoundError:
        return ProductList(filters, 0, 1, 1, ())  # not indexed yet: a reindex builds it
    except (TransportError, ApiError) as error:
        logger.warning("catalog console: elasticsearch unavailable: %s", error)
        raise CatalogUnavailable("Search (Elasticsearch) is not answering just now; the product list"
                                 " cannot be shown.") from error
    total = response.hits.total.value
    pages = max(1, min(MAX_PAGE, math.ceil(total / PAGE_SIZE)))
    return ProductList(filters, total, page, pages, tuple(_row(hit) for hit in response))


# -- the reindex --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReindexRun:
    """The latest reindex as the page shows it: its progress, and how its workflow ended."""

    progress: ReindexProgress
    run_id: str
    outcome: str  # running, completed, failed, cancelled, terminated, timed out
    answered: bool  # False: the workflow did not answer its query (its worker is down)

    @property
    def running(self) -> bool:
        return self.outcome == "running"

    @property
    def started(self) -> datetime | None:
        return parse_instant(self.progress.started_at)

    @property
    def finished(self) -> datetime | None:
        return parse_instant(self.progress.finished_at)


@dataclass(frozen=True)
class ReindexStart:
    run_id: str
    started: bool  # False: attached to the reindex that was already running
    repeated: bool = False  # True: this very form had started it before


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""



async def _client():
    try:
        return await get_client()
    except RuntimeError as error:  # no connection to Temporal could be made
        raise _unavailable(error) from error


def _unavailable(error: Exception) -> CatalogUnavailable:
    logger.warning("catalog console: Temporal unavailable: %s", error)
    return CatalogUnavailable("The reindex service (Temporal) is not answering just now; try again in a moment.")


async def _latest_run() -> ReindexRun | None:
    client = await _client()
    try:
        description = await client.get_workflow_handle(REINDEX_WORKFLOW_ID).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise _unavailable(error) from error
    status = description.status or WorkflowExecutionStatus.RUNNING
    outcome = status.name.lower().replace("_", " ")
    run = client.get_workflow_handle(REINDEX_WORKFLOW_ID, run_id=description.run_id)
    progress = None
    # Until a worker has taken its first task (started and scheduled are its only events) a query
    # would only wait out its timeout.
    if description.history_length > 2:
        try:
            # A closed run answers too: a worker replays its history.
            progress = await run.query(ReindexQueries.PROGRESS, result_type=ReindexProgress,
                                       rpc_timeout=QUERY_TIMEOUT)
        except (WorkflowQueryFailedError, RPCError) as error:
            logger.info("catalog console: the reindex did not answer its query: %s", error)
    answered = progress is not None
    if progress is None:
        progress = ReindexProgress(phase=ReindexPhase.STARTING if status == WorkflowExecutionStatus.RUNNING else "",
                                   started_at=_iso(description.start_time), finished_at=_iso(description.close_time))
    return ReindexRun(progress, description.run_id, outcome, answered)


def latest_reindex() -> ReindexRun | None:
    """The running reindex, else the last one (None if there never was one). Raises CatalogUnavailable."""
    return async_to_sync(_latest_run)()


async def _started_by(handle) -> tuple[str, str]:
    """(run id, the action id that started it) of the handle's run."""
    description = await handle.describe()
    return description.run_id, str((await description.memo()).get("action_id", ""))


async def _start(action_id: str, actor: str) -> ReindexStart:
    client = await _client()
    handle = client.get_workflow_handle(REINDEX_WORKFLOW_ID)
    try:
        run_id, started_by = await _started_by(handle)
        if started_by == action_id:
            return ReindexStart(run_id, started=False, repeated=True)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise _unavailable(error) from error
    try:
        # One at a time: a reindex already running is attached to (USE_EXISTING), a finished one
        # may run again (ALLOW_DUPLICATE).
        handle = await client.start_workflow(
            InventoryWorkflows.CATALOG_REINDEX, ReindexInput(requested_by=actor), id=REINDEX_WORKFLOW_ID,
            task_queue=TASK_QUEUE, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE, memo={"action_id": action_id})
        run_id, started_by = await _started_by(
            client.get_workflow_handle(REINDEX_WORKFLOW_ID, run_id=handle.result_run_id))
    except RPCError as error:
        raise _unavailable(error) from error
    return ReindexStart(run_id, started=started_by == action_id)


def start_reindex(action_id: str, actor: str) -> ReindexStart:
    """Start a reindex of the catalog, once per `action_id` (the form's); while one runs, attach to
    it instead. Raises CatalogUnavailable."""
    return async_to_sync(_start)(action_id, actor)
