"""Product search over the `products` read model: full text, facets with counts, sort, pages.

Facets are multi-select: each facet's counts apply every filter except its own, so choosing
"Navy" still shows how many products come in "Black". Colour, size and price are conditions on
one variant together (nested query): "Navy" and "XL" find products that make a navy XL, not a
product with a navy S and a black XL.

The request is a plain dict (`search_body`) and the answer is read as plain dicts: hydrating hits
into elasticsearch-dsl objects cost more than the search itself. Only the fields a card needs come
back (`_source` filtering), and only the parts of the answer the page reads (`filter_path`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from inventory.catalog.images import url as image_url
from inventory.catalog.vocabulary import SIZE_ORDER
from inventory.contracts import (
    PRICE_BUCKETS,
    Facet,
    FacetOption,
    ProductCard,
    SearchParams,
    SearchResults,
    SortOrder,
)
from inventory.documents import ProductDocument

PAGE_SIZE = 24
MAX_RESULT_WINDOW = 10_000  # Elasticsearch's default index.max_result_window
MAX_PAGES = MAX_RESULT_WINDOW // PAGE_SIZE
SEARCH_FIELDS = ["name^3", "collection_names^1.5", "product_type.text^2", "search_text", "description"]
# What a card is made of; the rest of a product's document stays in Elasticsearch.
CARD_SOURCE = ["slug", "name", "product_type", "price_min_cents", "price_max_cents", "image_shape",
               "image_colour", "in_stock", "default_sku", "variants.sku", "variants.colour",
               "variants.colour_hex", "variants.available"]
# The parts of the answer the page reads (the rest is never sent or parsed).
FILTER_PATH = "hits.total.value,hits.hits._source,aggregations,suggest"
HITS_FILTER_PATH = "hits.hits._source"

Body = dict
Send = Callable[[Body, str], dict]  # (body, filter_path) -> the answer's body


def products_alias() -> str:
    """The alias the search page's requests go to (`<alias>/_search`)."""
    return ProductDocument._index._name


def _text_query(q: str) -> dict:
    return {"bool": {
        "minimum_should_match": 1,
        "should": [
            # An exact product name outranks everything else.
            {"term": {"name.raw": {"value": q, "boost": 30}}},
            {"match_phrase": {"name": {"query": q, "boost": 8}}},
            {"multi_match": {"query": q, "fields": SEARCH_FIELDS, "type": "best_fields", "operator": "and",
                             "fuzziness": "AUTO", "prefix_length": 1, "tie_breaker": 0.3}},
        ],
    }}


def _product_filters(params: SearchParams, skip: str = "") -> list[dict]:
    filters = []
    if params.collections and skip != "collection":
        filters.append({"terms": {"collections": list(params.collections)}})
    if params.types and skip != "type":
        filters.append({"terms": {"product_type": list(params.types)}})
    return filters


def _variant_conditions(params: SearchParams, skip: str = "") -> list[dict]:
    conditions = []
    if params.colours and skip != "color":
        conditions.append({"terms": {"variants.colour": list(params.colours)}})
    if params.sizes and skip != "size":
        conditions.append({"terms": {"variants.size": list(params.sizes)}})
    if skip != "price" and (params.price_min_cents is not None or params.price_max_cents is not None):
        bounds = {}
        if params.price_min_cents is not None:
            bounds["gte"] = params.price_min_cents
        if params.price_max_cents is not None:
            bounds["lte"] = params.price_max_cents
        conditions.append({"range": {"variants.price_cents": bounds}})
    return conditions


def _all_filters(params: SearchParams, skip: str = "") -> list[dict]:
    filters = _product_filters(params, skip)
    conditions = _variant_conditions(params, skip)
    if conditions:
        filters.append({"nested": {"path": "variants", "query": {"bool": {"filter": conditions}}}})
    return filters


def _all_of(filters: list[dict]) -> dict:
    return {"bool": {"filter": filters}} if filters else {"match_all": {}}


def _sorting(params: SearchParams) -> list:
    if params.sort is SortOrder.PRICE_ASC:
        return [{"price_min_cents": "asc"}, "name.raw"]
    if params.sort is SortOrder.PRICE_DESC:
        return [{"price_min_cents": "desc"}, "name.raw"]
    if params.sort is SortOrder.NAME:
        return ["name.raw"]
    if params.q:
        return ["_score", "name.raw"]
    return [{"featured": "desc"}, {"in_stock": "desc"}, "name.raw"]


