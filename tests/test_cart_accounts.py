"""The cart of a signed-in shopper, through the real sign-in page, workers, Temporal and Cassandra:
it follows them from browser to browser, a guest cart merges into it on sign-in (capped lines named),
it survives sign-out, and sign-ins or first adds racing each other end with one cart and every line."""

import asyncio
import re
import uuid
from html import unescape

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.test import AsyncClient

from cart import pointers, services
from commerce.cassandra import session, table
from tests.console_helpers import PASSWORD
from tests.stock_helpers import fresh_sku, levels

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog", "running_workers")]


@pytest.fixture(autouse=True)
def cart_settings(settings):
    settings.CART_CREATIONS_PER_MINUTE = 1000
    settings.CART_MAX_UNITS_PER_SKU = 5


@pytest.fixture
def variants(catalog):
    taken = iter(catalog.variants[400:520])

    def take(on_hand: int = 20):
        variant = next(taken)
        fresh_sku(on_hand, sku=variant.sku)
        return variant

    return take


def _forget_cart_of(shopper_id: str) -> None:
    """Each test empties the SQL tables, so user ids come round again; Cassandra keeps its rows."""
    session().execute(f"DELETE FROM {table('carts_by_shopper')} WHERE shopper_id = %s", [shopper_id])


async def _account() -> str:
    email = f"shopper-{uuid.uuid4().hex[:8]}@example.com"
    user = await sync_to_async(get_user_model().objects.create_user)(email, email=email, password=PASSWORD)
    await sync_to_async(_forget_cart_of)(str(user.pk))
    return email


async def _shopper_id(email: str) -> str:
    return str((await get_user_model().objects.aget(username=email)).pk)


