"""The order page through HTTP against the real Cassandra: it opens for the session that placed the
order and with the emailed token on any device; everyone else, a tampered token, an unknown or a
malformed number get the shop's 404. The confirmation email carries the number and a working link."""

import re
import socket
from html import unescape
from urllib.parse import urlsplit

import pytest
from cassandra.cqlengine import connection as cqlengine
from django.conf import settings
from django.core import mail
from django.test import Client

from commerce.money import format_cents
from orders import access, emails, store
from orders.services import PLACED_ORDERS_SESSION_KEY
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
    assert ">Orders</a>" not in html  # no order list yet: the header keeps its link hidden


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


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def cassandra_down():
    saved = dict(cqlengine._connections)
    down = cqlengine.register_connection(
        "cassandra-unreachable-orders", hosts=["127.0.0.1"], lazy_connect=True, retry_connect=True,
        cluster_options={"port": _closed_port(), "connect_timeout": 1, "protocol_version": 5},
    )
    cqlengine._connections[settings.CASSANDRA_ALIAS] = down
    cqlengine._connections[cqlengine.DEFAULT_CONNECTION] = down
    try:
        yield
    finally:
        cqlengine._connections.clear()
        cqlengine._connections.update(saved)
        if down.cluster is not None:
            down.cluster.shutdown()


def test_the_page_says_orders_are_unavailable_when_cassandra_is_down(order, cassandra_down):
    response = Client().get(f"/orders/{order.order_number}/", {"token": access.order_token(order.order_number)})

    assert response.status_code == 503 and response["Retry-After"]
    assert "Your orders are unavailable right now" in response.content.decode()


def test_a_stranger_gets_404_not_503_while_cassandra_is_down(order, cassandra_down):
    _assert_shop_404(Client().get(f"/orders/{order.order_number}/"))