def _variant_facet(params: SearchParams, skip: str, values: dict) -> dict:
    """Counts of products over their variants that meet every variant condition but `skip`'s."""
    return {
        "filter": _all_of(_product_filters(params)),
        "aggs": {"variants": {"nested": {"path": "variants"}, "aggs": {"matching": {
            "filter": _all_of(_variant_conditions(params, skip)),
            "aggs": {"values": {**values, "aggs": {"products": {"reverse_nested": {}}}}},
        }}}},
    }


def _facet_aggs(params: SearchParams, with_collection_facet: bool) -> dict:
    aggs = {}
    if with_collection_facet:
        aggs["collection"] = {"filter": _all_of(_all_filters(params, "collection")),
                              "aggs": {"values": {"terms": {"field": "collections", "size": 100}}}}
    aggs["type"] = {"filter": _all_of(_all_filters(params, "type")),
                    "aggs": {"values": {"terms": {"field": "product_type", "size": 200}}}}
    aggs["color"] = _variant_facet(params, "color", {"terms": {"field": "variants.colour", "size": 100}})
    aggs["size"] = _variant_facet(params, "size", {"terms": {"field": "variants.size", "size": 100}})
    aggs["price"] = _variant_facet(params, "price", {"range": {
        "field": "variants.price_cents", "keyed": True,
        "ranges": [{"key": b.key, **({"from": b.min_cents} if b.min_cents is not None else {}),
                    **({"to": b.max_cents} if b.max_cents is not None else {})} for b in PRICE_BUCKETS],
    }})
    return aggs


def _hits_body(params: SearchParams, page: int) -> Body:
    body = {
        "query": _text_query(params.q) if params.q else {"match_all": {}},
        "sort": _sorting(params),
        "from": (page - 1) * PAGE_SIZE,
        "size": PAGE_SIZE,
        "_source": CARD_SOURCE,
    }
    filters = _all_filters(params)
    if filters:
        body["post_filter"] = {"bool": {"filter": filters}}
    return body


def search_body(params: SearchParams, page: int, with_collection_facet: bool) -> Body:
    """The body of the search page's request to `products_alias()/_search`: a page of cards, the
    total, every facet's counts and (with words) a spelling suggestion."""
    body = _hits_body(params, page)
    body["track_total_hits"] = True
    body["aggs"] = _facet_aggs(params, with_collection_facet)
    if params.q:
        body["suggest"] = {"spelling": {"text": params.q, "term": {
            "field": "name", "suggest_mode": "popular", "prefix_length": 0}}}
    return body


def featured_body(limit: int) -> Body:
    """The home page's featured cards: the first cards of the unfiltered listing, nothing else."""
    return {**_hits_body(SearchParams(), 1), "size": limit}


# -- reading the answer ------------------------------------------------------------------------


def _options(buckets: list[dict], selected: tuple[str, ...], labels: dict[str, str] | None,
             count_of: Callable[[dict], int], order: dict[str, int] | None = None) -> tuple[FacetOption, ...]:
    labels = labels or {}
    options = {}
    for bucket in buckets:
        key = bucket["key"]
        count = count_of(bucket)
        if count > 0 or key in selected:
            options[key] = FacetOption(key, labels.get(key, key), count, key in selected)
    # A chosen value stays visible even when nothing matches it any more.
    for value in selected:
        options.setdefault(value, FacetOption(value, labels.get(value, value), 0, True))
    if order is not None:
        return tuple(sorted(options.values(), key=lambda option: (order.get(option.value, len(order)), option.label)))
    return tuple(sorted(options.values(), key=lambda option: (-option.count, option.label)))


def _doc_count(bucket: dict) -> int:
    return bucket["doc_count"]


def _product_count(bucket: dict) -> int:
    return bucket["products"]["doc_count"]


def _variant_buckets(aggs: dict, facet: str):
    return aggs[facet]["variants"]["matching"]["values"]["buckets"]


