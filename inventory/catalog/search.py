"""Product search over the `products` read model: full text, facets with counts, sort, pages.

Facets are multi-select: each facet's counts apply every filter except its own, so choosing
"Navy" still shows how many products come in "Black". Colour, size and price are conditions on
one variant together (nested query): "Navy" and "XL" find products that make a navy XL, not a
product with a navy S and a black XL.
"""

from __future__ import annotations

import math

from elasticsearch.dsl import Q, Search
from elasticsearch.dsl.query import Query

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
SEARCH_FIELDS = ["name^3", "collection_names^1.5", "product_type.text^2", "search_text", "description"]


def _text_query(q: str) -> Query:
    return Q(
        "bool",
        should=[
            # An exact product name outranks everything else.
            Q("term", **{"name.raw": {"value": q, "boost": 30}}),
            Q("match_phrase", name={"query": q, "boost": 8}),
            Q("multi_match", query=q, fields=SEARCH_FIELDS, type="best_fields", operator="and",
              fuzziness="AUTO", prefix_length=1, tie_breaker=0.3),
        ],
        minimum_should_match=1,
    )


def _product_filters(params: SearchParams, skip: str = "") -> list[Query]:
    filters = []
    if params.collections and skip != "collection":
        filters.append(Q("terms", collections=list(params.collections)))
    if params.types and skip != "type":
        filters.append(Q("terms", product_type=list(params.types)))
    return filters


def _variant_conditions(params: SearchParams, skip: str = "") -> list[Query]:
    conditions = []
    if params.colours and skip != "color":
        conditions.append(Q("terms", **{"variants.colour": list(params.colours)}))
    if params.sizes and skip != "size":
        conditions.append(Q("terms", **{"variants.size": list(params.sizes)}))
    if skip != "price" and (params.price_min_cents is not None or params.price_max_cents is not None):
        bounds = {}
        if params.price_min_cents is not None:
            bounds["gte"] = params.price_min_cents
        if params.price_max_cents is not None:
            bounds["lte"] = params.price_max_cents
        conditions.append(Q("range", **{"variants.price_cents": bounds}))
    return conditions


def _all_filters(params: SearchParams, skip: str = "") -> list[Query]:
    filters = _product_filters(params, skip)
    conditions = _variant_conditions(params, skip)
    if conditions:
        filters.append(Q("nested", path="variants", query=Q("bool", filter=conditions)))
    return filters


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


def _build(params: SearchParams, page: int, with_collection_facet: bool) -> Search:
    search = ProductDocument.search().extra(track_total_hits=True)
    search = search.query(_text_query(params.q) if params.q else Q("match_all"))
    filters = _all_filters(params)
    if filters:
        search = search.post_filter(Q("bool", filter=filters))

    def facet_scope(skip: str):
        return Q("bool", filter=_all_filters(params, skip)) if _all_filters(params, skip) else Q("match_all")

    if with_collection_facet:
        search.aggs.bucket("collection", "filter", filter=facet_scope("collection")).bucket(
            "values", "terms", field="collections", size=100)
    search.aggs.bucket("type", "filter", filter=facet_scope("type")).bucket(
        "values", "terms", field="product_type", size=200)
    for facet, field in (("color", "variants.colour"), ("size", "variants.size")):
        conditions = _variant_conditions(params, skip=facet)
        (
            search.aggs.bucket(facet, "filter", filter=Q("bool", filter=_product_filters(params)))
            .bucket("variants", "nested", path="variants")
            .bucket("matching", "filter", filter=Q("bool", filter=conditions))
            .bucket("values", "terms", field=field, size=100)
            .bucket("products", "reverse_nested")
        )
    (
        search.aggs.bucket("price", "filter", filter=Q("bool", filter=_product_filters(params)))
        .bucket("variants", "nested", path="variants")
        .bucket("matching", "filter", filter=Q("bool", filter=_variant_conditions(params, skip="price")))
        .bucket("values", "range", field="variants.price_cents", keyed=True, ranges=[
            {"key": b.key, **({"from": b.min_cents} if b.min_cents is not None else {}),
             **({"to": b.max_cents} if b.max_cents is not None else {})}
            for b in PRICE_BUCKETS
        ])
        .bucket("products", "reverse_nested")
    )
    if params.q:
        search = search.suggest("spelling", params.q, term={"field": "name", "suggest_mode": "popular",
                                                                 "prefix_length": 0})
    start = (page - 1) * PAGE_SIZE
    return search.sort(*_sorting(params))[start:start + PAGE_SIZE]


