"""The emailed order link: a signed token that opens one order, expires, and cannot be forged."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing

from orders import access, services
from orders.numbers import new_order_number

NUMBER = new_order_number(0x1234_5678_9ABC)
OTHER = new_order_number(0x1234_5678_9ABD)


def test_a_token_opens_its_own_order_only():
    token = access.order_token(NUMBER)

    assert access.verify_order_token(NUMBER, token)
    assert not access.verify_order_token(OTHER, token)
    assert NUMBER not in token  # the number is in the URL already


@pytest.mark.parametrize("tamper", [
    lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
    lambda token: token.split(":")[0] + ":" + "x" * 43,
    lambda token: "",
    lambda token: token + "x",
    lambda token: "x" * 500,
    lambda token: ":".join(reversed(token.split(":"))),
])
def test_a_tampered_token_opens_nothing(tamper):
    assert not access.verify_order_token(NUMBER, tamper(access.order_token(NUMBER)))


def test_no_token_and_a_malformed_number_open_nothing():
    assert not access.verify_order_token(NUMBER, None)
    assert not access.verify_order_token("HC-../../etc", access.order_token(NUMBER))


def test_a_token_signed_with_another_salt_or_key_opens_nothing(settings):
    forged = signing.TimestampSigner(salt="another.purpose").sign(NUMBER)[len(NUMBER) + 1:]
    assert not access.verify_order_token(NUMBER, forged)

    settings.SECRET_KEY = "a-different-secret-key-of-another-shop-0123456789abcdef"
    foreign = access.order_token(NUMBER)
    settings.SECRET_KEY = "tests-only-secret-key"
    assert not access.verify_order_token(NUMBER, foreign)


def test_a_token_expires(settings, monkeypatch):
    token = access.order_token(NUMBER)
    settings.ORDER_LINK_MAX_AGE_DAYS = 90
    monkeypatch.setattr(signing.time, "time", lambda real=signing.time.time: real() + 91 * 24 * 3600)

    assert not access.verify_order_token(NUMBER, token)


def test_the_link_is_the_order_page_with_its_token():
    url = access.order_url(NUMBER, "https://shop.example/")

    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "shop.example", f"/orders/{NUMBER}/")
    assert access.verify_order_token(NUMBER, parse_qs(parts.query)["token"][0])


def test_a_malformed_number_gets_no_token():
    with pytest.raises(ValueError):
        access.order_token("HC-not-a-number")


async def test_a_session_remembers_its_last_twenty_orders():
    from django.contrib.sessions.backends.signed_cookies import SessionStore

    session = SessionStore()
    numbers = [new_order_number(n * 7919) for n in range(1, 26)]
    for number in numbers:
        await services.remember_placed_order(session, number)
    await services.remember_placed_order(session, numbers[-1])  # a repeat is not kept twice

    assert services.placed_orders(session) == numbers[-20:]
    assert services.placed_by_session(session, numbers[-1])
    assert not services.placed_by_session(session, numbers[0])

    services.remember_placed_order_sync(session, numbers[0])
    assert services.placed_orders(session) == numbers[-19:] + [numbers[0]]


def test_a_session_does_not_remember_what_is_not_an_order_number():
    from django.contrib.sessions.backends.signed_cookies import SessionStore

    session = SessionStore()
    session[services.PLACED_ORDERS_SESSION_KEY] = "HC-garbage"  # a session from an older release, say
    with pytest.raises(ValueError):
        services.remember_placed_order_sync(session, "<script>")

    assert services.placed_orders(session) == []
    services.remember_placed_order_sync(session, NUMBER)
    assert services.placed_orders(session) == [NUMBER]