async def _sign_in(client, email: str):
    response = await client.post("/accounts/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[-1500:]
    return response


async def _add(client, sku: str, quantity: int = 1):
    response = await client.post("/cart/add/", {"sku": sku, "quantity": quantity, "nonce": uuid.uuid4().hex},
                                 HTTP_REFERER="/cart/")
    assert response.status_code == 302, response.content.decode()[-1500:]


async def _cart(client) -> tuple[dict[str, int], str]:
    """(quantity by SKU, the page) of the cart page."""
    html = (await client.get("/cart/")).content.decode()
    lines = {sku: int(quantity) for sku, quantity in
             re.findall(r'name="sku" value="([^"]+)">\s*<label[^>]*>[^<]*</label>\s*<input[^>]*name="quantity" '
                        r'value="(\d+)"', html)}
    return lines, html


def _messages(html: str) -> list[str]:
    return [unescape(m) for m in re.findall(r'<p class="message [^"]*"[^>]*>([^<]*)</p>', html)]


def _set_on_hand(sku: str, on_hand: int) -> None:
    """The SKU's stock changes under the carts (a recount): its first supplier row now has `on_hand`."""
    rows = list(session().execute(f"SELECT supplier_id, on_hand FROM {table('inventory_stock')} WHERE sku = %s", [sku]))
    supplier = max(rows, key=lambda row: row["on_hand"])["supplier_id"]
    session().execute(f"UPDATE {table('inventory_stock')} SET on_hand = %s WHERE sku = %s AND supplier_id = %s",
                      [on_hand, sku, supplier])


async def test_the_cart_page_reads_its_lines(variants):
    """The helper below reads the cart page's lines (a guard for the tests that rely on it)."""
    item = variants()
    client = AsyncClient()
    await _add(client, item.sku, 2)

    assert (await _cart(client))[0] == {item.sku: 2}


async def test_a_signed_in_shoppers_cart_follows_them_to_another_browser(variants):
    email = await _account()
    shirt, mug = variants(), variants()
    laptop, phone = AsyncClient(), AsyncClient()
    await _sign_in(laptop, email)
    await _add(laptop, shirt.sku, 2)

    await _sign_in(phone, email)
    assert (await _cart(phone))[0] == {shirt.sku: 2}
    await _add(phone, mug.sku, 1)

    assert (await _cart(laptop))[0] == {shirt.sku: 2, mug.sku: 1}
    assert await pointers.current(await _shopper_id(email))


async def test_a_guest_cart_becomes_the_shoppers_cart_when_they_have_none(variants):
    email = await _account()
    item = variants()
    browser = AsyncClient()
    await _add(browser, item.sku, 3)
    guest_cart = await browser.session.aget("cart_id")

    await _sign_in(browser, email)

    assert (await _cart(browser))[0] == {item.sku: 3}
    assert await pointers.current(await _shopper_id(email)) == guest_cart
    assert levels(item.sku)[1] == 3


async def test_a_guest_cart_merges_into_the_shoppers_cart_and_each_capped_line_is_named(variants, catalog):
    names = {product.slug: product.name for product in catalog.products}

    def label(variant) -> str:
        return f"{names[variant.product_slug]} ({variant.colour}, {variant.size})"

    email = await _account()
    mug, shirt, hat = variants(on_hand=4), variants(), variants()
    laptop = AsyncClient()
    await _sign_in(laptop, email)
    await _add(laptop, mug.sku, 2)
    await _add(laptop, shirt.sku, 3)

    guest = AsyncClient()
    await _add(guest, mug.sku, 2)  # the last 2 of 4
    await _add(guest, shirt.sku, 4)  # 3 + 4 is over the cap of 5 of one item
    await _add(guest, hat.sku, 1)
    guest_cart = await guest.session.aget("cart_id")
    await sync_to_async(_set_on_hand)(mug.sku, 3)  # a recount: one mug fewer than the carts hold

    await _sign_in(guest, email)
    assert await guest.session.aget("cart_count") == 9  # the header counts the merged cart at once

    lines, html = await _cart(guest)
    assert lines == {mug.sku: 3, shirt.sku: 5, hat.sku: 1}
    said = " ".join(_messages(html))
    assert f"Only 3 of {label(mug)} could be kept: that is all there is in stock." in said, said
    assert f"Only 5 of {label(shirt)} could be kept: you can hold at most 5 of one item." in said, said
    assert label(hat) not in said
    # The guest cart ended and let go of its holds; the shopper's cart holds what it kept.
    assert (await _cart(laptop))[0] == lines
    assert levels(mug.sku)[1] == 3 and levels(shirt.sku)[1] == 5 and levels(hat.sku)[1] == 1
    assert await pointers.current(await _shopper_id(email)) != guest_cart


async def test_signing_out_leaves_the_cart_with_the_account_for_the_next_sign_in_elsewhere(variants):
    email = await _account()
    item = variants()
    first = AsyncClient()
    await _sign_in(first, email)
    await _add(first, item.sku, 2)

    await first.post("/accounts/logout/")
    assert (await _cart(first))[0] == {}

    second = AsyncClient()
    await _sign_in(second, email)
    assert (await _cart(second))[0] == {item.sku: 2}
    await _sign_in(first, email)
    assert (await _cart(first))[0] == {item.sku: 2}


async def test_two_sign_ins_at_once_with_guest_carts_keep_every_line_in_one_cart(variants):
    email = await _account()
    shirt, mug = variants(), variants()
    one, two = AsyncClient(), AsyncClient()
    await _add(one, shirt.sku, 1)
    await _add(two, mug.sku, 2)

    await asyncio.gather(_sign_in(one, email), _sign_in(two, email))

    assert (await _cart(one))[0] == {shirt.sku: 1, mug.sku: 2}
    assert (await _cart(two))[0] == {shirt.sku: 1, mug.sku: 2}
    assert levels(shirt.sku)[1] == 1 and levels(mug.sku)[1] == 2


async def test_two_sign_ins_at_once_into_an_account_with_a_cart_merge_both(variants):
    email = await _account()
    shirt, mug, hat = variants(), variants(), variants()
    owner = AsyncClient()
    await _sign_in(owner, email)
    await _add(owner, hat.sku, 1)
    one, two = AsyncClient(), AsyncClient()
    await _add(one, shirt.sku, 1)
    await _add(two, mug.sku, 2)

    await asyncio.gather(_sign_in(one, email), _sign_in(two, email))

    assert (await _cart(owner))[0] == {hat.sku: 1, shirt.sku: 1, mug.sku: 2}


async def test_first_adds_in_two_signed_in_browsers_at_once_make_one_cart(variants):
    email = await _account()
    shirt, mug = variants(), variants()
    one, two = AsyncClient(), AsyncClient()
    await _sign_in(one, email)
    await _sign_in(two, email)

    await asyncio.gather(_add(one, shirt.sku, 1), _add(two, mug.sku, 1))

    assert (await _cart(one))[0] == {shirt.sku: 1, mug.sku: 1}
    assert (await _cart(two))[0] == {shirt.sku: 1, mug.sku: 1}


async def test_a_session_signed_in_some_other_way_brings_its_guest_cart_along_on_the_next_cart_request(variants):
    """Signed in without the sign-in page's hook (an admin "log in as", a test's force_login): the
    session's cart becomes the shopper's on their next cart request."""
    email = await _account()
    item = variants()
    browser = AsyncClient()
    await _add(browser, item.sku, 2)
    guest_cart = await browser.session.aget("cart_id")

    await browser.aforce_login(await get_user_model().objects.aget(username=email))

    assert (await _cart(browser))[0] == {item.sku: 2}
    assert await pointers.current(await _shopper_id(email)) == guest_cart
    assert (await _cart(AsyncClient()))[0] == {}
    other = AsyncClient()
    await _sign_in(other, email)
    assert (await _cart(other))[0] == {item.sku: 2}


async def test_a_merge_cut_short_after_the_guest_cart_ended_is_finished_on_the_next_cart_request(variants):
    """The guest cart ended (its lines in its run's result) but the merge did not reach the shopper's
    cart (the worker or Temporal went away): the session remembers it, and the next request ends it."""
    email = await _account()
    hat, shirt = variants(), variants()
    owner = AsyncClient()
    await _sign_in(owner, email)
    await _add(owner, hat.sku, 1)
    guest = AsyncClient()
    await _add(guest, shirt.sku, 2)
    guest_cart = await guest.session.aget("cart_id")
    assert [line.sku for line in await services._end_guest_cart(guest_cart)] == [shirt.sku]
    stored = guest.session
    await stored.aset("cart_merge_pending", guest_cart)
    await stored.asave()
    await guest.aforce_login(await get_user_model().objects.aget(username=email))

    assert (await _cart(guest))[0] == {hat.sku: 1, shirt.sku: 2}
    assert (await _cart(owner))[0] == {hat.sku: 1, shirt.sku: 2}
    assert await guest.session.aget("cart_merge_pending") is None
    assert levels(shirt.sku)[1] == 2
