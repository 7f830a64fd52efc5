"""The staff console's order list against the real stack: real order workflows (manual fulfillment, so
nothing moves unless staff move it) indexed by their record activity, searched, filtered, sorted and
paged through the admin page with real logins; bulk approve on the live workflows, applied once; the
dashboard's figures; and Elasticsearch down."""

from __future__ import annotations

import html
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from django.contrib.admin.models import LogEntry
from django.test import override_settings
from django.utils import timezone

from commerce.search import es, index_name
from commerce.temporal import get_client
from orders import history, listing, staff
from orders.admin import order_list
from orders.contracts import TASK_QUEUE, OrderInput, OrderStatus, OrderWorkflows, order_workflow_id
from tests.console_helpers import logged_in, shopper
from tests.order_helpers import placed_order
from tests.stock_helpers import fresh_sku

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog", "workers_in_thread")]

LIST = "/admin/orders/order/"
WAIT_SECONDS = 60
THRESHOLD_CENTS = 10_000  # orders above it wait for approval
OMS = {"FULFILLMENT_MANUAL": True, "ORDER_APPROVAL_THRESHOLD_CENTS": THRESHOLD_CENTS,
       "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}


# -- orders, placed as a checkout leaves them and run by their workflows ------------------------------

def _sku_source(products):
    """Fresh-stocked SKUs by supplier (each call a new one), from products no other module takes."""
    by_supplier: dict[str, list] = {}
    for product in products:
        by_supplier.setdefault(product.supplier_id, []).extend(product.variants)
    taken = {supplier: iter(variants) for supplier, variants in sorted(by_supplier.items())}

    def take(supplier: str) -> str:
        sku = next(taken[supplier]).sku
        fresh_sku(20, sku=sku)
        return sku

    return take, sorted(by_supplier)


def _place(sku: str, unit_cents: int, quantity: int, name: str, email: str, placed_at: datetime) -> OrderInput:
    order = placed_order(sku, quantity, unit_cents, email, name, placed_at)
    async_to_sync(_start)(order)
    return order


async def _start(order: OrderInput) -> None:
    client = await get_client()
    await client.start_workflow(OrderWorkflows.ORDER, order, id=order_workflow_id(order.order_number),
                                task_queue=TASK_QUEUE)


def _indexed(number: str, ready) -> dict:
    """The order's `orders` document once `ready(source)` holds (the record activity writes it)."""
    source: dict = {}
    for _ in range(WAIT_SECONDS * 10):
        es().indices.refresh(index=index_name("orders"))
        found = es().search(index=index_name("orders"), query={"term": {"order_number": number}})["hits"]["hits"]
        source = found[0]["_source"] if found else {}
        if source and ready(source):
            return source
        time.sleep(0.1)
    raise AssertionError(f"order {number} never indexed as expected: {source}")


def _settled(source: dict) -> bool:
    """Waiting for approval, or planned with its suppliers (and so waiting for staff's manual steps)."""
    return source["status"] == OrderStatus.AWAITING_APPROVAL or (
        source["status"] == OrderStatus.PROCESSING and bool(source["suppliers"]))


@dataclass(frozen=True)
class Placed:
    tag: str  # every customer of this run has this word in their name
    orders: dict  # first name -> OrderInput
    suppliers: dict  # first name -> supplier id
    old_day: object  # the day (site's time zone) the older orders were placed on

    def number(self, first_name: str) -> str:
        return self.orders[first_name].order_number


@pytest.fixture(scope="module")
def placed(catalog, workers_in_thread, django_db_blocker):
    """Six orders of one run: three today, three days ago; two above the threshold awaiting approval."""
    take, suppliers = _sku_source(catalog.products[330:365])
    tag = f"Lister{uuid.uuid4().hex[:8]}"
    now, old = datetime.now(UTC), datetime.now(UTC) - timedelta(days=3)
    plan = {  # first name: (supplier, unit cents, quantity, placed at)
        "Ada": (suppliers[0], 2500, 1, now),
        "Bea": (suppliers[1], 2500, 3, now),
        "Cy": (suppliers[0], 4000, 1, old),
        "Dee": (suppliers[1], 20_000, 1, now),
        "Eve": (suppliers[0], 15_000, 2, old),
        "Flo": (suppliers[1], 9_000, 1, old),
    }
    with django_db_blocker.unblock(), override_settings(**OMS):
        orders = {first: _place(take(supplier), cents, quantity, f"{first} {tag}", f"{first.lower()}.{tag}@example.com",
                                moment)
                  for first, (supplier, cents, quantity, moment) in plan.items()}
        for order in orders.values():
            _indexed(order.order_number, _settled)
    return Placed(tag, orders, {first: supplier for first, (supplier, *_) in plan.items()},
                  timezone.localtime(old).date())


# -- the page ---------------------------------------------------------------------------------------

def _numbers(page: str) -> list[str]:
    return re.findall(r'<tr data-order="([^"]+)"', page)


def _messages(page: str) -> str:
    found = re.search(r'<ul class="messagelist">(.*?)</ul>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))) if found else ""


def _get(client, query: str = "", **params) -> str:
    response = client.get(LIST, params) if params else client.get(LIST + query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def manager(client):
    client.username = f"manager-{uuid.uuid4().hex[:6]}"
    return logged_in(client, client.username, "Managers")


@pytest.fixture
def support(client):
    return logged_in(client, f"support-{uuid.uuid4().hex[:6]}", "Support")


def test_a_search_finds_orders_by_number_whole_or_begun_email_and_name(support, placed):
    ada = placed.number("Ada")

    assert _numbers(_get(support, q=ada)) == [ada]
    assert ada in _numbers(_get(support, q=ada.lower()[:9]))  # "hc-" and the first characters
    assert ada in _numbers(_get(support, q=ada[3:9].lower()))  # without the prefix
    assert _numbers(_get(support, q=f"ADA.{placed.tag}@Example.com")) == [ada]
    assert _numbers(_get(support, q=f"ada {placed.tag.lower()}")) == [ada]
    assert sorted(_numbers(_get(support, q=placed.tag))) == sorted(o.order_number for o in placed.orders.values())


def test_a_row_shows_the_order_as_the_index_has_it(support, placed):
    bea = placed.orders["Bea"]

    page = _get(support, q=bea.order_number)

    row = re.search(r'<tr data-order="[^"]+".*?</tr>', page, re.S).group(0)
    assert f"Bea {placed.tag}" in row and f"bea.{placed.tag}@example.com".lower() in row
    assert "<td>Processing</td>" in row and "<td>$75.00</td>" in row and "<td>3</td>" in row
    assert placed.suppliers["Bea"] in row
    assert timezone.localtime(datetime.fromisoformat(bea.placed_at)).strftime("%Y-%m-%d %H:%M") in row


def test_the_filters_narrow_the_list_to_the_expected_orders(support, placed):
    def found(**params) -> set[str]:
        return set(_numbers(_get(support, q=placed.tag, **params)))

    number = placed.number
    day = placed.old_day.isoformat()
    assert found(status=OrderStatus.AWAITING_APPROVAL) == {number("Dee"), number("Eve")}
    assert found(status=OrderStatus.PROCESSING) == {number("Ada"), number("Bea"), number("Cy"), number("Flo")}
    assert found(needs_approval="1") == {number("Dee"), number("Eve")}
    assert found(needs_approval="0") == {number("Ada"), number("Bea"), number("Cy"), number("Flo")}
    assert found(placed_from=day, placed_to=day) == {number("Cy"), number("Eve"), number("Flo")}
    assert found(placed_from=(placed.old_day + timedelta(days=1)).isoformat()) == {
        number("Ada"), number("Bea"), number("Dee")}
    # A supplier order is planned once the order is approved: the ones awaiting approval have none yet.
    supplier = placed.suppliers["Ada"]
    assert found(supplier=supplier) == {number(first) for first in ("Ada", "Bea", "Cy", "Flo")
                                        if placed.suppliers[first] == supplier}
    assert found(supplier=supplier, placed_from=day, placed_to=day, status=OrderStatus.PROCESSING) == {
        number(first) for first in ("Cy", "Flo") if placed.suppliers[first] == supplier}


def test_placed_dates_are_days_in_the_sites_time_zone(support, placed, settings):
    settings.TIME_ZONE = "Pacific/Kiritimati"  # UTC+14: most of the day, its date is not UTC's
    cy = placed.orders["Cy"]
    day = timezone.localtime(datetime.fromisoformat(cy.placed_at)).date()
    assert str(timezone.get_current_timezone()) == "Pacific/Kiritimati"

    found = set(_numbers(_get(support, q=placed.tag, placed_from=day.isoformat(), placed_to=day.isoformat())))
    before = set(_numbers(_get(support, q=placed.tag, placed_to=(day - timedelta(days=1)).isoformat())))

    assert found == {placed.number(first) for first in ("Cy", "Eve", "Flo")} and not before


def test_the_list_sorts_by_total_and_by_placed_date_both_ways(support, placed):
    by_total = sorted(placed.orders.values(), key=lambda order: (order.totals.total_cents, order.order_number))
    by_date = sorted(placed.orders.values(), key=lambda order: (order.placed_at, order.order_number))

    assert _numbers(_get(support, q=placed.tag, sort="total")) == [o.order_number for o in by_total]
    assert _numbers(_get(support, q=placed.tag, sort="-total")) == [
        o.order_number for o in sorted(by_total, key=lambda o: (-o.totals.total_cents, o.order_number))]
    assert _numbers(_get(support, q=placed.tag, sort="placed")) == [o.order_number for o in by_date]
    newest = _get(support, q=placed.tag)
    assert _numbers(newest)[0] in {placed.number(first) for first in ("Ada", "Bea", "Dee")}
    # The headers: the sorted column flips its direction, the other starts at its largest/newest.
    assert f'href="?q={placed.tag}&amp;sort=placed"' in newest and f'href="?q={placed.tag}&amp;sort=-total"' in newest


def test_the_list_pages_with_links_and_the_count(support, placed, monkeypatch):
    every = _numbers(_get(support, q=placed.tag, sort="total"))
    monkeypatch.setattr(order_list, "PAGE_SIZE", 4)

    first = _get(support, q=placed.tag, sort="total")
    second = _get(support, q=placed.tag, sort="total", page="2")

    assert _numbers(first) + _numbers(second) == every and len(_numbers(first)) == 4
    assert "6 orders match" in first and "page 1 of 2" in first
    assert f'href="?q={placed.tag}&amp;sort=total&amp;page=2"' in first
    assert '<span class="this-page">2</span>' in second


def test_only_the_pages_elasticsearch_can_reach_are_offered_with_a_note(support, placed, monkeypatch):
    monkeypatch.setattr(order_list, "PAGE_SIZE", 2)
    monkeypatch.setattr(listing, "MAX_WINDOW", 4)  # stands for Elasticsearch's 10,000

    page = _get(support, q=placed.tag, page="3")

    assert "6 orders match" in page and "page 2 of 2" in page
    assert "Only the first 4 of these orders can be paged through" in page
    assert "There is no page 3 of this list: showing page 2." in _messages(page)


@pytest.mark.parametrize("query,message", [
    ("status=lost", "Status: There is no such status."),
    ("placed_from=2024-13-01", "Placed from: Enter a date as YYYY-MM-DD."),
    ("placed_to=yesterday", "Placed to: Enter a date as YYYY-MM-DD."),
    ("placed_from=0001-01-01", "Placed from: Enter a date between 2000-01-01 and 2999-12-31."),
    ("placed_from=2024-03-05&placed_to=2024-03-01", "after the “placed to” date"),
    ("supplier=nobody-at-all", "Supplier: No order has a supplier by that id."),
    ("needs_approval=maybe", "Needs approval: Choose yes or no."),
    ("sort=price", "Sort: Sort by placed date or total."),
    ("page=0", "Page: Pages are numbered 1, 2, 3…"),
    ("page=-1", "Page: Pages are numbered 1, 2, 3…"),
    ("page=x", "Page: Pages are numbered 1, 2, 3…"),
    ("page=" + "9" * 400, "Page: "),
    ("page=99999", "There is no page 99999 of this list: showing page 1."),
    ("q=" + "x" * 5000, "Search: Ensure this value has at most 100 characters"),
])
def test_a_bad_parameter_is_named_and_ignored(support, placed, query, message):
    page = _get(support, f"?q={placed.tag}&{query}")  # a second q wins over the first

    assert message in _messages(page)
    assert 'id="result_list"' in page  # the list is still shown, without the bad parameter


def test_a_bad_parameter_leaves_the_good_ones_in_force(support, placed):
    page = _get(support, q=placed.tag, status="lost", sort="total", placed_from="not-a-day")

    assert _numbers(page) == [o.order_number for o in sorted(placed.orders.values(),
                                                              key=lambda o: (o.totals.total_cents, o.order_number))]
    assert "Status:" in _messages(page) and "Placed from:" in _messages(page)
    assert "lost" not in re.search(r'<form method="get".*?</form>', page, re.S).group(0)


# -- bulk approve --------------------------------------------------------------------------------

@pytest.fixture
def waiting(catalog, settings):
    """Three new orders awaiting approval and one that did not need it, all of one new customer tag."""
    for name, value in OMS.items():
        setattr(settings, name, value)
    take, suppliers = _sku_source(catalog.products[365:])
    tag = f"Bulk{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    orders = [_place(take(suppliers[0]), cents, 1, f"Buyer {tag}", f"{tag.lower()}@example.com", now)
              for cents in (12_000, 13_000, 14_000, 3_000)]
    for order in orders:
        _indexed(order.order_number, _settled)
    return tag, [order.order_number for order in orders]


def _bulk_form(page: str) -> tuple[str, list[str]]:
    form = re.search(r'<form method="post" id="bulk-approve">(.*?)</form>', page, re.S).group(1)
    return (re.search(r'name="action_id" value="([a-f0-9]{32})"', form).group(1),
            re.findall(r'name="orders" value="([^"]+)"', form))


def _approvals(number: str) -> list:
    return [(t.to_status, t.actor) for t in history.read_history(number)
            if t.from_status == OrderStatus.AWAITING_APPROVAL]


def test_bulk_approve_approves_the_ticked_orders_once_however_often_the_form_is_sent(manager, waiting):
    tag, (first, second, third, not_waiting) = waiting
    action_id, offered = _bulk_form(_get(manager, q=tag))
    assert sorted(offered) == sorted([first, second, third])  # no box for the order that needs no approval
    username = manager.username

    sent = manager.post(f"{LIST}?q={tag}", {"action_id": action_id, "orders": [first, second.lower()]}, follow=True)
    again = manager.post(f"{LIST}?q={tag}", {"action_id": action_id, "orders": [first, second]}, follow=True)

    assert sent.redirect_chain == [(f"{LIST}?q={tag}", 302)]
    assert f"Approved 2 orders: {first}, {second}." in _messages(sent.content.decode())
    assert f"Approved 2 orders: {first}, {second}." in _messages(again.content.decode())
    for number in (first, second):
        assert staff.order_detail(number).status == OrderStatus.PROCESSING
        assert _approvals(number) == [(OrderStatus.PROCESSING, username)]
        assert LogEntry.objects.filter(object_id=number, change_message="Approved (bulk)",
                                       user__username=username).count() == 1
    assert staff.order_detail(third).status == OrderStatus.AWAITING_APPROVAL


def test_bulk_approve_reports_each_refusal_with_its_reason(manager, waiting):
    tag, (first, _, _, not_waiting) = waiting
    action_id, _ = _bulk_form(_get(manager, q=tag))

    sent = manager.post(LIST, {"action_id": action_id, "orders": [first, not_waiting]}, follow=True)

    text = _messages(sent.content.decode())
    assert f"Approved 1 order: {first}." in text
    assert f"Not approved: {not_waiting} (Only an order awaiting approval can be approved; this one is" in text
    assert staff.order_detail(first).status == OrderStatus.PROCESSING
    assert '<li class="warning">' in sent.content.decode()


@pytest.mark.parametrize("numbers,message", [
    ([], "Tick the orders to approve first."),
    (["not-an-order"], "'not-an-order' is not an order number."),
    (["HC-0000000000"] * 100, "Approve at most 100 orders at a time (101 were ticked)."),
])
def test_a_bad_bulk_form_approves_nothing(manager, waiting, numbers, message):
    tag, (first, *_) = waiting
    action_id, _ = _bulk_form(_get(manager, q=tag))

    sent = manager.post(LIST, {"action_id": action_id, "orders": [first, *numbers] if numbers else []}, follow=True)

    assert "Nothing was approved." in _messages(sent.content.decode())
    assert message in _messages(sent.content.decode())
    assert staff.order_detail(first).status == OrderStatus.AWAITING_APPROVAL


def test_an_expired_bulk_form_approves_nothing(manager, waiting):
    tag, (first, *_) = waiting

    sent = manager.post(LIST, {"action_id": "forged", "orders": [first]}, follow=True)

    assert "That form has expired; please reload the page." in _messages(sent.content.decode())
    assert staff.order_detail(first).status == OrderStatus.AWAITING_APPROVAL


def test_support_sees_no_bulk_approve_and_a_forged_one_is_refused(support, waiting):
    tag, (first, *_) = waiting

    page = _get(support, q=tag)
    forged = support.post(LIST, {"action_id": uuid.uuid4().hex, "orders": [first]})

    assert first in _numbers(page)
    assert "Approve selected" not in page and 'name="orders"' not in page and 'id="bulk-approve"' not in page
    assert forged.status_code == 403
    assert staff.order_detail(first).status == OrderStatus.AWAITING_APPROVAL


# -- access, dashboard, outage ---------------------------------------------------------------------

def test_a_user_who_is_not_staff_is_sent_to_log_in(client):
    shopper(client, f"shopper-{uuid.uuid4().hex[:6]}")

    for response in (client.get(LIST), client.post(LIST, {"orders": ["HC-0000000000"]})):
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_staff_without_the_view_permission_are_refused(client):
    logged_in(client, f"clerk-{uuid.uuid4().hex[:6]}")

    assert client.get(LIST).status_code == 403


def _tile(page: str, title: str) -> tuple[str, str]:
    """(link, value) of a dashboard tile."""
    found = re.search(rf'<a href="([^"]*)">\s*<span class="dashboard-value">([^<]*)</span>\s*'
                      rf'<span class="dashboard-title">{title}</span>', page)
    assert found, f"no {title!r} tile"
    return html.unescape(found.group(1)), found.group(2)


def test_the_dashboard_shows_orders_today_and_awaiting_approval_linked_to_the_list(support, placed):
    es().indices.refresh(index=index_name("orders"))
    waiting = listing.search_orders(listing.OrderFilters(status=OrderStatus.AWAITING_APPROVAL)).total
    today = timezone.localdate()

    page = support.get("/admin/").content.decode()

    awaiting_url, awaiting = _tile(page, "Awaiting approval")
    today_url, placed_today = _tile(page, "Orders today")
    assert int(awaiting) == waiting >= 2
    assert int(placed_today) >= 3
    assert awaiting_url == f"{LIST}?status=awaiting_approval"
    assert today_url == f"{LIST}?placed_from={today}&placed_to={today}"
    assert placed.number("Dee") in _numbers(_get(support, awaiting_url[len(LIST):]))
    assert placed.number("Ada") in _numbers(_get(support, today_url[len(LIST):]))


def test_staff_without_the_view_permission_see_no_order_tiles(client):
    logged_in(client, f"clerk-{uuid.uuid4().hex[:6]}")

    page = client.get("/admin/").content.decode()

    assert "Awaiting approval" not in page and "Orders today" not in page




def test_with_elasticsearch_down_the_list_says_so_and_the_tiles_show_no_figure(support, elasticsearch_down):
    page = _get(support, q="anything")
    index = support.get("/admin/").content.decode()

    assert "The order list (Elasticsearch) is not answering just now" in _messages(page)
    assert 'id="result_list"' not in page
    assert _tile(index, "Awaiting approval")[1] == "—" and _tile(index, "Orders today")[1] == "—"
