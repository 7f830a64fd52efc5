"""Card checks of the payment processor, pure: Luhn, brand, test-card behaviour, and every input
bounded in length and shape before any arithmetic is done with it. No store is touched."""

from datetime import date

import pytest

from checkout import payments
from checkout.payments import Behaviour, CardRejected, check_amount, check_card

TODAY = date(2026, 5, 14)
VALID = dict(number="4242 4242 4242 4242", exp_month="12", exp_year="2030", cvc="123", cardholder="Ada Lovelace")


def _check(**changes):
    return check_card(**(VALID | changes), today=TODAY)


def _refusal(**changes) -> CardRejected:
    with pytest.raises(CardRejected) as refusal:
        _check(**changes)
    return refusal.value


@pytest.mark.parametrize("number", ["4242424242424242", "4000000000000002", "4000000000000069",
                                    "4000000000000119", "5555555555554444", "378282246310005",
                                    "6011111111111117", "2223003122003222", "79927398713"])
def test_known_good_numbers_pass_the_luhn_check(number):
    assert payments.luhn_valid(number)


@pytest.mark.parametrize("number", ["4242424242424241", "4000000000000001", "1234567812345678", "",
                                    "42424242424242a2", "\u0664242424242424242"])
def test_a_number_with_a_wrong_check_digit_or_anything_but_ascii_digits_fails_the_luhn_check(number):
    assert not payments.luhn_valid(number)


@pytest.mark.parametrize("number,brand", [
    ("4242424242424242", "Visa"),
    ("5105105105105100", "Mastercard"),
    ("5555555555554444", "Mastercard"),
    ("2221000000000009", "Mastercard"),
    ("2720999999999996", "Mastercard"),
    ("2220999999999999", "Card"),
    ("2721000000000004", "Card"),
    ("378282246310005", "Amex"),
    ("341111111111111", "Amex"),
    ("6011111111111117", "Discover"),
    ("6500000000000002", "Discover"),
    ("3530111333300000", "Card"),
])
def test_the_brand_comes_from_the_number_prefix(number, brand):
    assert payments.card_brand(number) == brand


@pytest.mark.parametrize("number,behaviour", [
    ("4242424242424242", Behaviour.SUCCEED),
    ("4000000000000002", Behaviour.DECLINE),
    ("4000000000000069", Behaviour.EXPIRED),
    ("4000000000000119", Behaviour.TRANSIENT),
    ("5555555555554444", Behaviour.SUCCEED),
])
def test_each_test_card_has_its_behaviour_and_any_other_valid_card_succeeds(number, behaviour):
    assert _check(number=number).behaviour == behaviour


def test_a_valid_card_keeps_brand_last_four_and_expiry_and_never_the_number_or_cvc():
    card = _check(number="4242-4242-4242-4242", cvc="987")

    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("Visa", "4242", 12, 2030)
    assert "4242424242424242" not in repr(card) and "987" not in repr(card)
    assert set(vars(card)) == {"brand", "last4", "exp_month", "exp_year", "behaviour"}


def test_spaces_and_dashes_in_the_number_are_ignored():
    assert _check(number=" 4242-4242 4242-4242 ").last4 == "4242"


@pytest.mark.parametrize("number,message", [
    ("", "Enter your card number."),
    ("   ", "Enter your card number."),
    ("4242424242424241", "not valid"),
    ("42424242424", "12 to 19 digits"),             # 11 digits
    ("42424242424242424242", "12 to 19 digits"),    # 20 digits
    ("4242 4242 4242 424x", "digits only"),
    ("4242.4242.4242.4242", "digits only"),
    ("\u0664\u0662\u0664\u0662" * 4, "digits only"),  # Arabic-Indic digits, which int() accepts
    ("4" * 10_000, "12 to 19 digits"),
])
def test_a_bad_card_number_is_refused_on_the_card_number_field(number, message):
    refusal = _refusal(number=number)

    assert refusal.field == "card_number"
    assert message in refusal.message


@pytest.mark.parametrize("number", [None, 4242424242424242, b"4242424242424242"])
def test_a_number_that_is_not_text_is_refused(number):
    assert _refusal(number=number).field == "card_number"


