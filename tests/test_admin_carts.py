"""The carts' staff console through the HTTP admin pages, with real logins, against real workers,
Temporal (its visibility), Cassandra and Elasticsearch: running carts listed with their live
contents, a cart's page, and ending an abandoned cart (its holds released, the shopper's next change
starting a fresh cart), refused while a checkout owns the holds."""

import re
import time
import uuid
from html import unescape
from urllib.parse import unquote

import pytest
from asgiref.sync import async_to_sync
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.test import Client

from cart import staff
from checkout import services as checkout_services
from commerce.money import format_cents
from tests.console_helpers import PASSWORD, logged_in
from tests.outages import closed_port
from tests.stock_helpers import fresh_sku, levels

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog", "workers_in_thread")]

LIST = "/admin/cart/cartrecord/"
# Visibility is eventually consistent: a cart started (or ended) a moment ago is listed (or not) soon.
VISIBLE_WITHIN_SECONDS = 30


@pytest.fixture(autouse=True)
def carts_per_address(settings):
    """Every test shopper comes from 127.0.0.1: the cart creation limit per address is tested elsewhere."""
    settings.CART_CREATIONS_PER_MINUTE = 1000


@pytest.fixture
def variants(catalog):
    """Distinct catalog variants for each test, with their stock reset."""
    taken = iter(catalog.variants[2330:2420])

    def take(on_hand: int = 20):
        variant = next(taken)
        fresh_sku(on_hand, sku=variant.sku)
        return variant

    return take


def _staff(role: str | None) -> Client:
    return logged_in(Client(), f"{(role or 'staff').lower()}-{uuid.uuid4().hex[:6]}", *([role] if role else []))


def _shopper_cart(*lines) -> tuple[Client, str]:
    """A shopper's cart made through the storefront: (the shopper's client, the cart id)."""
    shopper = Client()
    for sku, quantity in lines:
        response = shopper.post("/cart/add/", {"sku": sku, "quantity": quantity, "nonce": uuid.uuid4().hex},
                                HTTP_REFERER="/cart/")
        assert response.status_code == 302, response.status_code
    return shopper, shopper.session["cart_id"]


def _messages(response) -> list[str]:
    """The admin messages the page shows."""
    listed = re.search(r'<ul class="messagelist">(.*?)</ul>', response.content.decode(), re.S)
    return [unescape(m).strip() for m in re.findall(r"<li[^>]*>(.*?)</li>", listed.group(1), re.S)] if listed else []


def _row(html: str, cart_id: str) -> str | None:
    match = re.search(rf'<tr data-cart="{cart_id}">(.*?)</tr>', html, re.S)
    return match.group(1) if match else None


def _listed(client, cart_id: str, listed: bool = True) -> str:
    """The list page, once the cart is (or is no longer) on it."""
    deadline = time.monotonic() + VISIBLE_WITHIN_SECONDS
    while True:
        html = client.get(LIST).content.decode()
        if (_row(html, cart_id) is not None) == listed or time.monotonic() > deadline:
            return html
        time.sleep(0.2)


def _end_form(html: str) -> dict:
    return dict(re.findall(r'name="(action_id|run_id)" value="([^"]+)"', html))


def _end(client, cart_id: str, form: dict, reason: str = "abandoned for a week"):
    return client.post(f"{LIST}{cart_id}/end/", {**form, "reason": reason}, follow=True)


def test_a_non_staff_user_is_redirected_to_login():
    shopper = Client()
    shopper.force_login(get_user_model().objects.create_user(f"shopper-{uuid.uuid4().hex[:6]}", password=PASSWORD))

    for response in (shopper.get(LIST), shopper.get(f"{LIST}abc/change/"), shopper.post(f"{LIST}abc/end/", {})):
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_without_the_view_permission_are_refused():
    packer = _staff("Fulfillment")

    assert packer.get(LIST).status_code == 403
    assert "Carts running" not in packer.get("/admin/").content.decode()


