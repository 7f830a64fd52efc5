"""The cart page's template and links, rendered without any store."""

from __future__ import annotations

import re

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.test import override_settings
from django.urls import include, path

from cart.contracts import CartLine, CartStatus, CartView
from cart.views import CHECKOUT_ROUTE, _route_exists


class WithoutCheckout:
    """The cart and catalog pages, as a URLconf."""

    urlpatterns = [path("", include("cart.urls")), path("", include("inventory.urls"))]


class WithCheckout:
    urlpatterns = [*WithoutCheckout.urlpatterns,
                   path("checkout/", include(([path("start/", HttpResponse, name="start")], "checkout")))]


CART = CartView(
    cart_id="c1", status=CartStatus.ACTIVE,
    lines=(CartLine("HC1-BLK-M", "a-shirt", "A shirt", "Black", "M", 2500, 2, "/i.svg"),),
    coupon_code="FLASH", coupon_label="20% off", coupon_expired=True,
    subtotal_cents=5000, discount_cents=0, total_cents=5000, item_count=2,
)


def _page(can_check_out: bool) -> str:
    return render_to_string("cart/cart.html", {"cart": CART, "can_check_out": can_check_out})


@override_settings(ROOT_URLCONF=WithoutCheckout)
def test_the_cart_page_hides_check_out_until_the_checkout_route_exists():
    html = _page(_route_exists(CHECKOUT_ROUTE))

    assert "Check out" not in html and "/checkout/" not in html


@override_settings(ROOT_URLCONF=WithCheckout)
def test_the_cart_page_offers_check_out_once_the_checkout_route_exists():
    html = _page(_route_exists(CHECKOUT_ROUTE))

    assert re.search(r'<form method="post" action="/checkout/start/">.*Check out</button>', html)


@override_settings(ROOT_URLCONF=WithoutCheckout)
def test_the_cart_page_links_by_route_name():
    html = _page(False)

    assert 'href="/products/a-shirt/?variant=HC1-BLK-M"' in html
    for action in ("/cart/update/", "/cart/remove/", "/cart/coupon/"):
        assert f'action="{action}"' in html


@override_settings(ROOT_URLCONF=WithoutCheckout)
def test_the_cart_page_says_when_an_applied_coupon_has_expired():
    html = _page(False)

    assert "The code FLASH has expired and no longer applies." in html
    assert 'data-testid="cart-discount"' not in html
    assert 'data-testid="cart-total" data-cents="5000"' in html
