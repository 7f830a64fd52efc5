"""Dollar amounts from outside: bounded as text before any number is made from them."""

import pytest

from commerce import money

HOSTILE = [
    "1e999999",            # a decimal overflow once made /search/ answer 500
    "1E+999997",           # and this one kept a worker busy for half a minute
    "1e2",
    "9" * 16,
    "12345678",            # eight digits of dollars: more than the shop sells
    "0.001",
    "-5",
    "+5",
    "NaN",
    "Infinity",
    "1_000",
    "\u0661\u0662",        # Arabic-Indic digits, which int() and Decimal() accept
    "1 2",
    "1,00",
    "",
    ".",
    "$",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_the_price_parser_refuses_a_hostile_amount_before_any_arithmetic(monkeypatch, text):
    made = []
    monkeypatch.setattr(money, "_cents", lambda *groups: made.append(groups) or 0)
    # No Decimal of untrusted text, whatever the module imports.
    monkeypatch.setattr(money, "Decimal", lambda value: made.append(value), raising=False)

    assert money.bounded_amount(text) is None
    assert money.parse_dollars(text) is None
    assert made == []


@pytest.mark.parametrize("text,cents", [
    ("25", 2500),
    ("25.5", 2550),
    ("25.05", 2505),
    (".50", 50),
    ("5.", 500),
    ("$1,025.00", 102500),
    (" 49.99 ", 4999),
    ("0", 0),
    ("1,000,000", money.MAX_CENTS),
])
def test_the_price_parser_reads_plain_dollar_amounts_as_integer_cents(text, cents):
    assert money.parse_dollars(text) == cents


def test_the_price_parser_ignores_a_price_above_what_the_shop_sells():
    assert money.parse_dollars("1000000.01") is None
    assert money.parse_dollars("9999999.99") is None


def test_money_formats_cents_as_dollars():
    assert money.format_cents(102550) == "$1,025.50"
    assert money.format_cents(-5) == "-$0.05"
