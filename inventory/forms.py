"""The catalog's query-string input, cleaned: a bad part is dropped, never an error page."""

from __future__ import annotations

import re

from django.http import QueryDict

from commerce.money import parse_dollars
from inventory.contracts import SearchParams, SortOrder

MAX_QUERY_LENGTH = 200
MAX_VALUES = 20
MAX_VALUE_LENGTH = 80
MAX_PAGE = 10_000
# A page number is checked as text before int() sees it: ASCII digits only, at most five of them.
_PAGE = re.compile(r"[0-9]{1,5}")


def _values(query: QueryDict, name: str) -> tuple[str, ...]:
    cleaned = []
    for raw in query.getlist(name)[:MAX_VALUES]:
        value = raw.strip()
        if value and len(value) <= MAX_VALUE_LENGTH and value not in cleaned:
            cleaned.append(value)
    return tuple(cleaned)


def _page(raw: str | None) -> int:
    text = (raw or "").strip()
    if not _PAGE.fullmatch(text):
        return 1
    return min(max(int(text), 1), MAX_PAGE)


def _sort(raw: str | None) -> SortOrder:
    try:
        return SortOrder(raw or SortOrder.RELEVANCE.value)
    except ValueError:
        return SortOrder.RELEVANCE


def search_params(query: QueryDict, collection: str | None = None) -> SearchParams:
    """The search request of a query string; `collection` pins a collection page's own collection."""
    q = " ".join(query.get("q", "").split())[:MAX_QUERY_LENGTH].strip()
    price_min = parse_dollars(query.get("price_min", ""))
    price_max = parse_dollars(query.get("price_max", ""))
    if price_min is not None and price_max is not None and price_min > price_max:
        price_min, price_max = price_max, price_min
    collections = _values(query, "collection")
    if collection:
        collections = (collection,)
    return SearchParams(
        q=q,
        collections=collections,
        types=_values(query, "type"),
        colours=_values(query, "color"),
        sizes=_values(query, "size"),
        price_min_cents=price_min,
        price_max_cents=price_max,
        sort=_sort(query.get("sort")),
        page=_page(query.get("page")),
    )