def test_a_running_cart_is_listed_with_its_contents_and_its_page_shows_its_lines(variants):
    shirt, mug = variants(), variants()
    _, cart_id = _shopper_cart((shirt.sku, 2), (mug.sku, 1))
    support = _staff("Support")

    row = _row(_listed(support, cart_id), cart_id)
    page = support.get(f"{LIST}{cart_id}/change/")
    html = page.content.decode()

    assert row is not None
    assert '<td class="cart-items">3</td>' in row and ">Cart</td>" in row and ">Active</td>" in row
    assert format_cents(2 * shirt.price_cents + mug.price_cents) in row
    assert f"cart-{cart_id}" in row and "/namespaces/" in row  # the Web UI link
    assert page.status_code == 200
    for variant, quantity in ((shirt, 2), (mug, 1)):
        line = re.search(rf'<tr data-sku="{variant.sku}">(.*?)</tr>', html, re.S).group(1)
        assert f'<td class="quantity">{quantity}</td>' in line
        assert f"<td>{variant.colour}</td>" in unescape(line) and f"<td>{variant.size}</td>" in unescape(line)
        assert format_cents(variant.price_cents * quantity) in line
    assert 'data-testid="cart-items">3<' in html
    assert "Carts running" in support.get("/admin/").content.decode()


def test_the_newest_cart_is_listed_first(variants):
    _, older = _shopper_cart((variants().sku, 1))
    _, newer = _shopper_cart((variants().sku, 1))
    support = _staff("Support")

    html = _listed(support, newer)

    carts = re.findall(r'<tr data-cart="([^"]+)">', html)
    assert newer in carts and (older not in carts or carts.index(newer) < carts.index(older))


def test_the_list_pages_through_the_running_carts_25_at_a_time(catalog):
    sku = fresh_sku(100, sku=catalog.variants[2420].sku)
    for _ in range(max(0, staff.PAGE_SIZE + 1 - staff.running_count())):
        _shopper_cart((sku, 1))
    support = _staff("Support")

    first = support.get(LIST).content.decode()
    next_page = unquote(unescape(re.search(r'<a href="\?page=([^"]+)">Next page</a>', first).group(1)))
    second = support.get(LIST, {"page": next_page}).content.decode()
    forged = support.get(LIST, {"page": next_page[:-3] + "abc"})

    on_first, on_second = (re.findall(r'<tr data-cart="([^"]+)">', page) for page in (first, second))
    assert len(on_first) == staff.PAGE_SIZE and on_second and not set(on_first) & set(on_second)
    assert 'href="?">First page</a>' in second
    assert any("not valid" in message for message in _messages(forged)), _messages(forged)


def test_support_sees_no_end_button_and_a_forged_end_is_refused(variants):
    item = variants(on_hand=5)
    _, cart_id = _shopper_cart((item.sku, 2))
    support = _staff("Support")

    html = support.get(f"{LIST}{cart_id}/change/").content.decode()
    forged = support.post(f"{LIST}{cart_id}/end/", {"action_id": uuid.uuid4().hex, "run_id": "x", "reason": "x"})

    assert "End this cart" not in html and 'name="reason"' not in html
    assert forged.status_code == 403
    assert levels(item.sku)[1] == 2
    assert staff.cart_detail(cart_id).running


