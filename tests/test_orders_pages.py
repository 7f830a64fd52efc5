"""The order pages through HTTP against the real Cassandra.

The order page opens for the session that placed the order and with the emailed token on any device;
everyone else, a tampered token, an unknown or a malformed number get the shop's 404. It shows the
status history and the shipments the order workflow recorded (never a staff member's name) and
refreshes itself until the order is done. `/orders/` lists the orders this session placed. The
confirmation email carries the number and a working link."""

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from commerce.cassandra import session as cassandra_session
from commerce.cassandra import table
from commerce.money import format_cents
from orders import access, emails, history, store
from orders.contracts import Actor, OrderStatus, SupplierOrderPlan, SupplierOrderStage, SupplierOrderState, Transition
from orders.services import PLACED_ORDERS_SESSION_KEY
from tests.outages import cassandra_unreachable
from tests.test_orders_store import make_order, random_order_number

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cassandra_schema")]


@pytest.fixture
def order():
    placed = make_order()
    store.write_order(placed)
    return placed


def _as_placing_session(client: Client, *numbers: str) -> Client:
    """What the checkout does on success: the session remembers the order it placed."""
    session = client.session
    session[PLACED_ORDERS_SESSION_KEY] = list(numbers)
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client


def _testid(html: str, name: str) -> str:
    match = re.search(rf'data-testid="{name}"[^>]*>([^<]*)<', html)
    return unescape(match.group(1)).strip() if match else ""


def _assert_shop_404(response):
    assert response.status_code == 404
    html = response.content.decode()
    assert "We couldn&#x27;t find that page" in html or "We couldn't find that page" in html
    assert 'data-testid="order-status"' not in html


