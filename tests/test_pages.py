import pytest

pytestmark = pytest.mark.django_db


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
