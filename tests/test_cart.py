"""The cart through its HTTP endpoints, against real workers, Temporal, Cassandra and Elasticsearch."""

import asyncio
import re
import time
import uuid
from html import unescape

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import caches
from django.test import AsyncClient
from temporalio.service import RPCError, RPCStatusCode

from cart import services
from cart.contracts import cart_workflow_id
from commerce.ratelimit import RATE_LIMIT_CACHE
from tests.stock_helpers import fresh_sku, levels

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog", "running_workers")]


@pytest.fixture(autouse=True)
def carts_per_address(settings):
    """Every test client comes from 127.0.0.1: the cart creation limit per address is tested on its own."""
    settings.CART_CREATIONS_PER_MINUTE = 1000


@pytest.fixture
def variants(catalog):
    """Distinct catalog variants for each test, with their stock reset to 20 units."""
    taken = iter(catalog.variants[1000:])

    def take(on_hand: int = 20):
        variant = next(taken)
        while variant.price_cents < 1000:
            variant = next(taken)
        fresh_sku(on_hand, sku=variant.sku)
        return variant

    return take


async def _add(client, sku, quantity=1, nonce=None, **extra):
    data = {"sku": sku, "quantity": quantity, "nonce": nonce or uuid.uuid4().hex, **extra}
    return await client.post("/cart/add/", data, HTTP_REFERER="/cart/")


async def _cart_html(client) -> str:
    return (await client.get("/cart/")).content.decode()


def _total_cents(html: str) -> int:
    return int(re.search(r'data-testid="cart-total" data-cents="(\d+)"', html).group(1))


def _count(html: str) -> int:
    return int(re.search(r'data-testid="cart-count">(\d+)<', html).group(1))


def _messages(html: str) -> list[str]:
    return [unescape(m) for m in re.findall(r'<p class="message [^"]*"[^>]*>([^<]*)</p>', html)]


async def test_lines_are_added_changed_and_removed(async_client, variants):
    shirt, mug = variants(), variants()

    await _add(async_client, shirt.sku, 2)
    await _add(async_client, mug.sku, 1)
    html = await _cart_html(async_client)
    assert _count(html) == 3
    assert _total_cents(html) == 2 * shirt.price_cents + mug.price_cents

    await async_client.post("/cart/update/", {"sku": shirt.sku, "quantity": 5})
    assert _total_cents(await _cart_html(async_client)) == 5 * shirt.price_cents + mug.price_cents
    assert levels(shirt.sku)[1] == 5

    await async_client.post("/cart/remove/", {"sku": mug.sku})
    html = await _cart_html(async_client)
    assert _count(html) == 5 and mug.sku not in html
    assert levels(mug.sku)[1] == 0


async def test_a_price_in_the_form_is_ignored(async_client, variants):
    item = variants()

    await _add(async_client, item.sku, 1, price="1", price_cents="1", unit_price_cents="1")

    assert _total_cents(await _cart_html(async_client)) == item.price_cents


async def test_a_double_submit_with_the_same_nonce_adds_once(async_client, variants):
    item = variants()
    nonce = uuid.uuid4().hex

    await _add(async_client, item.sku, 2, nonce=nonce)
    await _add(async_client, item.sku, 2, nonce=nonce)

    html = await _cart_html(async_client)
    assert _count(html) == 2
    assert levels(item.sku)[1] == 2


async def test_out_of_stock_is_refused_with_what_is_left_and_changes_nothing(async_client, variants):
    item = variants(on_hand=3)
    await _add(async_client, item.sku, 2)

    response = await _add(async_client, item.sku, 2)
    follow = await async_client.get(response["Location"])
    html = follow.content.decode()

    assert any("only 1 more" in message for message in _messages(html)), _messages(html)
    assert _count(html) == 2
    assert levels(item.sku)[1] == 2


async def test_a_sold_out_item_is_refused_for_a_new_cart(async_client, variants):
    item = variants(on_hand=0)

    response = await _add(async_client, item.sku, 1)
    html = (await async_client.get(response["Location"])).content.decode()

    assert any("sold out" in message for message in _messages(html))
    assert 'data-testid="cart-empty"' in html


