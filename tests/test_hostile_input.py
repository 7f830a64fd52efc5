"""Hostile input, generated: every form field and query string of the storefront's contract gets
text, numbers and bytes it does not expect. Never a 500; a refused form changes nothing.

Hypothesis runs derandomized (a fixed seed derived from each test) with a capped number of examples,
no example database and no deadline, so a run is repeatable and fits the test command's budget. The
API's bodies are fuzzed from its schema by tests/test_api_fuzz.py.
"""

from __future__ import annotations

import re
import uuid

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cart import services as cart_services
from cart.contracts import MAX_LINE_QUANTITY
from checkout import services as checkout_services
from tests.stock_helpers import fresh_sku

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog", "workers_in_thread")]

REPEATABLE = settings(derandomize=True, database=None, deadline=None, max_examples=40,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# What a hostile client sends: any text (control characters, right-to-left marks, very long), numbers
# in every spelling, and the values a form expects, so some requests are also accepted.
ANY_TEXT = st.one_of(st.text(max_size=300), st.text(alphabet=st.characters(codec="utf-8"), min_size=1000,
                                                                           max_size=5000))
NUMBERISH = st.one_of(st.integers(-10**30, 10**30).map(str), st.floats(allow_nan=True).map(str),
                      st.sampled_from(["", " 1", "1e3", "0x10", "١", "NaN", "inf", "-0", "99999999999999999999"]),
                      ANY_TEXT)


@pytest.fixture(autouse=True)
def shop_settings(settings):
    settings.CART_CREATIONS_PER_MINUTE = 1000  # the suite's earlier tests started many carts this minute


def _no_nul(value: str) -> str:
    # A NUL byte cannot travel in a form field at all (the test client refuses to encode it).
    return value.replace("\x00", "")


@pytest.fixture
def shopper(catalog):
    """One shopper with a cart holding one line, reused by every example of a test (each checks that
    a refused request left that cart as it was)."""
    variant = catalog.variants[1310]
    fresh_sku(500, variant.sku)
    client = Client()
    assert client.post("/cart/add/", {"sku": variant.sku, "quantity": 1, "nonce": uuid.uuid4().hex}).status_code == 302
    return client, variant


def _cart(client):
    return async_to_sync(cart_services.get_cart)(client.session["cart_id"])


def _is_quantity(value: str, low: int) -> bool:
    return bool(re.fullmatch(r"\s*\+?\d{1,3}\s*", value)) and low <= int(value) <= MAX_LINE_QUANTITY


@REPEATABLE
@given(quantity=NUMBERISH, nonce=st.one_of(ANY_TEXT, st.just("valid-nonce")))
def test_add_to_cart_with_any_quantity_is_a_refusal_or_an_add_and_never_a_500(shopper, quantity, nonce):
    client, variant = shopper
    before = _cart(client)
    nonce = uuid.uuid4().hex if nonce == "valid-nonce" else _no_nul(nonce)

    response = client.post("/cart/add/", {"sku": variant.sku, "quantity": _no_nul(quantity), "nonce": nonce},
                           HTTP_REFERER="/cart/")

    assert response.status_code in (302, 400, 409), response.status_code
    after = _cart(client)
    accepted = _is_quantity(quantity, 1) and re.fullmatch(r"[A-Za-z0-9-]{8,64}", nonce)
    if not accepted:
        assert after.lines == before.lines
    if after.item_count > 15:  # keep the line far from the per-item cap for the next examples
        client.post("/cart/update/", {"sku": variant.sku, "quantity": 1}, HTTP_REFERER="/cart/")


@REPEATABLE
@given(path=st.sampled_from(["/cart/add/", "/cart/update/", "/cart/remove/", "/cart/coupon/"]),
       sku=ANY_TEXT, quantity=NUMBERISH, code=ANY_TEXT)
def test_every_cart_form_refuses_a_sku_that_is_not_one_and_changes_nothing(shopper, path, sku, quantity, code):
    client, _ = shopper
    before = _cart(client)

    response = client.post(path, {"sku": _no_nul(sku), "quantity": _no_nul(quantity), "code": _no_nul(code),
                                  "nonce": uuid.uuid4().hex}, HTTP_REFERER="/cart/")

    assert response.status_code < 500
    after = _cart(client)
    if path != "/cart/coupon/":
        assert after.lines == before.lines
    elif after.coupon_code != before.coupon_code:  # a code that exists: put the cart back as it was
        client.post("/cart/coupon/", {"code": before.coupon_code}, HTTP_REFERER="/cart/")


QUERY_KEYS = ["q", "page", "sort", "color", "size", "type", "collection", "price_min", "price_max"]


@REPEATABLE
@given(params=st.lists(st.tuples(st.sampled_from(QUERY_KEYS + ["other", ""]), NUMBERISH), max_size=12))
def test_the_search_page_answers_any_query_string_without_a_500(client, params):
    query = [(key, _no_nul(value)[:2000]) for key, value in params]

    response = client.get("/search/", query)

    assert response.status_code in (200, 400), response.status_code


ADDRESS_FIELDS = ["email", "full_name", "line1", "line2", "city", "state", "postal_code", "country",
                  "shipping_method"]
CARD_FIELDS = ["card_number", "exp_month", "exp_year", "cvc", "cardholder"]


@pytest.fixture
def at_shipping(catalog):
    variant = catalog.variants[1320]
    fresh_sku(500, variant.sku)
    client = Client()
    assert client.post("/cart/add/", {"sku": variant.sku, "quantity": 1, "nonce": uuid.uuid4().hex}).status_code == 302
    assert client.post("/checkout/start/")["Location"].endswith("/checkout/shipping/")
    return client


def _checkout(client):
    return async_to_sync(checkout_services.current)(client.session["cart_id"])


@REPEATABLE
@given(form=st.fixed_dictionaries({}, optional={name: ANY_TEXT for name in ADDRESS_FIELDS}))
def test_the_shipping_form_refuses_what_is_not_an_address_and_the_checkout_stays_where_it_was(at_shipping, form):
    before = _checkout(at_shipping)

    response = at_shipping.post("/checkout/shipping/", {key: _no_nul(value) for key, value in form.items()})

    assert response.status_code < 500, response.status_code
    after = _checkout(at_shipping)
    if response.status_code != 302:  # refused: the form again with its messages, or a bad request
        assert (after.step, after.shipping) == (before.step, before.shipping)
    else:  # random text made a valid address (it can): back to the shipping step for the next example
        at_shipping.get("/checkout/shipping/")


@REPEATABLE
@given(form=st.fixed_dictionaries({}, optional={name: NUMBERISH for name in CARD_FIELDS}))
def test_the_payment_form_never_500s_and_a_refused_card_changes_nothing(at_shipping, form):
    before = _checkout(at_shipping)

    response = at_shipping.post("/checkout/payment/", {key: _no_nul(value) for key, value in form.items()})

    assert response.status_code < 500, response.status_code
    after = _checkout(at_shipping)
    assert (after.step, after.card) == (before.step, before.card)  # no random text is a valid card here


ACCOUNT_FORMS = {
    "/accounts/register/": ["email", "full_name", "password1", "password2"],
    "/accounts/login/": ["username", "password", "next"],
    "/accounts/password/reset/": ["email"],
}
SIGNED_IN_FORMS = {
    "/accounts/profile/": ["full_name"],
    "/accounts/addresses/": ["full_name", "line1", "line2", "city", "state", "postal_code", "country", "label"],
    "/accounts/addresses/delete/": ["address_id"],
    "/accounts/password/": ["old_password", "new_password1", "new_password2"],
    "/accounts/tokens/": ["name", "scopes", "expires_in_days"],
}


@REPEATABLE
@given(path=st.sampled_from(sorted(ACCOUNT_FORMS)), data=st.data())
def test_the_account_forms_answer_any_input_without_a_500_and_sign_nobody_in(client, path, data):
    users = get_user_model().objects.count()
    form = {name: _no_nul(data.draw(ANY_TEXT, label=name)) for name in ACCOUNT_FORMS[path]}

    response = client.post(path, form)

    assert response.status_code < 500, response.status_code
    if response.status_code != 302:  # refused: nobody made, nobody signed in
        assert get_user_model().objects.count() == users
        assert "_auth_user_id" not in client.session


@pytest.fixture
def signed_in(client):
    client.force_login(get_user_model().objects.create_user("hostile@example.com", password="a-long-password-1"))
    return client


@REPEATABLE
@given(path=st.sampled_from(sorted(SIGNED_IN_FORMS)), data=st.data())
def test_a_signed_in_shoppers_forms_answer_any_input_without_a_500(signed_in, path, data):
    form = {name: _no_nul(data.draw(NUMBERISH, label=name)) for name in SIGNED_IN_FORMS[path]}

    response = signed_in.post(path, form)

    assert response.status_code < 500, response.status_code
    assert "_auth_user_id" in signed_in.session  # no input signs the shopper out