def _options(buckets, selected: tuple[str, ...], labels: dict[str, str] | None, count_of,
             order: dict[str, int] | None = None) -> tuple[FacetOption, ...]:
    options = {
        bucket.key: FacetOption(bucket.key, (labels or {}).get(bucket.key, bucket.key), count_of(bucket),
                                bucket.key in selected)
        for bucket in buckets
        if count_of(bucket) > 0 or bucket.key in selected
    }
    # A chosen value stays visible even when nothing matches it any more.
    for value in selected:
        options.setdefault(value, FacetOption(value, (labels or {}).get(value, value), 0, True))
    if order is not None:
        return tuple(sorted(options.values(), key=lambda option: (order.get(option.value, len(order)), option.label)))
    return tuple(sorted(options.values(), key=lambda option: (-option.count, option.label)))


def _price_options(aggs, params: SearchParams) -> tuple[FacetOption, ...]:
    buckets = aggs.price.variants.matching["values"].buckets
    options = []
    for bucket in PRICE_BUCKETS:
        count = buckets[bucket.key].products.doc_count if bucket.key in buckets else 0
        selected = (params.price_min_cents, params.price_max_cents) == (
            bucket.min_cents, bucket.max_cents - 1 if bucket.max_cents else None)
        if count or selected:
            options.append(FacetOption(bucket.key, bucket.label, count, selected))
    return tuple(options)


def _card(hit, params: SearchParams) -> ProductCard:
    variants = list(hit.variants or [])
    chosen = next((v for v in variants if params.colours and v.colour in params.colours and v.available > 0), None)
    chosen = chosen or next((v for v in variants if params.colours and v.colour in params.colours), None)
    chosen = chosen or next((v for v in variants if v.sku == hit.default_sku), variants[0] if variants else None)
    return ProductCard(
        slug=hit.slug,
        name=hit.name,
        product_type=hit.product_type,
        price_min_cents=hit.price_min_cents,
        price_max_cents=hit.price_max_cents,
        image_url=image_url(hit.image_shape, chosen.colour_hex if chosen else hit.image_colour),
        in_stock=bool(hit.in_stock),
        sku=chosen.sku if chosen else "",
        colours=tuple(dict.fromkeys(v.colour_hex for v in variants)),
    )


def _suggestion(response, q: str) -> str:
    suggest = getattr(response, "suggest", None)
    if not suggest or "spelling" not in suggest:
        return ""
    words = []
    changed = False
    for entry in suggest.spelling:
        if entry.options:
            words.append(entry.options[0].text)
            changed = True
        else:
            words.append(entry.text)
    return " ".join(words) if changed and " ".join(words) != q.lower() else ""


def search_products(params: SearchParams, collection_names: dict[str, str],
                    with_collection_facet: bool = True) -> SearchResults:
    page = params.page
    max_pages = MAX_RESULT_WINDOW // PAGE_SIZE
    page = min(page, max_pages)
    response = _build(params, page, with_collection_facet).execute()
    total = response.hits.total.value
    pages = min(max(1, math.ceil(total / PAGE_SIZE)), max_pages)
    if page > pages:
        # Past the last page: show the last page rather than an empty one.
        page = pages
        response = _build(params, page, with_collection_facet).execute()

    aggs = response.aggregations
    facets = []
    if with_collection_facet:
        facets.append(Facet("collection", "Collection", _options(
            aggs.collection["values"].buckets, params.collections, collection_names, lambda b: b.doc_count)))
    facets.append(Facet("type", "Type", _options(
        aggs.type["values"].buckets, params.types, None, lambda b: b.doc_count)))
    facets.append(Facet("color", "Colour", _options(
        aggs.color.variants.matching["values"].buckets, params.colours, None, lambda b: b.products.doc_count)))
    facets.append(Facet("size", "Size", _options(
        aggs.size.variants.matching["values"].buckets, params.sizes, None, lambda b: b.products.doc_count,
        order=SIZE_ORDER)))
    facets.append(Facet("price", "Price", _price_options(aggs, params)))

    return SearchResults(
        params=params,
        total=total,
        page=page,
        pages=pages,
        cards=tuple(_card(hit, params) for hit in response),
        facets=tuple(facets),
        suggestion=_suggestion(response, params.q) if total == 0 and params.q else "",
    )
