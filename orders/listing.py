"""The order list as staff search it: one query over the `orders` index (not Cassandra, not the
workflows), with its filters, sort and pagination, plus the counts the admin dashboard shows.

The index is a projection the record activity writes a moment after each change, so a row can lag
its order's workflow by that moment; the order page reads the live order.

Elasticsearch pages with from + size and refuses to go past `index.max_result_window` (10,000 by
default): `search_orders` never asks beyond `MAX_WINDOW` and says so (`OrderPage.capped`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime

from elasticsearch import ApiError, NotFoundError, TransportError

from commerce.search import es
from orders.contracts import OrderStatus
from orders.documents import OrderDocument
from orders.numbers import PREFIX, normalize_order_number

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 100
MAX_PAGE_SIZE = 200
MAX_WINDOW = 10_000  # Elasticsearch's index.max_result_window: from + size never goes past it
MAX_SUPPLIERS = 200
SORTS = {
    "-placed": ("placed_at", "desc"),
    "placed": ("placed_at", "asc"),
    "-total": ("total_cents", "desc"),
    "total": ("total_cents", "asc"),
}
DEFAULT_SORT = "-placed"


class OrderListUnavailable(Exception):
    """Elasticsearch did not answer; `str()` is the message for staff."""


@dataclass(frozen=True)
class OrderSummary:
    """A row of the staff's order list, as the `orders` index holds it."""

    order_number: str
    status: str
    email: str
    customer_name: str
    placed_at: str
    updated_at: str
    total_cents: int
    item_count: int
    suppliers: tuple[str, ...] = ()
    supplier_order_stages: tuple[str, ...] = ()
    needs_approval: bool = False
    payment_hold: bool = False
    captured_cents: int = 0
    refunded_cents: int = 0
    version: int = 0


@dataclass(frozen=True)
class OrderFilters:
    """What staff narrowed the list to; every field is already validated (empty: not filtered).

    `placed_from`/`placed_to` are instants (aware datetimes): the caller turns the days staff chose
    in the site's time zone into [start of the first day, start of the day after the last)."""

    query: str = ""  # an order number (or its beginning), an email address, or words of the name
    status: str = ""
    placed_from: datetime | None = None
    placed_before: datetime | None = None
    supplier: str = ""
    needs_approval: bool | None = None


@dataclass(frozen=True)
class OrderPage:
    rows: tuple[OrderSummary, ...]
    total: int  # orders matching, all of them (not only the reachable ones)
    page: int  # the page answered (the last reachable one when a later one was asked for)
    page_size: int
    pages: int  # pages that can be shown: at most MAX_WINDOW // page_size
    capped: bool  # more orders match than MAX_WINDOW lets anyone page to


@dataclass(frozen=True)
class OrderCounts:
    placed_since: int
    awaiting_approval: int


# -- the query ------------------------------------------------------------------------------------

def _text_query(text: str) -> dict:
    """An order number, exactly or by its beginning (any case, with or without `HC-`), an email, or
    all the words of the customer's name."""
    compact = "".join(text.split()).upper()
    prefixes = {compact}
    if compact.startswith("HC") and not compact.startswith(PREFIX):
        prefixes.add(PREFIX + compact[2:])
    elif not compact.startswith("HC"):
        prefixes.add(PREFIX + compact)
    should: list[dict] = [{"prefix": {"order_number": prefix}} for prefix in sorted(prefixes)]
    number = normalize_order_number(text)
    if number:
        should.append({"term": {"order_number": number}})
    should += [{"term": {"email": text.lower()}},
               {"match": {"customer_name": {"query": text, "operator": "and"}}}]
    return {"bool": {"should": should, "minimum_should_match": 1}}


def _filters(filters: OrderFilters) -> list[dict]:
    clauses: list[dict] = []
    if filters.status:
        clauses.append({"term": {"status": filters.status}})
    placed: dict = {}
    if filters.placed_from:
        placed["gte"] = filters.placed_from.astimezone(UTC).isoformat()
    if filters.placed_before:
        placed["lt"] = filters.placed_before.astimezone(UTC).isoformat()
    if placed:
        clauses.append({"range": {"placed_at": placed}})
    if filters.supplier:
        clauses.append({"term": {"suppliers": filters.supplier}})
    if filters.needs_approval is not None:
        clauses.append({"term": {"needs_approval": filters.needs_approval}})
    return clauses


def _query(filters: OrderFilters) -> dict:
    text = filters.query.strip()[:MAX_QUERY_LENGTH]
    return {"bool": {"must": [_text_query(text)] if text else [], "filter": _filters(filters)}}