def test_the_session_that_placed_the_order_sees_all_of_it(client, order):
    response = _as_placing_session(client, order.order_number).get(f"/orders/{order.order_number}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert _testid(html, "order-number") == order.order_number
    assert _testid(html, "order-status") == "Placed" and 'data-status="placed"' in html
    for line in order.lines:
        assert line.name in html and format_cents(line.line_total_cents) in html
    totals = order.totals
    for cents in (totals.subtotal_cents, totals.discount_cents, totals.shipping_cents, totals.tax_cents,
                  totals.total_cents):
        assert format_cents(cents) in html
    assert _testid(html, "order-total") == format_cents(totals.total_cents)
    assert "Visa ending in 4242" in html and "Express" in html
    for part in ("Ada Shopper", "1 Main St", "Apt 2", "Portland", "OR", "97201"):
        assert part in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert response["X-Robots-Tag"].startswith("noindex")
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert '<form class="search" action="/search/"' in html  # the shop's layout
    assert '<a href="/orders/">Orders</a>' in html  # the header links to the session's orders


def test_a_fresh_browser_with_the_emailed_token_sees_the_order(order):
    token = access.order_token(order.order_number)

    response = Client().get(f"/orders/{order.order_number}/", {"token": token})

    assert response.status_code == 200
    assert _testid(response.content.decode(), "order-number") == order.order_number


def test_a_tampered_token_gets_404(order):
    token = access.order_token(order.order_number)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    _assert_shop_404(Client().get(f"/orders/{order.order_number}/", {"token": tampered}))
    _assert_shop_404(Client().get(f"/orders/{order.order_number}/", {"token": ""}))


def test_a_token_for_another_order_gets_404(order):
    other = make_order()
    store.write_order(other)

    response = Client().get(f"/orders/{order.order_number}/", {"token": access.order_token(other.order_number)})

    _assert_shop_404(response)


def test_another_session_gets_404(client, order):
    other = make_order()
    store.write_order(other)
    _as_placing_session(client, other.order_number)

    _assert_shop_404(client.get(f"/orders/{order.order_number}/"))
    _assert_shop_404(Client().get(f"/orders/{order.order_number}/"))


def test_an_unknown_number_gets_404_even_with_a_valid_token_and_session(client):
    number = random_order_number()
    _as_placing_session(client, number)

    _assert_shop_404(client.get(f"/orders/{number}/", {"token": access.order_token(number)}))


@pytest.mark.parametrize("path", [
    "/orders/HC-123/", "/orders/hc-0000000000/", "/orders/HC-000000000I/", "/orders/HC-0000000000X/",
    "/orders/%3Cscript%3E/", "/orders/" + "A" * 300 + "/", "/orders/HC-0000000000%20/",
])
def test_a_malformed_number_gets_404(client, path):
    _assert_shop_404(client.get(path))


def test_a_forged_session_cookie_opens_nothing(client, order):
    client.cookies[settings.SESSION_COOKIE_NAME] = "eyJwbGFjZWRfb3JkZXJzIjpbIkhDLTAwMDAwMDAwMDAiXX0:forged:sig"

    _assert_shop_404(client.get(f"/orders/{order.order_number}/"))


def test_the_page_only_answers_reads(client, order):
    _as_placing_session(client, order.order_number)

    assert client.post(f"/orders/{order.order_number}/").status_code in (403, 405)


def test_the_confirmation_email_carries_the_number_and_a_link_that_opens_the_order(settings, order):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "shop@heron.example"
    mail.outbox = []
    view = store.read_order(order.order_number)

    emails.send_order_confirmation(view, access.order_url(order.order_number, "http://testserver"))

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == f"Your order {order.order_number} at {settings.SHOP_NAME}"
    assert message.to == [order.email] and message.from_email == "shop@heron.example"
    assert order.order_number in message.body and format_cents(order.totals.total_cents) in message.body
    assert "&amp;" not in message.body and "&#x27;" not in message.body  # plain text, not HTML-escaped
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and order.order_number in html
    link = re.search(r"http://testserver/orders/\S+", message.body).group(0)
    assert unescape(re.search(r'href="([^"]+)"', html).group(1)) == link

    parts = urlsplit(link)
    response = Client().get(f"{parts.path}?{parts.query}")  # another device: no session
    assert response.status_code == 200
    assert _testid(response.content.decode(), "order-number") == order.order_number
    _assert_shop_404(Client().get(parts.path))  # the page without the token stays closed


def test_the_default_backend_writes_emails_to_files(settings, tmp_path, order):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "emails"

    emails.send_order_confirmation(store.read_order(order.order_number),
                                   access.order_url(order.order_number, settings.SHOP_BASE_URL))

    [written] = list((tmp_path / "emails").iterdir())
    assert order.order_number in written.read_text()


@pytest.fixture
def cassandra_down():
    with cassandra_unreachable():
        yield


def test_the_page_says_orders_are_unavailable_when_cassandra_is_down(order, cassandra_down):
    response = Client().get(f"/orders/{order.order_number}/", {"token": access.order_token(order.order_number)})

    assert response.status_code == 503 and response["Retry-After"]
    assert "Your orders are unavailable right now" in response.content.decode()


def test_a_stranger_gets_404_not_503_while_cassandra_is_down(order, cassandra_down):
    _assert_shop_404(Client().get(f"/orders/{order.order_number}/"))


# -- the order page: history, shipments, refresh ----------------------------------------------------

STAFF_MEMBER = "maria.backoffice"


def _at(minutes: int) -> str:
    """An instant as the history table gives it back (UTC, whole seconds)."""
    return (datetime(2025, 3, 1, 9, 30, tzinfo=UTC) + timedelta(minutes=minutes)).isoformat()


def _set_status(order_number: str, status: str) -> None:
    """What the order workflow's record activity does to the status column."""
    cassandra_session().execute(f"UPDATE {table('orders')} SET status = %s WHERE order_number = %s",
                                [status, order_number])


def _section(html: str, heading_id: str) -> str:
    return html.split(f'id="{heading_id}"', 1)[1].split("</section>", 1)[0]


def _timeline(html: str) -> list[tuple[str, str]]:
    """(data-status, the entry's HTML) of each timeline entry, in page order."""
    parts = _section(html, "history-heading").split('data-testid="timeline-entry" ')[1:]
    return [(re.match(r'data-status="([a-z_]*)"', part).group(1), part) for part in parts]


def _shipments(html: str) -> list[str]:
    if 'id="shipments-heading"' not in html:
        return []
    return _section(html, "shipments-heading").split('data-testid="shipment" ')[1:]


def test_the_page_shows_each_recorded_transition_with_its_time_and_the_reason_of_a_cancel(client, order):
    number = order.order_number
    history.write_transition(number, Transition(1, _at(0), "", OrderStatus.PLACED, Actor.CHECKOUT))
    history.write_transition(number, Transition(2, _at(1), OrderStatus.PLACED, OrderStatus.AWAITING_APPROVAL,
                                                Actor.SYSTEM, "total above the approval threshold of $50.00"))
    history.write_transition(number, Transition(3, _at(90), OrderStatus.AWAITING_APPROVAL, OrderStatus.CANCELLED,
                                                STAFF_MEMBER, "The supplier ran out of this shirt"))
    _set_status(number, OrderStatus.CANCELLED)

    html = _as_placing_session(client, number).get(f"/orders/{number}/").content.decode()

    entries = _timeline(html)
    assert [status for status, _ in entries] == ["placed", "awaiting_approval", "cancelled"]
    (_, placed), (_, waiting), (_, cancelled) = entries
    assert "<strong>Placed</strong>" in placed
    assert f'<time datetime="{_at(0)}">Mar 1, 2025, 09:30 UTC</time>' in placed
    assert "<strong>Awaiting approval</strong>" in waiting
    assert "approval threshold" not in waiting  # the shop's bookkeeping is not the shopper's business
    assert "<strong>Cancelled</strong>" in cancelled and "The supplier ran out of this shirt" in cancelled
    assert f'<time datetime="{_at(90)}">Mar 1, 2025, 11:00 UTC</time>' in cancelled
    assert "by the shop" in cancelled  # a staff member did it
    assert "by the shop" not in placed and "by the shop" not in waiting  # the shop's machinery is nobody
    assert 'data-testid="timeline-reason"' not in placed and 'data-testid="timeline-reason"' not in waiting
    assert _testid(html, "order-status") == "Cancelled" and 'data-status="cancelled"' in html


def test_an_order_the_workflow_has_not_recorded_yet_shows_it_was_placed(client, order):
    html = _as_placing_session(client, order.order_number).get(f"/orders/{order.order_number}/").content.decode()

    [(status, entry)] = _timeline(html)
    assert status == "placed" and "<strong>Placed</strong>" in entry
    assert f'<time datetime="{store.read_order(order.order_number).placed_at}">' in entry
    assert _shipments(html) == []  # nothing planned yet: no shipments section


def _plan(order_number: str, index: int, line_indexes: tuple[int, ...], amount_cents: int) -> SupplierOrderPlan:
    return SupplierOrderPlan(f"{order_number}-so-{index}", index, f"supplier-{index}", f"Supplier {index}",
                             "simulated", line_indexes, amount_cents)


def test_the_page_shows_each_shipment_with_its_items_stage_and_tracking_number(client, order):
    number = order.order_number
    shipped = SupplierOrderState(_plan(number, 1, (0,), 5000), SupplierOrderStage.SHIPPED,
                                 tracking_number="HRN123456789012", carrier="Heron Post", updated_at=_at(120))
    # 7 is no line of the order: a plan that points past the lines shows what exists, never fails
    accepted = SupplierOrderState(_plan(number, 2, (1, 7), 2245), SupplierOrderStage.ACCEPTED, updated_at=_at(30))
    history.write_shipments(number, (accepted, shipped), version=4)
    _set_status(number, OrderStatus.PARTIALLY_SHIPPED)

    html = _as_placing_session(client, number).get(f"/orders/{number}/").content.decode()

    first, second = _shipments(html)
    assert first.startswith('data-stage="shipped"') and "Shipment 1 of 2" in first
    assert "Linen shirt" in first and "Stone mug" not in first and "Qty 2" in first
    assert _testid(first, "shipment-stage") == "Shipped"
    assert _testid(first, "tracking-number") == "HRN123456789012" and _testid(first, "carrier") == "Heron Post"
    assert second.startswith('data-stage="accepted"') and "Shipment 2 of 2" in second
    assert "Stone mug" in second and "Linen shirt" not in second
    assert _testid(second, "shipment-stage") == "Processing"
    assert "Tracking number" not in second
    assert _testid(html, "order-status") == "Partially shipped"


def test_a_delivered_shipment_keeps_its_tracking_number(client, order):
    number = order.order_number
    history.write_shipments(number, (SupplierOrderState(_plan(number, 1, (0, 1), 7245), SupplierOrderStage.DELIVERED,
                                                        tracking_number="HRN000000000042", carrier="Heron Post"),),
                            version=6)

    html = _as_placing_session(client, number).get(f"/orders/{number}/").content.decode()

    [only] = _shipments(html)
    assert "Shipment 1 of 1" in only and "Linen shirt" in only and "Stone mug" in only
    assert _testid(only, "shipment-stage") == "Delivered" and _testid(only, "tracking-number") == "HRN000000000042"


def _refresh(html: str) -> str | None:
    match = re.search(r'<meta http-equiv="refresh" content="([^"]*)">', html)
    return match.group(1) if match else None


@pytest.mark.parametrize("status", [OrderStatus.PLACED, OrderStatus.AWAITING_APPROVAL, OrderStatus.PROCESSING,
                                    OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED])
def test_the_page_refreshes_itself_while_the_order_moves(order, status):
    _set_status(order.order_number, status)
    token = access.order_token(order.order_number)

    html = Client().get(f"/orders/{order.order_number}/", {"token": token}).content.decode()

    # Seconds only, no URL: the browser reloads the same address, the emailed token included.
    assert re.fullmatch(r"[1-9][0-9]*", _refresh(html) or "")
    assert _testid(html, "order-refreshes").startswith("This page updates itself")


@pytest.mark.parametrize("status", [OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.REFUNDED])
def test_the_page_stops_refreshing_once_the_order_is_done(client, order, status):
    _as_placing_session(client, order.order_number)
    _set_status(order.order_number, OrderStatus.PROCESSING)
    assert _refresh(client.get(f"/orders/{order.order_number}/").content.decode())

    _set_status(order.order_number, status)

    html = client.get(f"/orders/{order.order_number}/").content.decode()
    assert _refresh(html) is None and 'http-equiv="refresh"' not in html
    assert 'data-testid="order-refreshes"' not in html
    assert f'data-status="{status}"' in html


def test_a_staff_members_name_never_reaches_the_shopper(client, order):
    number = order.order_number
    for transition in (
        Transition(1, _at(0), "", OrderStatus.PLACED, Actor.CHECKOUT),
        Transition(2, _at(1), OrderStatus.PLACED, OrderStatus.AWAITING_APPROVAL, Actor.SYSTEM, "above the threshold"),
        Transition(3, _at(60), OrderStatus.AWAITING_APPROVAL, OrderStatus.PROCESSING, STAFF_MEMBER),
        Transition(4, _at(600), OrderStatus.PROCESSING, OrderStatus.SHIPPED, Actor.FULFILLMENT),
        Transition(5, _at(900), OrderStatus.SHIPPED, OrderStatus.REFUNDED, STAFF_MEMBER, "Arrived damaged"),
    ):
        history.write_transition(number, transition)
    _set_status(number, OrderStatus.REFUNDED)
    _as_placing_session(client, number)

    pages = [client.get(f"/orders/{number}/").content.decode(),
             Client().get(f"/orders/{number}/", {"token": access.order_token(number)}).content.decode(),
             client.get("/orders/").content.decode()]

    for html in pages:
        assert STAFF_MEMBER not in html and "backoffice" not in html
    entries = dict(_timeline(pages[0]))
    assert "by the shop" in entries["processing"] and "by the shop" in entries["refunded"]
    assert "Arrived damaged" in entries["refunded"]
    assert pages[0].count("by the shop") == 2  # checkout, system and fulfillment are nobody's name either


# -- /orders/: the orders this browser placed -------------------------------------------------------

def _rows(html: str) -> list[str]:
    return re.findall(r'data-testid="order-row" data-order-number="([^"]+)"', html)


def _row(html: str, order_number: str) -> str:
    return html.split(f'data-order-number="{order_number}"', 1)[1].split("</li>", 1)[0]


def test_the_list_shows_the_orders_this_session_placed_newest_first(client):
    now = datetime.now(UTC)
    older = make_order(placed_at=now - timedelta(days=3))
    newer = make_order(placed_at=now - timedelta(hours=1),
                       lines=(replace(make_order().lines[0], quantity=3),))
    for placed in (older, newer):
        store.write_order(placed)
    _set_status(older.order_number, OrderStatus.DELIVERED)
    _as_placing_session(client, newer.order_number, older.order_number)  # the list sorts by when placed

    response = client.get("/orders/")

    html = response.content.decode()
    assert response.status_code == 200
    assert _rows(html) == [newer.order_number, older.order_number]
    row = _row(html, older.order_number)
    assert f'<a href="/orders/{older.order_number}/">' in row
    placed_at = store.placed_at_datetime(older.placed_at)
    assert f'<time datetime="{placed_at.isoformat()}">{placed_at.strftime("%b %-d, %Y")}</time>' in row
    assert _testid(row, "order-row-status") == "Delivered" and 'data-status="delivered"' in row
    assert _testid(row, "order-row-total") == format_cents(older.totals.total_cents)
    assert _testid(row, "order-row-items") == "3"  # 2 shirts and 1 mug
    new_row = _row(html, newer.order_number)
    assert _testid(new_row, "order-row-status") == "Placed" and _testid(new_row, "order-row-items") == "3"
    assert 'data-testid="orders-empty"' not in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert response["X-Robots-Tag"].startswith("noindex")
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_the_list_never_shows_another_sessions_orders(client, order):
    mine = make_order()
    store.write_order(mine)
    _as_placing_session(client, mine.order_number)
    theirs = _as_placing_session(Client(), order.order_number)

    mine_html = client.get("/orders/").content.decode()
    theirs_html = theirs.get("/orders/").content.decode()
    fresh_html = Client().get("/orders/").content.decode()

    assert _rows(mine_html) == [mine.order_number] and order.order_number not in mine_html
    assert _rows(theirs_html) == [order.order_number] and mine.order_number not in theirs_html
    assert _rows(fresh_html) == [] and 'data-testid="orders-empty"' in fresh_html


def test_the_list_skips_a_remembered_number_that_belongs_to_no_order(client, order):
    nobody = random_order_number()
    _as_placing_session(client, nobody, order.order_number, "<not-a-number>")

    html = client.get("/orders/").content.decode()

    assert _rows(html) == [order.order_number]
    assert nobody not in html and "not-a-number" not in html


def test_a_session_with_no_orders_gets_the_empty_state_with_a_link_to_the_shop(client):
    _as_placing_session(client, random_order_number())  # remembered, but no such order

    response = client.get("/orders/")

    html = response.content.decode()
    assert response.status_code == 200 and _rows(html) == []
    empty = html.split('data-testid="orders-empty"', 1)[1].split("</section>", 1)[0]
    assert "No orders yet" in empty and '<a class="button" href="/">' in empty
    assert '<a href="/orders/">Orders</a>' in html


def test_the_list_only_answers_reads(client, order):
    _as_placing_session(client, order.order_number)

    head = client.head("/orders/")

    assert head.status_code == 200 and head.content == b""
    assert client.post("/orders/").status_code == 405
    assert client.put("/orders/").status_code == 405


def test_the_list_says_orders_are_unavailable_when_cassandra_is_down(client, order, cassandra_down):
    _as_placing_session(client, order.order_number)

    response = client.get("/orders/")

    assert response.status_code == 503 and response["Retry-After"]
    assert "Your orders are unavailable right now" in response.content.decode()


def test_the_list_of_a_session_that_placed_nothing_needs_no_store(cassandra_down):
    response = Client().get("/orders/")

    assert response.status_code == 200 and 'data-testid="orders-empty"' in response.content.decode()
