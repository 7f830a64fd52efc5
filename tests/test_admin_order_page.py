"""The staff console's order page through the HTTP admin, with real logins against the real stack:
orders placed by guest checkouts over HTTP, the order and fulfillment workflows on real workers. Each
action changes the workflow as its query then shows; buttons follow the roles and a forged POST is
refused; the same form sent twice applies once; an order that changed meanwhile refuses a form
rendered from its older version; bad input changes nothing; an ended order shows with no actions."""

import re
import time
import uuid
from html import unescape

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.test import Client

from orders import staff
from orders.contracts import OrderStatus, SupplierOrderStage
from tests.console_helpers import logged_in, shopper
from tests.outages import closed_port
from tests.stock_helpers import fresh_sku
from tests.test_checkout import ADDRESS, GOOD_CARD, _order_number, _value

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog", "workers_in_thread")]

WAREHOUSE = "heron-warehouse"
WAIT_SECONDS = 60


@pytest.fixture(autouse=True)
def shop_settings(settings):
    settings.CART_CREATIONS_PER_MINUTE = 1000
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.FULFILLMENT_PROCESSING_SECONDS = 0.2
    settings.FULFILLMENT_SHIPPING_SECONDS = 0.2
    settings.FULFILLMENT_DELIVERY_SECONDS = 0.2
    settings.FULFILLMENT_MANUAL = True  # nothing ships unless staff mark it (the refund test turns it off)
    settings.ORDER_APPROVAL_THRESHOLD_CENTS = 10_000_000


@pytest.fixture
def sku(catalog):
    """A fresh-stocked SKU of a warehouse product (each call a new one)."""
    variants = iter([v for p in catalog.products[330:] if p.supplier_id == WAREHOUSE for v in p.variants])

    def take(on_hand: int = 20) -> str:
        variant = next(variants)
        fresh_sku(on_hand, sku=variant.sku)
        return variant.sku

    return take


# -- helpers ------------------------------------------------------------------------------------------

def place(sku: str, quantity: int = 2, client: Client | None = None) -> str:
    """A checkout over HTTP, as a shopper does it (a guest unless `client` is signed in): the placed
    order's number."""
    guest = client or Client()
    assert guest.post("/cart/add/", {"sku": sku, "quantity": quantity, "nonce": uuid.uuid4().hex}).status_code == 302
    assert guest.post("/checkout/start/").status_code == 302
    guest.post("/checkout/shipping/", ADDRESS)
    assert guest.post("/checkout/payment/", GOOD_CARD).status_code == 302
    review = guest.get("/checkout/review/").content.decode()
    response = guest.post("/checkout/submit/", {"expected_total_cents": _value(review, "expected_total_cents"),
                                                "nonce": _value(review, "nonce")})
    location = response["Location"]
    for _ in range(100):
        if not location.endswith("/checkout/processing/"):
            break
        time.sleep(0.2)
        response = guest.get("/checkout/processing/")
        location = response["Location"] if response.status_code == 302 else location
    return _order_number(guest.get(location, follow=True).content.decode())


def until(number: str, predicate, what: str):
    detail = None
    for _ in range(WAIT_SECONDS * 10):
        detail = staff.order_detail(number)
        if detail is not None and predicate(detail):
            return detail
        time.sleep(0.1)
    raise AssertionError(f"order {number} never {what}: {detail}")


def manual_step_offered(detail) -> bool:
    return detail.status == OrderStatus.PROCESSING and bool(detail.supplier_orders) and all(
        state.manual_actions for state in detail.supplier_orders)


def page_of(number: str) -> str:
    return f"/admin/orders/order/{number}/change/"


def act(number: str, action: str) -> str:
    return f"/admin/orders/order/{number}/act/{action}/"


def form(page: str, action: str) -> dict:
    """The hidden fields of the page's form for `action` (absent: AssertionError)."""
    found = re.search(rf'<form method="post" action="[^"]*/act/{action}/"[^>]*>(.*?)</form>', page, re.S)
    assert found, f"no {action} form on the page"
    return dict(re.findall(r'<input type="hidden" name="(action_id|version|supplier_order)" value="([^"]*)"',
                           found.group(1)))