def _search(**body) -> dict:
    try:
        return es().search(index=OrderDocument._index._name, **body).body
    except NotFoundError:
        return {}  # not indexed yet (`manage.py create_indices`): no orders
    except (TransportError, ApiError) as error:
        logger.warning("orders: the orders index did not answer: %s", error)
        raise OrderListUnavailable("The order list (Elasticsearch) is not answering just now; "
                                   "try again in a moment.") from error


def _iso(value) -> str:
    return value if isinstance(value, str) else ""


def summary(source: dict) -> OrderSummary:
    """A row from an `orders` document."""
    return OrderSummary(
        order_number=source.get("order_number", ""), status=source.get("status", ""),
        email=source.get("email", ""), customer_name=source.get("customer_name", ""),
        placed_at=_iso(source.get("placed_at")), updated_at=_iso(source.get("updated_at")),
        total_cents=int(source.get("total_cents") or 0), item_count=int(source.get("item_count") or 0),
        suppliers=tuple(source.get("suppliers") or ()),
        supplier_order_stages=tuple(source.get("supplier_order_stages") or ()),
        needs_approval=bool(source.get("needs_approval")), payment_hold=bool(source.get("payment_hold")),
        captured_cents=int(source.get("captured_cents") or 0), refunded_cents=int(source.get("refunded_cents") or 0),
        version=int(source.get("version") or 0))


def last_page(page_size: int) -> int:
    """The last page from + size can reach."""
    return max(1, MAX_WINDOW // page_size)


def _fetch(filters: OrderFilters, sort: str, page: int, page_size: int) -> tuple[list[dict], int]:
    field, order = SORTS[sort]
    found = _search(query=_query(filters), sort=[{field: {"order": order}}, {"order_number": {"order": "asc"}}],
                    from_=(page - 1) * page_size, size=page_size, track_total_hits=True)
    hits = found.get("hits", {})
    return hits.get("hits", []), int(hits.get("total", {}).get("value", 0))


def search_orders(filters: OrderFilters = OrderFilters(), sort: str = DEFAULT_SORT, page: int = 1,
                  page_size: int = 50) -> OrderPage:
    """One page of the orders matching `filters`, in `sort` order (a key of SORTS; ties by number),
    with the count of all that match. A page past the last answers the last one (see `OrderPage.page`).
    ValueError for an unknown status or sort; OrderListUnavailable when Elasticsearch does not answer."""
    if filters.status and filters.status not in OrderStatus.ALL:
        raise ValueError(f"unknown status {filters.status!r}; choose from {', '.join(OrderStatus.ALL)}")
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; choose from {', '.join(SORTS)}")
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    page = max(1, min(int(page), last_page(page_size)))
    hits, total = _fetch(filters, sort, page, page_size)
    pages = max(1, min(math.ceil(total / page_size), last_page(page_size)))
    if page > pages:  # past the end of what matches: the last page instead (one more request, rarely)
        page = pages
        hits, total = _fetch(filters, sort, page, page_size)
        pages = max(1, min(math.ceil(total / page_size), last_page(page_size)))
    return OrderPage(rows=tuple(summary(hit["_source"]) for hit in hits), total=total, page=page,
                     page_size=page_size, pages=pages, capped=total > pages * page_size)


def supplier_ids() -> tuple[str, ...]:
    """The suppliers any indexed order has a supplier order with, in order. OrderListUnavailable."""
    found = _search(size=0, aggs={"suppliers": {"terms": {"field": "suppliers", "size": MAX_SUPPLIERS,
                                                          "order": {"_key": "asc"}}}})
    return tuple(bucket["key"] for bucket in found.get("aggregations", {}).get("suppliers", {}).get("buckets", []))


def order_counts(placed_since: datetime) -> OrderCounts:
    """Orders placed since an instant and orders awaiting approval, in one request. OrderListUnavailable."""
    found = _search(size=0, track_total_hits=False, aggs={"counts": {"filters": {"filters": {
        "placed": {"range": {"placed_at": {"gte": placed_since.astimezone(UTC).isoformat()}}},
        "awaiting": {"term": {"status": OrderStatus.AWAITING_APPROVAL}},
    }}}})
    buckets = found.get("aggregations", {}).get("counts", {}).get("buckets", {})
    return OrderCounts(placed_since=int(buckets.get("placed", {}).get("doc_count", 0)),
                       awaiting_approval=int(buckets.get("awaiting", {}).get("doc_count", 0)))
