"""A store that does not answer: the storefront says which part of the shop is unavailable (503, in
the shop's layout) and keeps serving what does not need it. The stores are made unreachable for this
process only, by pointing its connections at a closed port: the shared servers keep running."""

import json
import re

import pytest

from tests.outages import cassandra_unreachable

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]




@pytest.fixture
def cassandra_down():
    with cassandra_unreachable():
        yield


def _product_with_a_collection(catalog):
    return next(product for product in catalog.products if product.collections)


def _assert_unavailable_page(response, message: str):
    html = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"]
    assert message in html
    assert '<form class="search" action="/search/"' in html and "<footer" in html  # the shop's layout


@pytest.mark.parametrize("path", ["/", "/search/?q=shirt", "/collections/new-arrivals/"])
def test_pages_that_need_search_answer_503_naming_search_when_elasticsearch_is_down(
        client, elasticsearch_down, path):
    _assert_unavailable_page(client.get(path), "Search is unavailable right now")


def test_the_product_page_still_sells_without_elasticsearch_only_without_its_collections(
        client, catalog, elasticsearch_down):
    product = _product_with_a_collection(catalog)

    response = client.get(f"/products/{product.slug}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="add-to-cart"' in html and product.name in html
    assert "/collections/" not in html


def test_the_product_page_links_its_collections_when_elasticsearch_answers(client, catalog):
    product = _product_with_a_collection(catalog)

    html = client.get(f"/products/{product.slug}/").content.decode()

    assert re.search(rf'href="/collections/{re.escape(product.collections[0])}/"', html)


def test_the_product_page_answers_503_naming_the_catalog_when_cassandra_is_down(client, catalog, cassandra_down):
    response = client.get(f"/products/{catalog.products[0].slug}/")

    _assert_unavailable_page(response, "The catalog is unavailable right now")


def test_search_keeps_working_while_cassandra_is_down(client, cassandra_down):
    response = client.get("/search/?q=shirt")

    assert response.status_code == 200
    assert 'data-testid="result-count"' in response.content.decode()


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_status_pages_name_elasticsearch_when_it_is_down(client, elasticsearch_down, path):
    response = client.get(path)

    body = json.loads(response.content)
    assert response.status_code == 503
    assert body["dependencies"]["elasticsearch"] == "down"
    assert body["dependencies"]["cassandra"] == "up"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_status_pages_name_cassandra_when_it_is_down(client, cassandra_down, path):
    response = client.get(path)

    body = json.loads(response.content)
    assert response.status_code == 503
    assert body["dependencies"]["cassandra"] == "down"
    assert body["dependencies"]["elasticsearch"] == "up"