@pytest.mark.parametrize("data,message", [
    ({"sku": "", "quantity": 1}, "Sku"),
    ({"quantity": 0}, "Quantity"),
    ({"quantity": 100}, "Quantity"),
    ({"quantity": "two"}, "Quantity"),
    ({"nonce": "x"}, "out of date"),
    ({"sku": "DROP TABLE;"}, "Choose a product"),
])
async def test_bad_add_forms_get_a_clear_message_and_change_nothing(async_client, variants, data, message):
    item = variants()
    form = {"sku": item.sku, "quantity": 1, "nonce": uuid.uuid4().hex, **data}

    response = await async_client.post("/cart/add/", form, HTTP_REFERER="/cart/")
    html = (await async_client.get(response["Location"])).content.decode()

    assert any(message in m for m in _messages(html)), _messages(html)
    assert levels(item.sku)[1] == 0


async def test_holding_more_than_the_cap_of_one_item_is_refused_with_a_clear_message(async_client, variants):
    item = variants(on_hand=30)
    await _add(async_client, item.sku, 15)

    response = await _add(async_client, item.sku, 6)
    html = (await async_client.get(response["Location"])).content.decode()

    assert any("You can hold at most 20 of one item." in m for m in _messages(html)), _messages(html)
    assert _count(html) == 15
    assert levels(item.sku)[1] == 15


async def test_a_cart_with_the_most_lines_allowed_refuses_another_item(async_client, variants, settings):
    settings.CART_MAX_LINES = 2
    items = [variants(), variants(), variants()]

    for item in items[:2]:
        await _add(async_client, item.sku, 1)
    response = await _add(async_client, items[2].sku, 1)
    html = (await async_client.get(response["Location"])).content.decode()

    assert any("A cart holds at most 2 different items." in m for m in _messages(html)), _messages(html)
    assert _count(html) == 2
    assert levels(items[2].sku)[1] == 0


async def _early_in_a_minute() -> None:
    """Cart creations are counted per calendar minute: start the test early in one, so all its
    attempts fall in the same minute."""
    left = 60 - time.time() % 60
    if left < 20:
        await asyncio.sleep(left)


async def test_a_client_that_started_too_many_carts_this_minute_is_refused_with_429_and_nothing_starts(
        variants, settings, temporal_client):
    settings.CART_CREATIONS_PER_MINUTE = 2
    await caches[RATE_LIMIT_CACHE].aclear()
    item = variants()
    shoppers = [AsyncClient() for _ in range(3)]  # three sessions from one address
    nonces = [uuid.uuid4().hex for _ in shoppers]
    await _early_in_a_minute()

    answers = [await _add(shopper, item.sku, 1, nonce=nonce) for shopper, nonce in zip(shoppers, nonces, strict=True)]
    with_a_cart = await _add(shoppers[0], item.sku, 1)  # not a new cart: not limited

    assert [answer.status_code for answer in answers] == [302, 302, 429]
    refused = answers[2].content.decode()
    assert 'class="site-header"' in refused and f'name="nonce" value="{nonces[2]}"' in refused
    assert any("too many carts" in m for m in _messages(refused)), _messages(refused)
    with pytest.raises(RPCError) as missing:
        await temporal_client.get_workflow_handle(cart_workflow_id(services.new_cart_id(nonces[2]))).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND
    assert with_a_cart.status_code == 302
    assert levels(item.sku)[1] == 3


async def test_a_change_to_a_cart_that_does_not_exist_starts_nothing(async_client):
    response = await async_client.post("/cart/coupon/", {"code": "WELCOME10"}, HTTP_REFERER="/cart/")
    html = (await async_client.get(response["Location"])).content.decode()

    assert "Your cart is empty." in _messages(html)
    assert not await (await async_client.asession()).ahas_key("cart_id")


async def test_the_cart_session_lives_as_long_as_an_idle_cart(async_client, variants, settings):
    response = await _add(async_client, variants().sku, 1)

    assert response.cookies["sessionid"]["max-age"] == settings.CART_IDLE_EXPIRY_SECONDS


