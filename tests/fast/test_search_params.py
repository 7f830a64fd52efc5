"""The catalog's query string, cleaned without the stack: numbers are bounded as text first."""

import pytest
from django.http import QueryDict

from inventory.forms import MAX_PAGE, search_params


@pytest.mark.parametrize("raw", ["\u0663", "1_0", "9" * 5000, "1e3", "-2", " ", "0x10", "2.0"])
def test_a_page_number_that_is_not_plain_ascii_digits_is_ignored(raw):
    query = QueryDict(mutable=True)
    query["page"] = raw
    assert search_params(query).page == 1


def test_a_page_number_past_the_last_page_is_capped():
    assert search_params(QueryDict("page=99999")).page == MAX_PAGE
    assert search_params(QueryDict("page=7")).page == 7


def test_prices_out_of_bounds_are_dropped_and_a_reversed_range_is_swapped():
    assert search_params(QueryDict("price_min=1e999999&price_max=1E%2B999997")).price_min_cents is None
    params = search_params(QueryDict("price_min=50&price_max=20"))
    assert (params.price_min_cents, params.price_max_cents) == (2000, 5000)
