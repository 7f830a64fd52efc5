"""The storefront's pages through HTTP: product page contract, bad input, images, links."""

import re

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]


def _attr(html: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]*)"', html)
    assert match, name
    return match.group(1)


def _product_with(catalog, predicate):
    for product in catalog.products:
        for variant in product.variants:
            if predicate(product, variant):
                return product, variant
    raise AssertionError("no such variant in the test catalog")


def test_the_home_page_lists_collections_and_featured_products(client, catalog):
    html = client.get("/").content.decode()

    for collection in catalog.collections[:5]:
        assert f'href="/collections/{collection.slug}/"' in html
    assert html.count('class="card"') >= 1


def test_every_search_result_links_to_its_product_page(client):
    html = client.get("/search/?q=shirt").content.decode()

    links = re.findall(r'href="(/products/[^"]+)"', html)
    assert links
    response = client.get(links[0].replace("&amp;", "&"))
    assert response.status_code == 200


def test_the_product_page_exposes_the_chosen_variant_for_add_to_cart(client, catalog):
    product, variant = _product_with(catalog, lambda p, v: v.on_hand > 3 and len(p.variants) > 1)

    html = client.get(f"/products/{product.slug}/?variant={variant.sku}").content.decode()
    form = html[html.index('<form method="post" action="/cart/add/"'):]

    assert _attr(form, "data-sku") == variant.sku
    assert int(_attr(form, "data-price-cents")) == variant.price_cents
    assert int(_attr(form, "data-available")) == variant.on_hand
    assert 'name="csrfmiddlewaretoken"' in form and 'name="nonce"' in form
    assert product.name in html


def test_a_sold_out_variant_cannot_be_added(client, catalog):
    product, variant = _product_with(catalog, lambda p, v: v.on_hand == 0)

    html = client.get(f"/products/{product.slug}/?variant={variant.sku}").content.decode()

    assert 'data-available="0"' in html
    assert re.search(r"<button type=\"submit\" disabled>Sold out</button>", html)


def test_a_combination_that_is_not_made_is_shown_disabled(client, catalog):
    def missing_size(product, variant):
        pairs = {(v.colour, v.size) for v in product.variants}
        return any((variant.colour, size) not in pairs for size in product.sizes)

    product, variant = _product_with(catalog, missing_size)
    pairs = {(v.colour, v.size) for v in product.variants}
    missing = next(size for size in product.sizes if (variant.colour, size) not in pairs)

    html = client.get(f"/products/{product.slug}/?variant={variant.sku}").content.decode()

    assert re.search(rf'<span class="choice size-choice disabled" aria-disabled="true" title="not made in '
                     rf'{re.escape(variant.colour)}">{re.escape(missing)}</span>', html)


def test_each_page_gets_a_fresh_nonce(client, catalog):
    url = f"/products/{catalog.products[0].slug}/"
    first = _attr(client.get(url).content.decode(), 'name="nonce" value')
    second = _attr(client.get(url).content.decode(), 'name="nonce" value')
    assert first and second and first != second


@pytest.mark.parametrize("path", [
    "/products/no-such-product/",
    "/collections/no-such-collection/",
    "/images/mug/zzzzzz.svg",
    "/images/spaceship/ff0000.svg",
])
def test_unknown_things_are_404_pages_in_the_shop_layout(client, path):
    response = client.get(path)
    assert response.status_code == 404
    if not path.startswith("/images/"):
        assert 'action="/search/"' in response.content.decode()


def test_an_unknown_variant_of_a_real_product_is_a_404(client, catalog):
    response = client.get(f"/products/{catalog.products[0].slug}/?variant=NOPE-123")
    assert response.status_code == 404


@pytest.mark.parametrize("query", [
    "page=-1", "page=abc", "page=99999999999999999999", "price_min=abc", "price_max=1e309",
    "q=" + "x" * 10_000, "sort=%00", "color=" + "c" * 500, "size=M&size=M&size=L",
])
def test_malformed_query_strings_give_a_normal_page(client, query):
    response = client.get(f"/search/?{query}")
    assert response.status_code == 200
    assert 'data-testid="result-count"' in response.content.decode()


def test_product_pictures_are_svg_with_a_long_cache(client):
    response = client.get("/images/mug/1f2a44.svg")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "immutable" in response["Cache-Control"]
    assert b'fill="#1f2a44"' in response.content


def test_the_storefront_refuses_posts_to_read_only_pages(client):
    assert client.post("/search/").status_code in (403, 405)


def _total(response) -> int:
    return int(_attr(response.content.decode(), "data-total"))


@pytest.mark.parametrize("query", [
    "price_min=1e999999",
    "price_min=1E%2B999997",
    "price_max=1e999999",
    "price_min=%D9%A3",
    "price_max=NaN",
])
def test_it_ignores_a_price_with_a_huge_exponent_or_foreign_digits(client, query):
    unfiltered = client.get("/search/")

    response = client.get(f"/search/?{query}")

    assert response.status_code == 200
    assert _total(response) == _total(unfiltered)
    html = response.content.decode()
    assert 'name="price_min" inputmode="decimal" size="5" value=""' in html
    assert 'name="price_max" inputmode="decimal" size="5" value=""' in html


def test_it_ignores_a_page_number_written_in_another_script(client):
    response = client.get("/search/?page=%D9%A3")  # Arabic-Indic three, which int() would read as 3

    assert response.status_code == 200
    assert 'data-testid="page">1<' in response.content.decode()


def test_a_picture_colour_with_a_trailing_newline_is_a_404(client):
    assert client.get("/images/mug/1f2a44%0A.svg").status_code == 404
