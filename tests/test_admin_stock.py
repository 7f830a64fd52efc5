"""The admin stock page: staff only, shows on hand / reserved / available, restocks through the service."""

import re

import pytest
from django.contrib.auth import get_user_model

from tests.stock_helpers import fresh_sku, levels

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog", "running_workers")]


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_user("staff", password="a-long-password-1", is_staff=True,
                                                is_superuser=True)
    client.force_login(user)
    return client


def test_the_stock_page_is_staff_only(client):
    get_user_model().objects.create_user("shopper", password="a-long-password-1")
    client.login(username="shopper", password="a-long-password-1")

    response = client.get("/admin/inventory/stock/?q=anything")

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_it_shows_stock_for_a_sku_and_for_a_product(staff_client, catalog):
    product = catalog.products[5]
    sku = product.variants[0].sku
    fresh_sku(9, sku=sku)

    by_sku = staff_client.get(f"/admin/inventory/stock/?q={sku}").content.decode()
    by_product = staff_client.get(f"/admin/inventory/stock/?q={product.slug}").content.decode()

    row = re.search(rf'<tr data-sku="{sku}">(.*?)</tr>', by_sku, re.S).group(1)
    assert '<td class="on-hand">9</td>' in row and '<td class="available">9</td>' in row
    assert all(f'data-sku="{v.sku}"' in by_product for v in product.variants)


def test_restocking_adds_units(staff_client, catalog):
    sku = catalog.products[6].variants[0].sku
    fresh_sku(2, sku=sku)
    supplier = re.search(r'name="supplier_id" value="([^"]+)"',
                         staff_client.get(f"/admin/inventory/stock/?q={sku}").content.decode()).group(1)

    response = staff_client.post("/admin/inventory/stock/", {"sku": sku, "supplier_id": supplier, "quantity": 5},
                                 follow=True)

    assert levels(sku)[0] == 7
    assert "7 on hand" in response.content.decode()


def test_a_bad_restock_changes_nothing(staff_client, catalog):
    sku = catalog.products[7].variants[0].sku
    fresh_sku(2, sku=sku)

    response = staff_client.post("/admin/inventory/stock/", {"sku": sku, "supplier_id": "x", "quantity": "lots"},
                                 follow=True)

    assert levels(sku)[0] == 2
    assert "whole number" in response.content.decode()


def test_the_admin_index_links_the_stock_page(staff_client):
    assert 'href="/admin/inventory/stock/"' in staff_client.get("/admin/").content.decode()
