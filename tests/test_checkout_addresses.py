"""Checkout's shipping step for a signed-in shopper, against the real stack: their saved addresses are
offered and the chosen one is loaded by id (never from the posted fields), a new one is saved on
request, the email is the account's, and another shopper's address id is refused with nothing changed."""

import re
import uuid
from html import unescape

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.test import AsyncClient

from checkout import services as checkout_services
from checkout.contracts import Address, CheckoutStep
from commerce.cassandra import session, table
from identity import accounts
from tests.console_helpers import PASSWORD
from tests.stock_helpers import fresh_sku

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog", "running_workers")]

NEW_ADDRESS = {"full_name": "Ada Lovelace", "line1": "1 Loop Rd", "line2": "", "city": "San Francisco",
               "state": "CA", "postal_code": "94110", "country": "US", "shipping_method": "standard"}
HOME = Address("", "Grace Hopper", "7 Navy Way", "Apt 2", "Arlington", "VA", "22201")


@pytest.fixture(autouse=True)
def shop_settings(settings):
    settings.CART_CREATIONS_PER_MINUTE = 1000


@pytest.fixture
def variants(catalog):
    taken = iter(catalog.variants[520:600])

    def take(on_hand: int = 20):
        variant = next(taken)
        fresh_sku(on_hand, sku=variant.sku)
        return variant

    return take


def _forget(shopper_id: str) -> None:
    """Each test empties the SQL tables, so user ids come round again; Cassandra keeps its rows."""
    for name in ("carts_by_shopper", "shopper_addresses"):
        session().execute(f"DELETE FROM {table(name)} WHERE shopper_id = %s", [shopper_id])


async def _account() -> tuple[str, str]:
    """(email, shopper id) of a new account."""
    email = f"shopper-{uuid.uuid4().hex[:8]}@example.com"
    user = await sync_to_async(get_user_model().objects.create_user)(email, email=email, password=PASSWORD)
    await sync_to_async(_forget)(str(user.pk))
    return email, str(user.pk)


async def _signed_in_at_shipping(variants) -> tuple[AsyncClient, str, str]:
    """A signed-in shopper with an item in the cart, at the shipping step: (client, email, shopper id)."""
    email, shopper_id = await _account()
    client = AsyncClient()
    response = await client.post("/accounts/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[-1500:]
    response = await client.post("/cart/add/", {"sku": variants().sku, "quantity": 1, "nonce": uuid.uuid4().hex})
    assert response.status_code == 302
    start = await client.post("/checkout/start/")
    assert start["Location"].endswith("/checkout/shipping/"), start
    return client, email, shopper_id


async def _checkout(client):
    return await checkout_services.current(await client.session.aget("cart_id"))


def _saved_choices(html: str) -> list[str]:
    return re.findall(r'name="saved_address" value="([^"]+)"', html)


async def test_a_new_address_is_saved_to_the_account_on_request_and_the_email_is_the_accounts(variants):
    client, email, shopper_id = await _signed_in_at_shipping(variants)
    page = (await client.get("/checkout/shipping/")).content.decode()
    assert 'name="email"' not in page and email in page
    assert _saved_choices(page) == []

    response = await client.post("/checkout/shipping/", {**NEW_ADDRESS, "email": "someone@else.example",
                                                         "save_address": "on"})

    assert response["Location"].endswith("/checkout/payment/"), response.content.decode()[-2000:]
    shipping = (await _checkout(client)).shipping
    assert shipping.address.email == email
    assert shipping.address.line1 == "1 Loop Rd"
    saved = await accounts.saved_addresses(shopper_id)
    assert [item.address.line1 for item in saved] == ["1 Loop Rd"]


async def test_an_address_not_asked_to_be_saved_is_not_saved(variants):
    client, _, shopper_id = await _signed_in_at_shipping(variants)

    response = await client.post("/checkout/shipping/", NEW_ADDRESS)

    assert response["Location"].endswith("/checkout/payment/")
    assert await accounts.saved_addresses(shopper_id) == ()


async def test_a_saved_address_is_offered_and_the_chosen_one_is_loaded_by_its_id(variants):
    client, email, shopper_id = await _signed_in_at_shipping(variants)
    home = await accounts.save_address(shopper_id, HOME)
    page = (await client.get("/checkout/shipping/")).content.decode()
    assert _saved_choices(page) == [home.address_id, "new"]
    assert "7 Navy Way" in unescape(page)

    # The posted address fields are not the saved address's: they are ignored for it.
    response = await client.post("/checkout/shipping/", {**NEW_ADDRESS, "saved_address": home.address_id})

    assert response["Location"].endswith("/checkout/payment/"), response.content.decode()[-2000:]
    address = (await _checkout(client)).shipping.address
    assert address.line1 == "7 Navy Way" and address.full_name == "Grace Hopper" and address.email == email


async def test_a_saved_address_needs_no_address_fields(variants):
    client, _, shopper_id = await _signed_in_at_shipping(variants)
    home = await accounts.save_address(shopper_id, HOME)

    response = await client.post("/checkout/shipping/", {"saved_address": home.address_id,
                                                         "shipping_method": "standard"})

    assert response["Location"].endswith("/checkout/payment/"), response.content.decode()[-2000:]
    assert (await _checkout(client)).shipping.address.city == "Arlington"


async def test_another_shoppers_address_id_is_refused_and_nothing_changes(variants):
    _, other_id = await _account()
    theirs = await accounts.save_address(other_id, HOME)
    client, _, shopper_id = await _signed_in_at_shipping(variants)
    await accounts.save_address(shopper_id, Address("", "Ada Lovelace", "1 Loop Rd", "", "San Francisco", "CA",
                                                    "94110"))

    response = await client.post("/checkout/shipping/", {**NEW_ADDRESS, "saved_address": theirs.address_id})

    assert response.status_code == 400
    assert "Choose one of your saved addresses" in unescape(response.content.decode())
    view = await _checkout(client)
    assert view.step == CheckoutStep.SHIPPING and view.shipping is None


async def test_an_address_id_of_another_shopper_is_refused_when_the_shopper_has_none_saved(variants):
    _, other_id = await _account()
    theirs = await accounts.save_address(other_id, HOME)
    client, _, _ = await _signed_in_at_shipping(variants)

    response = await client.post("/checkout/shipping/", {"saved_address": theirs.address_id,
                                                         "shipping_method": "standard"})

    assert response.status_code == 400
    view = await _checkout(client)
    assert view.step == CheckoutStep.SHIPPING and view.shipping is None


async def test_a_guest_still_gives_an_email_and_is_offered_no_saved_addresses(variants):
    client = AsyncClient()
    await client.post("/cart/add/", {"sku": variants().sku, "quantity": 1, "nonce": uuid.uuid4().hex})
    await client.post("/checkout/start/")
    page = (await client.get("/checkout/shipping/")).content.decode()
    assert 'name="email"' in page and 'name="saved_address"' not in page and 'name="save_address"' not in page

    response = await client.post("/checkout/shipping/", {**NEW_ADDRESS, "email": "guest@example.com"})

    assert response["Location"].endswith("/checkout/payment/")
    assert (await _checkout(client)).shipping.address.email == "guest@example.com"