def test_a_huge_input_is_refused_by_its_length_before_any_arithmetic(monkeypatch):
    made = []
    monkeypatch.setattr(payments, "luhn_valid", lambda digits: made.append(digits) or True)

    for changes in ({"number": "4" * 1_000_000}, {"exp_month": "1" * 1_000_000}, {"exp_year": "2" * 1_000_000},
                    {"cvc": "3" * 1_000_000}, {"cardholder": "A" * 1_000_000}):
        with pytest.raises(CardRejected):
            _check(**changes)
    assert made == [VALID["number"].replace(" ", "")] * 4  # only the calls that got past the number


@pytest.mark.parametrize("month", ["0", "13", "99", "-1", "1.5", "ab", "", "001", "\u0661", True, None, 13, -1])
def test_an_expiry_month_outside_1_to_12_is_refused(month):
    assert _refusal(exp_month=month).field == "exp_month"


@pytest.mark.parametrize("month", ["1", "01", " 7 ", 12])
def test_an_expiry_month_from_1_to_12_passes_as_text_or_number(month):
    assert 1 <= _check(exp_month=month).exp_month <= 12


def test_a_card_that_expired_last_month_is_refused_on_the_month():
    refusal = _refusal(exp_month="4", exp_year="2026")

    assert (refusal.field, refusal.message) == ("exp_month", "Your card has expired.")


def test_a_card_that_expired_last_year_is_refused_on_the_year():
    assert _refusal(exp_month="12", exp_year="2025").field == "exp_year"


def test_a_card_valid_through_this_month_passes():
    assert _check(exp_month="5", exp_year="2026").exp_year == 2026


def test_an_expiry_year_beyond_twenty_years_is_refused():
    assert _check(exp_year="2046").exp_year == 2046
    refusal = _refusal(exp_year="2047")
    assert refusal.field == "exp_year" and "20 years" in refusal.message


@pytest.mark.parametrize("year", ["", "20300", "abcd", "1999", "\u0662\u0660\u0663\u0660", 99999, None])
def test_a_malformed_or_past_expiry_year_is_refused(year):
    assert _refusal(exp_year=year).field == "exp_year"


def test_a_two_digit_expiry_year_is_read_as_this_century():
    assert _check(exp_year="30").exp_year == 2030


@pytest.mark.parametrize("cvc", ["", "12", "12345", "12a", "1 2 3", "\u0661\u0662\u0663", None, 123])
def test_a_cvc_that_is_not_3_or_4_digits_is_refused(cvc):
    assert _refusal(cvc=cvc).field == "cvc"


@pytest.mark.parametrize("cvc", ["123", "1234"])
def test_a_cvc_of_3_or_4_digits_passes(cvc):
    assert _check(cvc=cvc)


@pytest.mark.parametrize("name", ["", "   ", "A" * 101, "Ada\x00Lovelace", "Ada\nLovelace", None])
def test_a_missing_overlong_or_unprintable_cardholder_is_refused(name):
    assert _refusal(cardholder=name).field == "cardholder"


def test_no_refusal_message_repeats_the_number_or_the_cvc():
    for changes in ({"number": "4242424242424241"}, {"cvc": "98765"}, {"exp_month": "13"}):
        refusal = _refusal(**changes)
        assert "424242424242424" not in str(refusal) and "98765" not in str(refusal)


@pytest.mark.parametrize("amount", [0, -1, 100_000_001, 10**30, 1.5, "100", True, None])
def test_an_amount_outside_1_cent_to_a_million_dollars_is_refused_as_a_value_error(amount):
    with pytest.raises(ValueError):
        check_amount(amount)


@pytest.mark.parametrize("amount", [1, 4_999, 100_000_000])
def test_an_amount_from_1_cent_to_a_million_dollars_passes(amount):
    assert check_amount(amount) == amount


@pytest.mark.parametrize("key", ["", "k" * 201, "a\nb", None, 7])
def test_an_empty_overlong_or_unprintable_idempotency_key_is_refused(key):
    with pytest.raises(ValueError):
        payments.check_key(key)


def test_a_void_has_one_key_per_authorization():
    assert payments.void_key("checkout-c1-1/payment-1") == "void:checkout-c1-1/payment-1"
