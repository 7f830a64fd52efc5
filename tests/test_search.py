"""Search against the real Elasticsearch, checked against what the generated catalog holds."""

import math
from collections import Counter

import pytest
from django.http import QueryDict

from inventory import services
from inventory.catalog.search import PAGE_SIZE
from inventory.contracts import PRICE_BUCKETS
from inventory.forms import search_params
from tests.conftest import TEST_CATALOG_PRODUCTS

pytestmark = pytest.mark.usefixtures("catalog")


def _search(query: str = "", collection: str | None = None):
    return services.search(search_params(QueryDict(query), collection=collection),
                           with_collection_facet=collection is None)


def _facet(results, name: str) -> dict[str, int]:
    facet = next(f for f in results.facets if f.name == name)
    return {option.value: option.count for option in facet.options}


def _typo(word: str) -> str:
    """One dropped letter in the middle: within the fuzziness an edit distance of 1 allows."""
    middle = len(word) // 2
    return word[:middle] + word[middle + 1:]


@pytest.mark.parametrize("index", [0, 57, 211])
def test_an_exact_product_name_ranks_first(catalog, index):
    product = catalog.products[index]

    results = _search(f"q={product.name}")

    assert results.cards[0].slug == product.slug


@pytest.mark.parametrize("index", [3, 101, 302])
def test_a_misspelt_name_still_finds_the_product(catalog, index):
    product = catalog.products[index]
    words = product.name.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    words[longest] = _typo(words[longest])
    misspelt = " ".join(words)
    assert misspelt != product.name

    results = _search(f"q={misspelt}")

    assert product.slug in [card.slug for card in results.cards[:5]]


def test_facet_counts_equal_what_the_catalog_holds(catalog):
    results = _search()

    assert results.total == TEST_CATALOG_PRODUCTS
    assert _facet(results, "type") == Counter(p.product_type for p in catalog.products)
    assert _facet(results, "collection") == Counter(s for p in catalog.products for s in p.collections)
    assert _facet(results, "color") == Counter(c for p in catalog.products for c in p.colours)
    assert _facet(results, "size") == Counter(s for p in catalog.products for s in p.sizes)
    expected_prices = Counter()
    for product in catalog.products:
        for bucket in PRICE_BUCKETS:
            if any((bucket.min_cents or 0) <= v.price_cents < (bucket.max_cents or 10**9) for v in product.variants):
                expected_prices[bucket.key] += 1
    assert _facet(results, "price") == expected_prices


def test_colour_counts_under_a_size_filter_count_products_making_that_pair(catalog):
    size = "M"
    results = _search(f"size={size}")

    expected = Counter()
    for product in catalog.products:
        for colour in {v.colour for v in product.variants if v.size == size}:
            expected[colour] += 1
    assert _facet(results, "color") == expected
    assert results.total == sum(1 for p in catalog.products if size in p.sizes)


def _split_pair(catalog):
    """A product made in colour A (in some size) and in size S (in colour B), but not as A in S."""
    for product in catalog.products:
        pairs = {(v.colour, v.size) for v in product.variants}
        for colour_a in product.colours:
            for colour_b in product.colours:
                for size in product.sizes:
                    if colour_a != colour_b and (colour_b, size) in pairs and (colour_a, size) not in pairs:
                        return product, colour_a, colour_b, size
    raise AssertionError("the test catalog has no product with a missing combination")


def test_colour_and_size_must_match_the_same_variant(catalog):
    product, missing_colour, made_colour, size = _split_pair(catalog)
    name = f"q={product.name}"

    without = _search(f"{name}&color={missing_colour}&size={size}")
    with_pair = _search(f"{name}&color={made_colour}&size={size}")

    assert product.slug not in [card.slug for card in without.cards]
    assert product.slug in [card.slug for card in with_pair.cards]


def test_a_collection_page_only_shows_its_collection(catalog):
    slug = catalog.collections[0].slug
    results = _search("", collection=slug)

    assert results.total == sum(1 for p in catalog.products if slug in p.collections)
    assert "collection" not in [facet.name for facet in results.facets]


def test_pages_cover_every_result_exactly_once():
    first = _search("page=1")
    pages = math.ceil(TEST_CATALOG_PRODUCTS / PAGE_SIZE)
    assert first.pages == pages

    seen = []
    for page in range(1, pages + 1):
        seen += [card.slug for card in _search(f"page={page}").cards]

    assert len(seen) == len(set(seen)) == TEST_CATALOG_PRODUCTS


@pytest.mark.parametrize("page,expected", [("-1", 1), ("0", 1), ("abc", 1), ("99999", None)])
def test_out_of_range_pages_land_on_a_real_page(page, expected):
    results = _search(f"page={page}")
    last = math.ceil(TEST_CATALOG_PRODUCTS / PAGE_SIZE)
    assert results.page == (expected or last)
    assert results.cards


def test_sorting_by_price_orders_the_results():
    ascending = [card.price_min_cents for card in _search("sort=price_asc").cards]
    descending = [card.price_min_cents for card in _search("sort=price_desc").cards]
    names = [card.name for card in _search("sort=name").cards]

    assert ascending == sorted(ascending)
    assert descending == sorted(descending, reverse=True)
    assert names == sorted(names)


def test_a_price_range_keeps_products_with_a_variant_inside_it(catalog):
    results = _search("price_min=25&price_max=49.99")

    expected = sum(1 for p in catalog.products if any(2500 <= v.price_cents <= 4999 for v in p.variants))
    assert results.total == expected


def test_nothing_found_offers_a_spelling_suggestion(catalog):
    word = next(w for p in catalog.products for w in p.name.split() if len(w) >= 7 and w.isalpha())
    # A wrong first letter defeats the fuzzy match (its prefix must match) but not the suggester.
    garbled = "x" + word[1:].lower()

    results = _search(f"q={garbled}")

    assert results.total == 0
    assert results.suggestion == word.lower()


def test_bad_query_parts_are_ignored_not_fatal():
    unfiltered = _search().total

    assert _search("price_min=abc&price_max=-5").total == unfiltered
    assert _search("sort=bogus&color=&size=").total == unfiltered
    long = _search("q=" + "a" * 10_000)
    assert len(long.params.q) == 200
