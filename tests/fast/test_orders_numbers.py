"""Order numbers: well-formed, unique in practice, not sequential, and read back from a person's slips."""

import random
import re

import pytest

from orders.numbers import (
    ALPHABET,
    ORDER_NUMBER_BITS,
    is_order_number,
    new_order_number,
    normalize_order_number,
    order_number_value,
)

SHAPE = re.compile(r"HC-[0-9A-HJKMNP-TV-Z]{10}")


def _draws(count: int, seed: int = 20250101) -> list[str]:
    rng = random.Random(seed)
    return [new_order_number(rng.getrandbits(ORDER_NUMBER_BITS)) for _ in range(count)]


def test_numbers_are_hc_and_ten_crockford_characters():
    for number in _draws(1000) + [new_order_number(0), new_order_number((1 << ORDER_NUMBER_BITS) - 1)]:
        assert SHAPE.fullmatch(number), number
        assert is_order_number(number)
        assert not set(number[3:]) & set("ILOU")
    assert new_order_number(0) == "HC-0000000000"
    assert new_order_number((1 << ORDER_NUMBER_BITS) - 1) == "HC-ZZZZZZZZZZ"
    assert ALPHABET == "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def test_a_number_carries_its_bits_exactly():
    rng = random.Random(3)
    for _ in range(1000):
        bits = rng.getrandbits(ORDER_NUMBER_BITS)
        assert order_number_value(new_order_number(bits)) == bits


def test_ten_thousand_random_draws_are_all_different():
    numbers = _draws(10_000)

    assert len(set(numbers)) == 10_000


def test_numbers_in_order_of_placing_are_not_sequential():
    values = [order_number_value(number) for number in _draws(10_000)]

    steps = [abs(later - earlier) for earlier, later in zip(values, values[1:], strict=False)]
    # Consecutive orders are nowhere near each other: knowing one number says nothing about the next.
    assert min(steps) > 1_000
    assert sum(1 for step in steps if step < 1 << 40) < 50  # about 1 in 512 expected by chance
    # Nor do they grow: about half the time the next one is smaller.
    rises = sum(1 for earlier, later in zip(values, values[1:], strict=False) if later > earlier)
    assert 4_500 < rises < 5_500


@pytest.mark.parametrize("bad", [-1, 1 << ORDER_NUMBER_BITS, 2**64])
def test_bits_out_of_range_are_refused(bad):
    with pytest.raises(ValueError):
        new_order_number(bad)


@pytest.mark.parametrize("bad", [1.5, "12", None, True])
def test_bits_that_are_not_an_int_are_refused(bad):
    with pytest.raises(TypeError):
        new_order_number(bad)


@pytest.mark.parametrize("text", [
    "", "HC-", "HC-000000000", "HC-00000000000", "hc-0000000000", "HC-000000000I", "HC-000000000U",
    "HX-0000000000", "HC_0000000000", " HC-0000000000", "HC-0000000000\n", "HC-٠٠٠٠٠٠٠٠٠٠", None, 42,
])
def test_anything_else_is_not_an_order_number(text):
    assert not is_order_number(text)


@pytest.mark.parametrize("typed,meant", [
    ("HC-7K3M9Q2XTA", "HC-7K3M9Q2XTA"),
    ("hc-7k3m9q2xta", "HC-7K3M9Q2XTA"),
    (" HC 7K3M9 Q2XTA ", "HC-7K3M9Q2XTA"),
    ("HC-7K3M-9Q2X-TA", "HC-7K3M9Q2XTA"),
    ("HC-I0O1L00000", "HC-1001100000"),
    ("HC-7K3M9Q2XTU", None),
    ("HC-7K3M9Q2XT", None),
    ("7K3M9Q2XTA", None),
    ("HC-" + "0" * 100, None),
])
def test_a_typed_number_is_read_as_the_one_meant(typed, meant):
    assert normalize_order_number(typed) == meant
