"""The shop's web process stopped in the middle of a checkout (killed: no goodbye) and started again:
the shopper's next page is the step they were on, with what they had entered, and the order is placed.

The real `manage.py runshop` on a port of its own, driven over HTTP with a cookie jar as a browser
would. Slow (two starts of the shop): marked `faults`.
"""

from __future__ import annotations

import http.cookiejar
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.shop_process import Shop
from tests.stock_helpers import fresh_sku
from tests.test_checkout import ADDRESS, GOOD_CARD, _order_number, _step, _value
from tests.test_ops_runshop import free_port, shop_env  # noqa: F401 - shop_env is a fixture

pytestmark = [pytest.mark.faults, pytest.mark.usefixtures("catalog")]


class Browser:
    """A cookie jar and forms posted with the page's CSRF token, redirects followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.at = base + "/"  # the page the shopper is on: the Referer of its forms

    def _open(self, request) -> tuple[str, str]:
        with self.opener.open(request, timeout=30) as response:
            self.at = response.geturl()
            return self.at.removeprefix(self.base), response.read().decode()

    def get(self, path: str) -> tuple[str, str]:
        return self._open(self.base + path)

    def post(self, path: str, page: str, form: dict) -> tuple[str, str]:
        data = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": _value(page, "csrfmiddlewaretoken")}).encode()
        return self._open(urllib.request.Request(self.base + path, data=data, headers={"Referer": self.at}))


@pytest.fixture
def shop(shop_env):  # noqa: F811 - the fixture imported above
    running = Shop(shop_env, free_port())
    yield running
    running.kill()


def test_a_shopper_continues_from_the_same_step_after_the_web_process_is_killed_and_started(shop, catalog):
    variant = catalog.variants[1260]
    fresh_sku(10, variant.sku)
    shop.start()
    browser = Browser(f"http://127.0.0.1:{shop.port}")
    _, product = browser.get(f"/products/{variant.product_slug}/")
    browser.post("/cart/add/", product, {"sku": variant.sku, "quantity": "2", "nonce": _value(product, "nonce")})
    _, cart = browser.get("/cart/")
    where, shipping = browser.post("/checkout/start/", cart, {})
    assert where == "/checkout/shipping/"
    where, _ = browser.post("/checkout/shipping/", shipping, ADDRESS)
    assert where == "/checkout/payment/"

    shop.kill()
    shop.start()

    where, page = browser.get("/checkout/review/")  # ahead of where the shopper is: sent back to it
    assert where == "/checkout/payment/" and _step(page) == "payment"
    where, shipping = browser.get("/checkout/shipping/")  # one step back: what they entered is there
    assert where == "/checkout/shipping/" and ADDRESS["line1"] in shipping
    where, page = browser.get("/checkout/payment/")
    where, review = browser.post("/checkout/payment/", page, GOOD_CARD)
    assert where == "/checkout/review/"
    where, _ = browser.post("/checkout/submit/", review, {
        "expected_total_cents": _value(review, "expected_total_cents"), "nonce": _value(review, "nonce")})
    for _ in range(100):
        if where != "/checkout/processing/":
            break
        time.sleep(0.2)
        where, confirmation = browser.get("/checkout/processing/")
    assert where == "/checkout/complete/"
    assert _order_number(confirmation)
