"""Splitting cents into shares (orders/apportion.py): they sum to the total exactly, each within a cent
of its exact value, ties to the earlier weight; bad input is refused."""

import random
from fractions import Fraction

import pytest

from orders.apportion import apportion


def test_shares_follow_the_weights_and_sum_exactly():
    assert apportion(6795, [5000, 1200]) == [5480, 1315]
    assert apportion(100, [1, 1, 1]) == [34, 33, 33]  # the tie goes to the earliest weight
    assert apportion(0, [3, 4]) == [0, 0]
    assert apportion(999, [0, 5, 0]) == [0, 999, 0]
    assert apportion(7, [1]) == [7]


def test_every_share_is_within_a_cent_of_its_exact_value_and_they_sum_to_the_total():
    rng = random.Random(20251)
    for _ in range(500):
        weights = [rng.randint(0, 50_000) for _ in range(rng.randint(1, 8))]
        if not any(weights):
            weights[0] = 1
        total = rng.randint(0, 10_000_000)
        shares = apportion(total, weights)
        assert sum(shares) == total and len(shares) == len(weights)
        for share, weight in zip(shares, weights, strict=True):
            exact = Fraction(total * weight, sum(weights))
            assert abs(share - exact) < 1 and share >= 0


def test_the_largest_remainders_get_the_leftover_cents():
    # Exact: 2.5, 3.333.., 4.1666.. -> floors 2, 3, 4 (9); one cent left goes to the largest remainder (2.5).
    assert apportion(10, [15, 20, 25]) == [3, 3, 4]


@pytest.mark.parametrize("total,weights", [(-1, [1]), (10, []), (10, [0, 0]), (10, [3, -1])])
def test_bad_input_is_refused(total, weights):
    with pytest.raises(ValueError):
        apportion(total, weights)