def test_a_session_is_kept_as_long_as_an_idle_cart_lives(settings):
    assert SessionStore().get_session_cookie_age() >= settings.CART_IDLE_EXPIRY_SECONDS


async def test_an_unknown_sku_is_refused(async_client):
    response = await _add(async_client, "HC99999-BLK-M", 1)
    html = (await async_client.get(response["Location"])).content.decode()
    assert any("There is no such product." in m for m in _messages(html)), _messages(html)


async def test_percentage_and_fixed_coupons_discount_the_total(async_client, variants):
    item = variants()
    await _add(async_client, item.sku, 3)
    subtotal = 3 * item.price_cents

    await async_client.post("/cart/coupon/", {"code": " welcome10 "})
    assert _total_cents(await _cart_html(async_client)) == subtotal - subtotal * 10 // 100

    await async_client.post("/cart/coupon/", {"code": "TAKE5"})
    assert _total_cents(await _cart_html(async_client)) == subtotal - 500

    await async_client.post("/cart/coupon/", {"code": ""})
    assert _total_cents(await _cart_html(async_client)) == subtotal


@pytest.mark.parametrize("code,message", [("NOPE", "don't know"), ("SUMMER25", "expired")])
async def test_unknown_and_expired_coupons_are_refused(async_client, variants, code, message):
    item = variants()
    await _add(async_client, item.sku, 1)

    response = await async_client.post("/cart/coupon/", {"code": code}, HTTP_REFERER="/cart/")
    html = (await async_client.get(response["Location"])).content.decode()

    assert any(message in m for m in _messages(html))
    assert _total_cents(html) == item.price_cents


async def test_a_fixed_coupon_needs_its_minimum(async_client, catalog, variants):
    item = variants()
    while item.price_cents >= 2500:
        item = variants()
    await _add(async_client, item.sku, 1)

    response = await async_client.post("/cart/coupon/", {"code": "TAKE5"}, HTTP_REFERER="/cart/")
    html = (await async_client.get(response["Location"])).content.decode()

    assert any("at least $25.00" in m for m in _messages(html))


async def test_a_shopper_without_a_cart_sees_an_empty_one(async_client):
    html = await _cart_html(async_client)
    assert 'data-testid="cart-empty"' in html and _count(html) == 0


async def test_a_cart_whose_workflow_is_missing_reads_as_empty(async_client):
    session = await async_client.asession()
    session["cart_id"] = "never-started-" + uuid.uuid4().hex
    await session.asave()
    async_client.cookies["sessionid"] = session.session_key

    html = await _cart_html(async_client)

    assert 'data-testid="cart-empty"' in html


async def test_cart_changes_need_the_csrf_token(variants):
    client = AsyncClient(enforce_csrf_checks=True)
    item = variants()

    response = await client.post("/cart/add/", {"sku": item.sku, "quantity": 1, "nonce": uuid.uuid4().hex})

    assert response.status_code == 403
    assert levels(item.sku)[1] == 0


async def test_a_get_never_changes_the_cart(async_client, variants):
    item = variants()
    response = await async_client.get(f"/cart/add/?sku={item.sku}&quantity=1&nonce={uuid.uuid4().hex}")
    assert response.status_code == 405
    assert levels(item.sku)[1] == 0


async def test_a_new_cart_whose_id_ran_before_is_settled_as_any_cart_and_not_refused(variants, temporal_client):
    item = variants()
    cart_id = f"test-{uuid.uuid4().hex}"
    await services.add_item(cart_id, item.sku, 1, uuid.uuid4().hex, new_cart=True)
    await temporal_client.get_workflow_handle(cart_workflow_id(cart_id)).terminate("a cart that ran before")

    # Its id ran before: the update-with-start refuses to start it again, and the usual path starts a new run.
    view = await services.add_item(cart_id, item.sku, 2, uuid.uuid4().hex, new_cart=True)

    assert [(line.sku, line.quantity) for line in view.lines] == [(item.sku, 2)]
