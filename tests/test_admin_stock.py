"""The admin stock page: view and change permissions, stock changes applied once with a reason
through the inventory domain (a workflow per command), and the `restock` command."""

import io
import re
import uuid
from datetime import UTC

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command

from inventory.models import StockChangeRecord
from tests.stock_helpers import fresh_sku, levels

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog", "workers_in_thread")]


def _staff(client, username: str, *permissions: str):
    user = get_user_model().objects.create_user(username, password="a-long-password-1", is_staff=True)
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="inventory", codename=codename))
    client.force_login(user)
    return client


@pytest.fixture
def staff_client(client):
    return _staff(client, "stock-keeper", "view_inventorystock", "change_inventorystock")


def _form(page: str, sku: str) -> dict:
    row = re.search(rf'<tr data-sku="{sku}">(.*?)</tr>', page, re.S).group(1)
    return dict(re.findall(r'name="(command_id|sku|supplier_id)" value="([^"]+)"', row))


def test_the_stock_page_is_staff_only(client):
    get_user_model().objects.create_user("shopper", password="a-long-password-1")
    client.login(username="shopper", password="a-long-password-1")

    response = client.get("/admin/inventory/stock/?q=anything")

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_without_the_view_permission_are_refused(client):
    _staff(client, "packer")

    assert client.get("/admin/inventory/stock/?q=anything").status_code == 403


def test_staff_who_may_only_view_see_stock_and_cannot_change_it(client, catalog):
    sku = catalog.products[8].variants[0].sku
    fresh_sku(4, sku=sku)
    _staff(client, "viewer", "view_inventorystock")

    page = client.get(f"/admin/inventory/stock/?q={sku}").content.decode()
    refused = client.post("/admin/inventory/stock/", {"command_id": uuid.uuid4().hex, "sku": sku,
                                                      "supplier_id": "heron-warehouse", "delta": 5, "reason": "x"})

    assert '<td class="on-hand">4</td>' in page and 'name="delta"' not in page
    assert refused.status_code == 403 and levels(sku)[0] == 4


def test_it_shows_stock_for_a_sku_and_for_a_product(staff_client, catalog):
    product = catalog.products[5]
    sku = product.variants[0].sku
    fresh_sku(9, sku=sku)

    by_sku = staff_client.get(f"/admin/inventory/stock/?q={sku}").content.decode()
    by_product = staff_client.get(f"/admin/inventory/stock/?q={product.slug}").content.decode()

    row = re.search(rf'<tr data-sku="{sku}">(.*?)</tr>', by_sku, re.S).group(1)
    assert '<td class="on-hand">9</td>' in row and '<td class="available">9</td>' in row
    assert all(f'data-sku="{v.sku}"' in by_product for v in product.variants)


def test_a_stock_change_applies_once_however_often_the_form_is_sent(staff_client, catalog):
    sku = catalog.products[6].variants[0].sku
    fresh_sku(2, sku=sku)
    form = _form(staff_client.get(f"/admin/inventory/stock/?q={sku}").content.decode(), sku)

    post = {**form, "delta": 5, "reason": "delivery from the mill"}
    first = staff_client.post("/admin/inventory/stock/", post, follow=True)
    second = staff_client.post("/admin/inventory/stock/", post, follow=True)

    assert levels(sku)[0] == 7
    assert "7 on hand" in first.content.decode() and "7 on hand" in second.content.decode()
    records = [r for r in StockChangeRecord.objects.filter(sku=sku) if r.command_id == form["command_id"]]
    assert [(r.delta, r.reason, r.actor, r.on_hand_after) for r in records] == [
        (5, "delivery from the mill", "stock-keeper", 7)]
    assert "delivery from the mill" in second.content.decode()


def test_a_correction_below_what_is_held_is_refused_with_the_reason(staff_client, catalog):
    sku = catalog.products[9].variants[0].sku
    fresh_sku(3, sku=sku)
    from datetime import datetime, timedelta

    from inventory import stock
    stock.hold(f"{sku}-held", sku, 2, datetime.now(UTC) + timedelta(minutes=5))
    form = _form(staff_client.get(f"/admin/inventory/stock/?q={sku}").content.decode(), sku)

    response = staff_client.post("/admin/inventory/stock/", {**form, "delta": -3, "reason": "count"}, follow=True)

    assert levels(sku)[0] == 3
    assert "2 units are held" in response.content.decode()
    stock.release(f"{sku}-held")


@pytest.mark.parametrize("delta,message", [("lots", "Delta"), ("0", "zero"), ("1e9", "Delta"),
                                           ("100001", "Delta")])
def test_a_bad_stock_change_changes_nothing(staff_client, catalog, delta, message):
    sku = catalog.products[7].variants[0].sku
    fresh_sku(2, sku=sku)

    response = staff_client.post("/admin/inventory/stock/", {"command_id": uuid.uuid4().hex, "sku": sku,
                                                             "supplier_id": "heron-warehouse", "delta": delta,
                                                             "reason": "oops"}, follow=True)

    assert levels(sku)[0] == 2
    assert message in response.content.decode()


def test_the_admin_index_links_the_stock_page(staff_client):
    assert 'href="/admin/inventory/stock/"' in staff_client.get("/admin/").content.decode()


def test_the_restock_command_applies_a_command_id_once(catalog):
    sku = catalog.products[10].variants[0].sku
    fresh_sku(1, sku=sku)
    supplier = "heron-warehouse"
    from inventory.stock import stock_rows
    supplier = stock_rows(sku)[0].supplier_id
    command_id = uuid.uuid4().hex

    for _ in range(2):
        out = io.StringIO()
        call_command("restock", sku, supplier, "4", reason="found a box", command_id=command_id, stdout=out)

    assert levels(sku)[0] == 5 and "5 on hand" in out.getvalue()
    with pytest.raises(CommandError, match="whole number"):
        call_command("restock", sku, supplier, "1e999999", reason="x", stdout=io.StringIO())
