"""The staff console's stock pages, through HTTP with real logins against the real stack: the list
(found through the search index, counted from the stock rows), search and the low-stock filter, a
SKU's page with its holds and change history, restock and adjust applied once with a reason through
the inventory domain (a workflow per command), the roles, the dashboard tile, stores that are down,
and the `restock` command."""

import html
import io
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command

from cart import services as cart_services
from inventory import stock
from inventory.documents import ProductDocument
from inventory.models import StockChangeRecord
from tests.console_helpers import logged_in
from tests.outages import cassandra_unreachable
from tests.stock_helpers import fresh_sku, levels

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog", "workers_in_thread")]

LIST = "/admin/inventory/inventorystock/"


def sku_url(sku: str) -> str:
    return f"{LIST}{sku}/change/"


def _staff(client, username: str, *permissions: str):
    user = get_user_model().objects.create_user(username, password="a-long-password-1", is_staff=True)
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="inventory", codename=codename))
    client.force_login(user)
    return client


@pytest.fixture
def keeper(client):
    return _staff(client, "stock-keeper", "view_inventorystock", "change_inventorystock")


def _page(client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _skus(page: str) -> list[str]:
    return re.findall(r'<tr data-sku="([^"]+)"', page)


def _row(page: str, sku: str) -> str:
    return re.search(rf'<tr data-sku="{re.escape(sku)}"[^>]*>(.*?)</tr>', page, re.S).group(1)


def _messages(page: str) -> str:
    found = re.search(r'<ul class="messagelist">(.*?)</ul>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))) if found else ""


def _form(page: str, form_id: str) -> dict:
    """A change form's hidden fields and its first supplier, as the browser would send them."""
    form = re.search(rf'<form method="post" id="{form_id}">(.*?)</form>', page, re.S).group(1)
    fields = dict(re.findall(r'type="hidden" name="(kind|action_id)" value="([^"]+)"', form))
    fields["supplier_id"] = re.search(r'<option value="([^"]+)"', form).group(1)
    return fields


def _supplier(sku: str) -> str:
    return stock.stock_rows(sku)[0].supplier_id


def _eventually(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


def _indexed_available(slug: str, sku: str) -> int:
    ProductDocument._index.refresh()
    return next(v.available for v in ProductDocument.get(id=slug).variants if v.sku == sku)


# -- who may see and change -------------------------------------------------------------------

def test_non_staff_are_sent_to_login_from_every_stock_page(client, catalog):
    sku = catalog.products[3].variants[0].sku
    client.force_login(get_user_model().objects.create_user("shopper", password="a-long-password-1"))

    responses = [client.get(LIST), client.get(f"{LIST}?low=1"), client.get(sku_url(sku)),
                 client.post(sku_url(sku), {"kind": "restock", "action_id": uuid.uuid4().hex,
                                            "supplier_id": _supplier(sku), "units": 5, "reason": "x"})]

    assert all(r.status_code == 302 and "/admin/login/" in r["Location"] for r in responses)


def test_staff_without_the_view_permission_are_refused(client, catalog):
    _staff(client, "packer")

    assert client.get(LIST).status_code == 403
    assert client.get(sku_url(catalog.products[3].variants[0].sku)).status_code == 403


def test_a_support_user_sees_no_change_form_and_a_forged_post_is_refused(client, catalog):
    sku = catalog.products[8].variants[0].sku
    fresh_sku(4, sku=sku)
    logged_in(client, "support-1", "Support")

    page = _page(client, sku_url(sku))
    refused = client.post(sku_url(sku), {"kind": "restock", "action_id": uuid.uuid4().hex,
                                         "supplier_id": _supplier(sku), "units": 5, "reason": "x"})

    assert '<td class="on-hand">4</td>' in page
    assert 'id="restock-form"' not in page and 'id="adjust-form"' not in page and 'name="units"' not in page
    assert refused.status_code == 403 and levels(sku)[0] == 4


def test_a_manager_can_restock(client, catalog):
    sku = catalog.products[13].variants[0].sku
    fresh_sku(1, sku=sku)
    logged_in(client, "manager-1", "Managers")
    form = _form(_page(client, sku_url(sku)), "restock-form")

    page = client.post(sku_url(sku), {**form, "units": "6", "reason": "delivery"}, follow=True).content.decode()

    assert levels(sku)[0] == 7 and "7 on hand" in _messages(page)


# -- the list ---------------------------------------------------------------------------------

def test_the_list_shows_stock_rows_without_a_search_a_page_at_a_time(keeper, catalog):
    first = _page(keeper, LIST)
    next_url = html.unescape(re.search(r'<a href="([^"]+)" rel="next">', first).group(1))
    second = _page(keeper, LIST + next_url)

    assert len(_skus(first)) == 50 and re.search(r"SKUs 1&ndash;50 of \d+", first)
    assert len(_skus(second)) == 50 and "SKUs 51&ndash;100 of" in second
    assert not set(_skus(first)) & set(_skus(second)) and max(_skus(first)) < min(_skus(second))
    sku = _skus(first)[0]
    product = next(p for p in catalog.products if sku in {v.sku for v in p.variants})
    row = _row(first, sku)
    assert f'href="/products/{product.slug}/?variant={sku}"' in row and html.escape(product.name) in row
    assert f'href="{sku_url(sku)}"' in row
    assert "refreshes a few seconds after each change" in first


def test_a_search_by_sku_or_by_product_finds_its_stock(keeper, catalog):
    product = catalog.products[5]
    sku = product.variants[0].sku
    fresh_sku(9, sku=sku)

    by_sku = _page(keeper, LIST, q=sku)
    by_slug = _page(keeper, LIST, q=product.slug)
    by_name = _page(keeper, LIST, q=product.name.lower())

    assert _skus(by_sku) == [sku]
    row = _row(by_sku, sku)
    assert '<td class="on-hand">9</td>' in row and '<td class="available">9</td>' in row
    assert _skus(by_slug) == sorted(v.sku for v in product.variants)
    assert {v.sku for v in product.variants} <= set(_skus(by_name))
    assert _skus(_page(keeper, LIST, q="no-such-product-anywhere")) == []


def test_the_low_stock_filter_lists_a_sku_brought_low_and_not_a_well_stocked_one(keeper, catalog):
    product = catalog.products[12]
    low, well = product.variants[0].sku, product.variants[1].sku
    fresh_sku(0, sku=low)
    fresh_sku(40, sku=well)
    # A stock change tells the inventory service, which projects both SKUs into the index.
    for sku in (low, well):
        form = _form(_page(keeper, sku_url(sku)), "restock-form")
        keeper.post(sku_url(sku), {**form, "units": "1", "reason": "recount"})
    assert _eventually(lambda: (_indexed_available(product.slug, low), _indexed_available(product.slug, well))
                       == (1, 41))

    page = _page(keeper, LIST, q=product.slug, low="1")

    assert low in _skus(page) and well not in _skus(page)
    assert '<td class="available console-warning">1</td>' in _row(page, low)
    assert low in _skus(_page(keeper, LIST, q=low, low="1")) and _skus(_page(keeper, LIST, q=well, low="1")) == []


# -- a SKU's page -----------------------------------------------------------------------------

def test_a_skus_page_lists_a_carts_hold_with_its_expiry_and_an_orders_confirmed_hold(keeper, catalog):
    sku = catalog.products[14].variants[0].sku
    fresh_sku(6, sku=sku)
    cart_id = uuid.uuid4().hex
    async_to_sync(cart_services.add_item)(cart_id, sku, 2, uuid.uuid4().hex)
    rid = f"cart-{cart_id}-{sku}"
    expires_at = next(row.hold_expiry[rid] for row in stock.stock_rows(sku, serial=True) if rid in row.holds)
    ordered = f"cart-{uuid.uuid4().hex}-{sku}"
    stock.hold(ordered, sku, 1, expires_at)
    stock.confirm(ordered, sku)

    page = _page(keeper, sku_url(sku))

    held = re.search(rf'<tr class="hold" data-reservation="{rid}">(.*?)</tr>', page, re.S).group(1)
    assert '<td class="units">2</td>' in held and f'datetime="{expires_at.isoformat()}"' in held and cart_id in held
    confirmed = re.search(rf'<tr class="hold" data-reservation="{ordered}">(.*?)</tr>', page, re.S).group(1)
    assert "confirmed: an order owns these units" in confirmed
    level = re.search(r'<tr data-supplier="[^"]+">(.*?)</tr>', page, re.S).group(1)
    assert '<td class="reserved">3</td>' in level and '<td class="available console-warning">3</td>' in level
    stock.release(rid, sku)
    stock.release(ordered, sku)


def test_an_unknown_sku_has_no_page_but_a_message(keeper):
    response = keeper.get(sku_url("TST-NOSUCHSKU"), follow=True)

    assert response.redirect_chain[-1][0] == LIST
    assert "There is no stock of SKU “TST-NOSUCHSKU”" in _messages(response.content.decode())


# -- restock and adjust -----------------------------------------------------------------------

def test_a_restock_applies_once_however_often_the_form_is_sent(keeper, catalog):
    sku = catalog.products[6].variants[0].sku
    fresh_sku(2, sku=sku)
    form = _form(_page(keeper, sku_url(sku)), "restock-form")

    post = {**form, "units": "5", "reason": "delivery from the mill"}
    first = keeper.post(sku_url(sku), post, follow=True).content.decode()
    second = keeper.post(sku_url(sku), post, follow=True).content.decode()

    assert levels(sku)[0] == 7
    assert "Restock of +5" in _messages(first) and "7 on hand" in _messages(first)
    assert "applied already" in _messages(second) and "7 on hand" in _messages(second)
    records = [r for r in StockChangeRecord.objects.filter(sku=sku) if r.command_id == form["action_id"]]
    assert [(r.delta, r.reason, r.actor, r.on_hand_after) for r in records] == [
        (5, "delivery from the mill", "stock-keeper", 7)]
    change = re.search(rf'<tr class="stock-change" data-command="{form["action_id"]}">(.*?)</tr>', second, re.S)
    assert "delivery from the mill" in change.group(1) and "stock-keeper" in change.group(1)
    logged = LogEntry.objects.filter(object_id=sku, content_type__model="inventorystock")
    assert [(e.user.username, e.change_message) for e in logged] == [
        ("stock-keeper", f"Restock +5 at {form['supplier_id']}: delivery from the mill (7 on hand)")]


def test_an_adjustment_corrects_the_count_down_once(keeper, catalog):
    sku = catalog.products[15].variants[0].sku
    fresh_sku(10, sku=sku)
    form = _form(_page(keeper, sku_url(sku)), "adjust-form")

    post = {**form, "delta": "-3", "reason": "two damaged, one missing"}
    keeper.post(sku_url(sku), post)
    page = keeper.post(sku_url(sku), post, follow=True).content.decode()

    assert levels(sku)[0] == 7 and '<td class="on-hand">7</td>' in page
    records = [r for r in StockChangeRecord.objects.filter(sku=sku) if r.command_id == form["action_id"]]
    assert [(r.delta, r.reason, r.actor) for r in records] == [(-3, "two damaged, one missing", "stock-keeper")]
    assert LogEntry.objects.filter(object_id=sku, change_message__startswith="Adjustment -3").count() == 1


def test_a_correction_below_what_is_held_is_refused_with_the_reason(keeper, catalog):
    sku = catalog.products[9].variants[0].sku
    fresh_sku(3, sku=sku)
    rid = f"{sku}-held"
    stock.hold(rid, sku, 2, datetime.now(UTC) + timedelta(minutes=5))
    form = _form(_page(keeper, sku_url(sku)), "adjust-form")

    page = keeper.post(sku_url(sku), {**form, "delta": "-3", "reason": "count"}, follow=True).content.decode()

    assert levels(sku)[0] == 3
    assert "Adjustment refused" in _messages(page) and "2 units are held" in _messages(page)
    assert not LogEntry.objects.filter(object_id=sku).exists()
    stock.release(rid, sku)


@pytest.mark.parametrize("kind,fields,message", [
    ("restock", {"units": "lots"}, "Units received: Enter a positive whole number"),
    ("restock", {"units": "0"}, "zero units changes nothing"),
    ("restock", {"units": "-3"}, "Units received: Enter a positive whole number"),
    ("restock", {"units": "1e9"}, "Units received: Enter a positive whole number"),
    ("restock", {"units": "100001"}, "At most 100,000 units"),
    ("restock", {"units": "99999999999999999999"}, "Units received"),
    ("adjust", {"delta": "0"}, "zero units changes nothing"),
    ("adjust", {"delta": "--2"}, "Correction: Enter a whole number"),
    ("adjust", {"delta": "-100001"}, "At most 100,000 units"),
    ("adjust", {"delta": "2", "reason": ""}, "Reason: This field is required"),
    ("adjust", {"delta": "2", "reason": "x" * 201}, "Reason: Ensure this value has at most 200 characters"),
    ("adjust", {"delta": "2", "supplier_id": "nowhere-ltd"}, "There is no stock of SKU"),
    ("adjust", {"delta": "2", "supplier_id": "<b>"}, "Supplier: Choose one of this SKU's suppliers"),
    ("adjust", {"delta": "2", "action_id": "not-an-id"}, "That form has expired"),
    ("steal", {"delta": "2"}, "Choose a restock or an adjustment"),
])
def test_a_bad_stock_change_changes_nothing_and_says_why(keeper, catalog, kind, fields, message):
    sku = catalog.products[7].variants[0].sku
    fresh_sku(2, sku=sku)
    post = {"kind": kind, "action_id": uuid.uuid4().hex, "supplier_id": _supplier(sku), "reason": "oops", **fields}

    page = keeper.post(sku_url(sku), post, follow=True).content.decode()

    assert levels(sku)[0] == 2
    assert message in _messages(page)
    assert not LogEntry.objects.filter(object_id=sku).exists()


def test_a_change_to_an_unknown_sku_is_refused(keeper):
    page = keeper.post(sku_url("TST-NOSUCHSKU"), {"kind": "restock", "action_id": uuid.uuid4().hex,
                                                 "supplier_id": "heron-warehouse", "units": "3", "reason": "x"},
                       follow=True).content.decode()

    assert "There is no stock of SKU 'TST-NOSUCHSKU'" in _messages(page)
    assert levels("TST-NOSUCHSKU") == (0, 0, {})


# -- the dashboard ----------------------------------------------------------------------------

def _tile(page: str, title: str) -> tuple[str, str]:
    found = re.search(rf'<a href="([^"]*)">\s*<span class="dashboard-value">([^<]*)</span>\s*'
                      rf'<span class="dashboard-title">{title}</span>', page)
    assert found, f"no {title!r} tile"
    return html.unescape(found.group(1)), found.group(2)


def _indexed_low_skus() -> int:
    ProductDocument._index.refresh()
    return sum(1 for doc in ProductDocument.search().scan() for v in doc.variants
               if v.available <= settings.INVENTORY_LOW_STOCK_UNITS)


def test_the_dashboard_tile_counts_low_stock_skus_and_links_the_filtered_list(keeper, catalog):
    # The index moves while projections land: compare a count and the tile taken back to back.
    def tile_matches() -> bool:
        expected = _indexed_low_skus()
        return _tile(_page(keeper, "/admin/"), "Low stock") == (f"{LIST}?low=1", str(expected))

    assert _eventually(tile_matches)
    assert 'href="/admin/inventory/inventorystock/"' in _page(keeper, "/admin/")


def test_staff_who_may_not_see_stock_get_no_low_stock_tile(client):
    _staff(client, "clerk")

    assert "Low stock" not in client.get("/admin/").content.decode()


# -- stores that are down ---------------------------------------------------------------------



def test_with_elasticsearch_down_the_list_says_so_and_a_skus_page_still_works(keeper, catalog, elasticsearch_down):
    sku = catalog.products[4].variants[0].sku

    page = _page(keeper, LIST, q=sku)
    sku_page = _page(keeper, sku_url(sku))
    index = _page(keeper, "/admin/")

    assert "The search index (Elasticsearch) is not answering" in page and 'id="result_list"' not in page
    assert f'href="{sku_url(sku)}"' in page
    assert 'id="restock-form"' in sku_page
    assert _tile(index, "Low stock")[1] == "—"


def test_with_cassandra_down_the_stock_pages_say_so(keeper, catalog):
    sku = catalog.products[4].variants[0].sku
    with cassandra_unreachable():
        listed = keeper.get(LIST)
        sku_page = keeper.get(sku_url(sku))

    assert listed.status_code == 200 and "The stock table (Cassandra) is not answering" in listed.content.decode()
    assert sku_page.status_code == 503 and "The stock table (Cassandra) is not answering" in _messages(
        sku_page.content.decode())


# -- the operator command ---------------------------------------------------------------------

def test_the_restock_command_applies_a_command_id_once(catalog):
    sku = catalog.products[10].variants[0].sku
    fresh_sku(1, sku=sku)
    supplier = _supplier(sku)
    command_id = uuid.uuid4().hex

    for _ in range(2):
        out = io.StringIO()
        call_command("restock", sku, supplier, "4", reason="found a box", command_id=command_id, stdout=out)

    assert levels(sku)[0] == 5 and "5 on hand" in out.getvalue()
    with pytest.raises(CommandError, match="whole number"):
        call_command("restock", sku, supplier, "1e999999", reason="x", stdout=io.StringIO())