def has_form(page: str, action: str) -> bool:
    return f"/act/{action}/" in page


def send(client, number: str, action: str, fields: dict) -> str:
    """POST an action, follow back to the page: the page with the outcome's message."""
    response = client.post(act(number, action), fields, follow=True)
    assert response.status_code == 200, response.status_code
    return unescape(response.content.decode())


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# -- actions ----------------------------------------------------------------------------------------------

def test_a_manager_approves_an_order_awaiting_approval_and_the_admin_log_names_them(client, settings, sku):
    settings.ORDER_APPROVAL_THRESHOLD_CENTS = 1
    settings.TEMPORAL_WEB_URL = "http://127.0.0.1:8233"
    number = place(sku())
    until(number, lambda d: d.status == OrderStatus.AWAITING_APPROVAL, "awaited approval")
    logged_in(client, "mara", "Managers")

    page = client.get(page_of(number)).content.decode()
    assert "Awaiting approval" in page and has_form(page, "cancel")
    assert f'href="http://127.0.0.1:8233/namespaces/{settings.TEMPORAL_NAMESPACE}/workflows/order-{number}"' in page
    after = send(client, number, "approve", form(page, "approve"))

    assert f"Approved order {number}" in after
    detail = until(number, manual_step_offered, "went on to fulfillment")
    approvals = [(t.to_status, t.actor) for t in detail.history if t.from_status == OrderStatus.AWAITING_APPROVAL]
    assert approvals == [(OrderStatus.PROCESSING, "mara")]
    assert not has_form(client.get(page_of(number)).content.decode(), "approve")
    entry = LogEntry.objects.get(object_id=number)
    assert entry.user.username == "mara" and "Approved" in entry.change_message


def test_a_manager_cancels_with_a_reason_and_the_ended_order_shows_with_no_actions(client, sku):
    number = place(sku())
    until(number, manual_step_offered, "offered a manual step")
    logged_in(client, "mara", "Managers")
    page = client.get(page_of(number)).content.decode()

    refused = send(client, number, "cancel", {**form(page, "cancel"), "reason": "   "})
    assert "Say why the order is cancelled" in refused
    after = send(client, number, "cancel", {**form(page, "cancel"), "reason": "Shopper asked by phone"})

    assert f"Cancelled order {number}" in after
    detail = until(number, lambda d: d.closed, "closed")  # its workflow has ended: read back as kept
    assert detail.status == OrderStatus.CANCELLED and detail.allowed_actions == ()
    assert (detail.history[-1].actor, detail.history[-1].reason) == ("mara", "Shopper asked by phone")
    closed = client.get(page_of(number)).content.decode()
    assert "This order is closed" in closed and 'data-status="cancelled"' in closed
    assert '<form method="post"' not in closed.split('id="content-main"')[1]
    assert "Shopper asked by phone" in closed and "mara" in closed