def test_a_manager_ends_an_abandoned_cart_its_holds_are_released_and_the_shopper_starts_afresh(variants):
    shirt, mug = variants(on_hand=5), variants(on_hand=5)
    shopper, cart_id = _shopper_cart((shirt.sku, 2), (mug.sku, 1))
    manager = _staff("Managers")
    assert levels(shirt.sku)[1] == 2 and levels(mug.sku)[1] == 1
    form = _end_form(manager.get(f"{LIST}{cart_id}/change/").content.decode())

    ended = _end(manager, cart_id, form)

    assert any("ended" in message for message in _messages(ended)), _messages(ended)
    assert levels(shirt.sku)[1:] == (0, {}) and levels(mug.sku)[1:] == (0, {})
    run = staff.cart_detail(cart_id)
    assert not run.running and run.cart.status == "ended"
    html = ended.content.decode()
    assert ">Ended<" in html and 'name="reason"' not in html
    assert _row(_listed(manager, cart_id, listed=False), cart_id) is None
    entries = LogEntry.objects.filter(object_id=cart_id)
    assert [entry.change_message for entry in entries] == ["Ended: abandoned for a week"]

    added = shopper.post("/cart/add/", {"sku": mug.sku, "quantity": 1, "nonce": uuid.uuid4().hex},
                         HTTP_REFERER="/cart/", follow=True)
    cart_page = shopper.get("/cart/").content.decode()

    assert added.status_code == 200
    assert int(re.search(r'data-testid="cart-count">(\d+)<', cart_page).group(1)) == 1
    assert levels(mug.sku)[1] == 1 and levels(shirt.sku)[1] == 0


def test_ending_twice_with_the_same_action_id_applies_once(variants):
    item = variants(on_hand=5)
    _, cart_id = _shopper_cart((item.sku, 3))
    manager = _staff("Managers")
    form = _end_form(manager.get(f"{LIST}{cart_id}/change/").content.decode())

    first = _end(manager, cart_id, form)
    second = _end(manager, cart_id, form)

    assert any("ended" in message for message in _messages(first))
    assert any("already been ended" in message for message in _messages(second)), _messages(second)
    assert LogEntry.objects.filter(object_id=cart_id).count() == 1
    assert levels(item.sku)[1] == 0


def test_a_cart_in_checkout_refuses_to_end_with_the_reason_shown(variants):
    item = variants(on_hand=5)
    _, cart_id = _shopper_cart((item.sku, 2))
    manager = _staff("Managers")
    form = _end_form(manager.get(f"{LIST}{cart_id}/change/").content.decode())
    checkout = async_to_sync(checkout_services.begin)(cart_id)
    try:
        page = manager.get(f"{LIST}{cart_id}/change/").content.decode()
        refused = _end(manager, cart_id, form)

        assert "Checking out" in page and checkout.checkout_id in page and 'name="reason"' not in page
        assert any("in checkout" in message for message in _messages(refused)), _messages(refused)
        assert levels(item.sku)[1] == 2 and staff.cart_detail(cart_id).running
        assert not LogEntry.objects.filter(object_id=cart_id).exists()
    finally:
        async_to_sync(checkout_services.cancel)(checkout.checkout_id)


@pytest.mark.parametrize("reason,message", [("", "This field is required"), ("x" * 201, "at most 200")])
def test_a_bad_reason_changes_nothing(variants, reason, message):
    item = variants(on_hand=5)
    _, cart_id = _shopper_cart((item.sku, 1))
    manager = _staff("Managers")
    form = _end_form(manager.get(f"{LIST}{cart_id}/change/").content.decode())

    response = _end(manager, cart_id, form, reason=reason)

    assert any(message in text for text in _messages(response)), _messages(response)
    assert staff.cart_detail(cart_id).running and levels(item.sku)[1] == 1


def test_an_unknown_cart_is_a_clear_message():
    response = _staff("Support").get(f"{LIST}{uuid.uuid4().hex}/change/", follow=True)

    assert response.status_code == 200
    assert any("There is no cart" in message for message in _messages(response)), _messages(response)


def test_temporal_unreachable_is_a_message_not_an_error(settings):
    support = _staff("Support")
    settings.TEMPORAL_ADDRESS = f"127.0.0.1:{closed_port()}"

    listing = support.get(LIST)
    index = support.get("/admin/").content.decode()

    assert listing.status_code == 200
    assert any("not answering" in message for message in _messages(listing)), _messages(listing)
    tile = re.search(r'<li class="dashboard-tile">(.*?)</li>', index, re.S).group(1)
    assert "Carts running" in tile and "—" in tile
