"""Every link and form on the storefront's pages goes to a route that exists: links are built with
{% url %}, and a link to a part of the shop that is not built yet is left out."""

import re
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import Resolver404, resolve

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]

LINK = re.compile(r'\b(?:href|action|src)="([^"]*)"')
# Routes of the catalog, cheap to open; the others (the cart) are only resolved.
OPENED_ROUTES = {"home", "search", "collection", "product", "product-image"}


def _pages(catalog) -> list[str]:
    product = next(p for p in catalog.products if p.collections)
    return ["/", "/search/?q=shirt", "/search/?q=zzzzqqqq", f"/collections/{product.collections[0]}/",
            f"/products/{product.slug}/", "/no-such-page/"]


def _links(client, page: str) -> set[str]:
    response = client.get(page)
    assert response.status_code in (200, 404), page
    base = "http://testserver" + page
    # A fragment of the same page (the skip link's "#main") is a place on it, not a route.
    return {urljoin(base, unescape(raw)) for raw in LINK.findall(response.content.decode()) if not raw.startswith("#")}


def _assert_every_link_works(client, pages: list[str]):
    opened: set[str] = set()
    for page in pages:
        for url in _links(client, page):
            parts = urlsplit(url)
            assert parts.scheme == "http" and parts.netloc == "testserver", f"{page} links out to {url}"
            if parts.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
                assert client.get(parts.path).status_code == 200, f"{page} links to missing {url}"
                continue
            try:
                match = resolve(parts.path)
            except Resolver404:
                pytest.fail(f"{page} links to {parts.path}, which is no route")
            if match.url_name in OPENED_ROUTES and parts.path not in opened:
                opened.add(parts.path)
                assert client.get(url).status_code != 404, f"{page} links to {url}, which is not found"


def test_every_link_and_form_on_the_storefront_goes_to_a_page_that_exists(client, catalog):
    _assert_every_link_works(client, _pages(catalog))


def test_the_skip_link_goes_to_the_main_content_of_every_page(client, catalog):
    for page in _pages(catalog):
        html = client.get(page).content.decode()
        assert '<a class="skip-link" href="#main">' in html and '<main class="wrap" id="main">' in html, page


def test_a_signed_in_shopper_sees_no_link_to_a_page_not_built_yet(client, catalog):
    client.force_login(get_user_model().objects.create_user("shopper", password="not-used-here-1"))

    # The header (account and order links) is the same on every page.
    _assert_every_link_works(client, ["/", "/no-such-page/"])