def test_manual_fulfillment_is_marked_stage_by_stage_by_a_fulfillment_user(client, sku):
    number = place(sku())
    until(number, manual_step_offered, "offered a manual step")
    logged_in(client, "fenn", "Fulfillment")

    page = client.get(page_of(number)).content.decode()
    assert not any(has_form(page, action) for action in ("approve", "cancel", "refund", "note"))
    assert not has_form(page, "mark_shipped") and not has_form(page, "mark_delivered")
    assert "Marked supplier order" in send(client, number, "mark_packed", form(page, "mark_packed"))
    until(number, lambda d: d.supplier_orders[0].stage == SupplierOrderStage.PACKED, "heard packed")

    page = client.get(page_of(number)).content.decode()
    assert not has_form(page, "mark_packed")
    for bad in ("ab", "has spaces 123", "x" * 65, "<script>"):
        refused = send(client, number, "mark_shipped", {**form(page, "mark_shipped"), "tracking_number": bad})
        assert "A tracking number is 4 to 64 letters, digits or dashes" in refused
    assert staff.order_detail(number).supplier_orders[0].stage == SupplierOrderStage.PACKED
    shipped = send(client, number, "mark_shipped", {**form(page, "mark_shipped"), "tracking_number": "1Z-999-AA1",
                                                    "carrier": "Parcel Co"})
    assert "tracking 1Z-999-AA1 with Parcel Co" in shipped
    until(number, lambda d: d.status == OrderStatus.SHIPPED, "shipped")

    page = client.get(page_of(number)).content.decode()
    assert "1Z-999-AA1" in page
    send(client, number, "mark_delivered", form(page, "mark_delivered"))
    detail = until(number, lambda d: d.status == OrderStatus.DELIVERED, "delivered")

    assert detail.supplier_orders[0].updated_by == "fenn"
    moves = [(t.to_status, t.actor) for t in detail.history if t.to_status in (OrderStatus.SHIPPED,
                                                                              OrderStatus.DELIVERED)]
    assert moves == [(OrderStatus.SHIPPED, "fenn"), (OrderStatus.DELIVERED, "fenn")]
    assert LogEntry.objects.filter(object_id=number, user__username="fenn").count() == 3


def test_a_refund_is_bounded_applied_once_and_refused_on_an_order_that_changed_meanwhile(client, settings, sku):
    settings.FULFILLMENT_MANUAL = False  # the simulated supplier ships and delivers on its own
    number = place(sku())
    detail = until(number, lambda d: d.status == OrderStatus.DELIVERED
                   and d.captured_cents == d.order.totals.total_cents, "was delivered and captured")
    logged_in(client, "mara", "Managers")
    page = client.get(page_of(number)).content.decode()
    other_tab = client.get(page_of(number)).content.decode()  # the same version, another form's action id
    refund = form(page, "refund")
    too_much = f"{(detail.captured_cents + 1) // 100}.{(detail.captured_cents + 1) % 100:02d}"

    for bad in ("-1", "0", "abc", "1e9", too_much, "1.234", "", "1,00"):
        refused = send(client, number, "refund", {**refund, "amount": bad, "reason": "Damaged"})
        assert "Nothing was done" in refused, bad
    assert "Refund either an amount or whole lines" in send(
        client, number, "refund", {**refund, "amount": "1.00", "skus": [detail.order.lines[0].sku], "reason": "x"})
    assert staff.order_detail(number).refunded_cents == 0

    first = send(client, number, "refund", {**refund, "amount": "12.34", "reason": "Damaged box"})
    again = send(client, number, "refund", {**refund, "amount": "12.34", "reason": "Damaged box"})

    assert "Refunded $12.34" in first and "Already done" in again
    detail = staff.order_detail(number)
    refunds = [entry for entry in detail.payments if entry.kind == "refund"]
    assert detail.refunded_cents == 1234
    assert [(e.amount_cents, e.actor, e.reason) for e in refunds] == [(1234, "mara", "Damaged box")]
    assert LogEntry.objects.filter(object_id=number, user__username="mara").count() == 1

    # A page read before the refund is stale now: its refund is refused, with the order as it is now.
    stale = send(client, number, "refund", {**form(other_tab, "refund"), "amount": "1.00", "reason": "Again"})
    assert f"Order {number} changed while you were looking at it: it is now delivered" in stale
    assert staff.order_detail(number).refunded_cents == 1234

    # Whole lines: refused by the order itself (the line's share is more than is left), with its reason.
    fresh = client.get(page_of(number)).content.decode()
    assert re.search(r'<tr class="payment-refund">.*?\$12\.34.*?mara.*?Damaged box', fresh, re.S)
    lines = send(client, number, "refund", {**form(fresh, "refund"), "skus": [detail.order.lines[0].sku],
                                            "reason": "Returned"})
    assert "Refused: Only $" in lines and "captured and not refunded" in lines
    assert staff.order_detail(number).refunded_cents == 1234


