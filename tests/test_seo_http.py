"""What crawlers, link checkers and monitors get: HEAD wherever GET is, a robots.txt that keeps them
out of a shopper's pages, a description on every storefront page, and compressed pages."""

from __future__ import annotations

import gzip

import pytest

from commerce.views import ROBOTS_DISALLOWED

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]


def _storefront_pages(catalog) -> list[str]:
    product = next(p for p in catalog.products if p.collections)
    return ["/", "/search/?q=shirt", "/search/?color=Black&sort=price", f"/collections/{product.collections[0]}/",
            f"/products/{product.slug}/", "/images/mug/1f2a44.svg", "/cart/", "/orders/", "/accounts/login/",
            "/accounts/register/", "/checkout/review/", "/robots.txt", "/healthz", "/no-such-page/"]


def test_head_answers_as_get_without_a_body_on_every_page(client, catalog):
    for path in _storefront_pages(catalog):
        got, head = client.get(path), client.head(path)

        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        assert head["Content-Type"] == got["Content-Type"], path


def test_robots_txt_keeps_crawlers_out_of_a_shoppers_pages_and_the_admin(client):
    response = client.get("/robots.txt")

    lines = response.content.decode().splitlines()
    assert response["Content-Type"].startswith("text/plain")
    assert lines[0] == "User-agent: *"
    assert {f"Disallow: {path}" for path in ROBOTS_DISALLOWED} <= set(lines)
    assert {"/cart/", "/checkout/", "/orders/", "/accounts/", "/admin/", "/api/"} <= set(ROBOTS_DISALLOWED)
    assert "Disallow: /\n" not in response.content.decode()  # the catalog stays open


def test_every_storefront_page_has_a_description_of_its_own(client, catalog):
    product = next(p for p in catalog.products if p.description)
    descriptions = {}
    for path in ("/", "/search/?q=shirt", f"/products/{product.slug}/"):
        html = client.get(path).content.decode()
        start = html.index('<meta name="description" content="') + len('<meta name="description" content="')
        descriptions[path] = html[start:html.index('"', start)]

    assert all(descriptions.values())
    assert len(set(descriptions.values())) == 3
    assert descriptions[f"/products/{product.slug}/"].startswith(product.description[:40].replace("'", "&#x27;"))


def test_pages_are_compressed_for_a_client_that_accepts_gzip(client):
    plain = client.get("/")
    compressed = client.get("/", HTTP_ACCEPT_ENCODING="gzip")

    assert "Content-Encoding" not in plain
    assert compressed["Content-Encoding"] == "gzip" and "Accept-Encoding" in compressed["Vary"]
    html = gzip.decompress(compressed.content).decode()
    assert "<main" in html and len(compressed.content) < len(plain.content) / 2


def test_only_pages_are_compressed_not_the_apis_json_nor_the_probes(client):
    for path in ("/healthz", "/api/v1/products", "/robots.txt"):
        response = client.get(path, HTTP_ACCEPT_ENCODING="gzip")

        assert "Content-Encoding" not in response, path