def _price_options(aggs: dict, params: SearchParams) -> tuple[FacetOption, ...]:
    buckets = _variant_buckets(aggs, "price")
    options = []
    for bucket in PRICE_BUCKETS:
        count = buckets[bucket.key]["products"]["doc_count"] if bucket.key in buckets else 0
        selected = (params.price_min_cents, params.price_max_cents) == (
            bucket.min_cents, bucket.max_cents - 1 if bucket.max_cents else None)
        if count or selected:
            options.append(FacetOption(bucket.key, bucket.label, count, selected))
    return tuple(options)


def _facets(aggs: dict, params: SearchParams, collection_names: dict[str, str],
            with_collection_facet: bool) -> tuple[Facet, ...]:
    facets = []
    if with_collection_facet:
        facets.append(Facet("collection", "Collection", _options(
            aggs["collection"]["values"]["buckets"], params.collections, collection_names, _doc_count)))
    facets.append(Facet("type", "Type", _options(
        aggs["type"]["values"]["buckets"], params.types, None, _doc_count)))
    facets.append(Facet("color", "Colour", _options(
        _variant_buckets(aggs, "color"), params.colours, None, _product_count)))
    facets.append(Facet("size", "Size", _options(
        _variant_buckets(aggs, "size"), params.sizes, None, _product_count, order=SIZE_ORDER)))
    facets.append(Facet("price", "Price", _price_options(aggs, params)))
    return tuple(facets)


def _card(source: dict, colours: tuple[str, ...]) -> ProductCard:
    variants = source.get("variants") or []
    chosen = None
    if colours:
        of_colour = [v for v in variants if v["colour"] in colours]
        chosen = next((v for v in of_colour if (v.get("available") or 0) > 0), of_colour[0] if of_colour else None)
    chosen = chosen or next((v for v in variants if v["sku"] == source["default_sku"]),
                            variants[0] if variants else None)
    return ProductCard(
        slug=source["slug"],
        name=source["name"],
        product_type=source["product_type"],
        price_min_cents=source["price_min_cents"],
        price_max_cents=source["price_max_cents"],
        image_url=image_url(source["image_shape"], chosen["colour_hex"] if chosen else source["image_colour"]),
        in_stock=bool(source.get("in_stock")),
        sku=chosen["sku"] if chosen else "",
        colours=tuple(dict.fromkeys(v["colour_hex"] for v in variants)),
    )


def cards(answer: dict, colours: tuple[str, ...] = ()) -> tuple[ProductCard, ...]:
    """The cards of an answer's hits (`colours`: the colour filter, whose variant a card shows)."""
    return tuple(_card(hit["_source"], colours) for hit in answer.get("hits", {}).get("hits", ()))


def _suggestion(answer: dict, q: str) -> str:
    entries = answer.get("suggest", {}).get("spelling")
    if not entries:
        return ""
    words = []
    changed = False
    for entry in entries:
        if entry["options"]:
            words.append(entry["options"][0]["text"])
            changed = True
        else:
            words.append(entry["text"])
    return " ".join(words) if changed and " ".join(words) != q.lower() else ""


def _pages(answer: dict) -> tuple[int, int]:
    total = answer["hits"]["total"]["value"]
    return total, min(max(1, math.ceil(total / PAGE_SIZE)), MAX_PAGES)


def _results(answer: dict, hits: dict, params: SearchParams, page: int, collection_names: dict[str, str],
             with_collection_facet: bool) -> SearchResults:
    total, pages = _pages(answer)
    return SearchResults(
        params=params,
        total=total,
        page=page,
        pages=pages,
        cards=cards(hits, params.colours),
        facets=_facets(answer["aggregations"], params, collection_names, with_collection_facet),
        suggestion=_suggestion(answer, params.q) if total == 0 and params.q else "",
    )


def search_products(params: SearchParams, collection_names: dict[str, str], send: Send,
                    with_collection_facet: bool = True) -> SearchResults:
    """One search page; `send(body, filter_path)` asks Elasticsearch."""
    page = min(params.page, MAX_PAGES)
    answer = send(search_body(params, page, with_collection_facet), FILTER_PATH)
    hits = answer
    total, pages = _pages(answer)
    if page > pages:
        # Past the last page: show the last page rather than an empty one. The facets and the total
        # do not depend on the page, so only the hits are asked for again.
        page = pages
        hits = send(_hits_body(params, page), HITS_FILTER_PATH)
    return _results(answer, hits, params, page, collection_names, with_collection_facet)