# -- roles ---------------------------------------------------------------------------------------------------

def test_support_adds_notes_once_escaped_and_bounded_but_cannot_refund_or_cancel(client, sku):
    number = place(sku())
    before = until(number, manual_step_offered, "offered a manual step")
    logged_in(client, "sam", "Support")

    page = client.get(page_of(number)).content.decode()
    assert has_form(page, "note")
    assert not any(has_form(page, action) for action in ("approve", "cancel", "refund", "mark_packed"))
    note = {**form(page, "note"), "text": "Shopper says <script>alert(1)</script> & gift wrap"}
    client.post(act(number, "note"), note)
    again = client.post(act(number, "note"), note, follow=True).content.decode()
    too_long = send(client, number, "note", {**form(page, "note"), "text": "x" * 2001})
    forged_refund = client.post(act(number, "refund"), {**form(page, "note"), "version": before.version,
                                                        "amount": "1.00", "reason": "forged"})
    forged_cancel = client.post(act(number, "cancel"), {**form(page, "note"), "version": before.version,
                                                        "reason": "forged"})

    assert "Already done" in again
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; gift wrap" in again and "<script>alert" not in again
    assert "Nothing was done" in too_long and "2000" in too_long
    assert forged_refund.status_code == 403 and forged_cancel.status_code == 403
    detail = staff.order_detail(number)
    assert [(n.actor, n.text) for n in detail.notes] == [("sam", "Shopper says <script>alert(1)</script> & gift wrap")]
    assert detail.status == OrderStatus.PROCESSING and detail.refunded_cents == 0


def test_a_stale_form_is_refused_with_the_order_as_it_is_now(client, settings, sku):
    settings.ORDER_APPROVAL_THRESHOLD_CENTS = 1
    number = place(sku())
    until(number, lambda d: d.status == OrderStatus.AWAITING_APPROVAL, "awaited approval")
    logged_in(client, "mara", "Managers")
    page = client.get(page_of(number)).content.decode()
    send(client, number, "approve", form(page, "approve"))
    until(number, manual_step_offered, "went on to fulfillment")

    stale = send(client, number, "cancel", {**form(page, "cancel"), "reason": "Changed my mind"})

    assert f"Order {number} changed while you were looking at it: it is now processing" in stale
    assert staff.order_detail(number).status == OrderStatus.PROCESSING


# -- pages without an order -------------------------------------------------------------------------------

def test_an_unknown_or_malformed_order_number_gives_a_clear_message(client):
    logged_in(client, "sam", "Support")

    unknown = client.get(page_of("HC-7K3M9Q2XTA"))
    malformed = client.get(page_of("not-an-order"))
    action = client.post(act("HC-7K3M9Q2XTA", "note"), {"action_id": "b" * 32, "text": "hello"})

    for response in (unknown, malformed, action):
        assert response.status_code == 302 and response["Location"] == "/admin/orders/order/"
    # (Not shown by the placeholder changelist, each message is still queued when the next one comes.)
    assert messages_of(unknown)[-1] == "There is no order HC-7K3M9Q2XTA."
    assert "'not-an-order' is not an order number" in messages_of(malformed)[-1]
    assert messages_of(action)[-1] == "There is no order HC-7K3M9Q2XTA."


def test_the_page_says_so_when_the_order_service_is_down(client, settings):
    logged_in(client, "sam", "Support")
    settings.TEMPORAL_ADDRESS = f"127.0.0.1:{closed_port()}"

    response = client.get(page_of("HC-7K3M9Q2XTA"))

    assert response.status_code == 503
    assert "cannot be shown just now" in messages_of(response)[0]


def test_a_user_who_is_not_staff_is_sent_to_the_login_from_the_order_page(client):
    shopper(client)

    for response in (client.get(page_of("HC-7K3M9Q2XTA")), client.post(act("HC-7K3M9Q2XTA", "refund"), {})):
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
