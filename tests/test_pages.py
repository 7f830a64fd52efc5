import pytest

pytestmark = pytest.mark.django_db


def test_the_shop_opens_before_the_catalog_is_indexed(client):
    from inventory import services
    from inventory.documents import CollectionDocument, ProductDocument

    # The documents were bound to their index names at import; point them at indices that do not exist.
    original = (ProductDocument._index._name, CollectionDocument._index._name)
    ProductDocument._index._name = "never-indexed-products"
    CollectionDocument._index._name = "never-indexed-collections"
    services._collections_cache = None
    try:
        home = client.get("/")
        search = client.get("/search/?q=shirt")
    finally:
        ProductDocument._index._name, CollectionDocument._index._name = original
        services._collections_cache = None

    assert home.status_code == 200 and "catalog is empty" in home.content.decode()
    assert search.status_code == 200 and 'data-total="0"' in search.content.decode()


@pytest.mark.usefixtures("catalog")
def test_the_home_page_has_the_shop_layout(client):
    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<form class="search" action="/search/" method="get"' in html
    assert 'href="/cart/"' in html
    assert "<footer" in html


def test_an_unknown_page_is_a_404_in_the_shop_layout(client):
    response = client.get("/no-such-page/")

    html = response.content.decode()
    assert response.status_code == 404
    assert "We couldn't find that page" in html
    assert 'action="/search/"' in html


def test_static_files_are_served_with_caching_headers(client):
    response = client.get("/static/commerce/shop.css")

    assert response.status_code == 200
    assert "max-age=" in response.headers["Cache-Control"]


def test_the_server_error_page_stands_alone_and_links_home(rf):
    from commerce.views import server_error

    response = server_error(rf.get("/"))

    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html and 'href="/"' in html
