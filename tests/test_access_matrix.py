"""A signed-in shopper's order and API token, tried by everyone who is not them: another signed-in
shopper, a guest and a signed-in user who is not staff (in the storefront and in the admin). Each
gets what a stranger gets (404, or the admin's login) and nothing changes."""

from __future__ import annotations

import uuid

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.test import Client

from identity import token_services, tokens
from identity.contracts import TokenScopes
from tests.account_helpers import login, register, unique_email, wipe_shoppers
from tests.stock_helpers import fresh_sku
from tests.test_admin_order_page import place

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog", "workers_in_thread")]


@pytest.fixture(autouse=True)
def shop_settings(settings, tmp_path):
    settings.CART_CREATIONS_PER_MINUTE = 1000
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    wipe_shoppers()


def _signed_in(name: str) -> Client:
    client, email = Client(), unique_email(name)
    assert register(client, email).status_code == 302
    assert login(client, email).status_code == 302
    return client


@pytest.fixture
def victim(catalog):
    """A signed-in shopper with an order placed in their session and an API token."""
    client = _signed_in("ada")
    sku = fresh_sku(20, sku=catalog.variants[1330].sku)
    number = place(sku, client=client)
    user = get_user_model().objects.get(pk=client.session["_auth_user_id"])
    created = async_to_sync(token_services.create_token)(str(user.pk), False, "Sync", [TokenScopes.ORDERS_READ], 30)
    return client, number, created.token.token_id


def _everyone_else() -> dict[str, Client]:
    plain = Client()
    plain.force_login(get_user_model().objects.create_user(f"plain-{uuid.uuid4().hex[:6]}", password="x-long-pass-1"))
    return {"another shopper": _signed_in("eve"), "a guest": Client(), "a user who is not staff": plain}


def test_a_shoppers_order_and_token_are_nobody_elses(victim):
    owner, number, token_id = victim
    assert owner.get(f"/orders/{number}/").status_code == 200  # the owner sees it

    for who, client in _everyone_else().items():
        assert client.get(f"/orders/{number}/").status_code == 404, who
        assert number not in client.get("/orders/").content.decode(), who
        admin = client.get(f"/admin/orders/order/{number}/change/")
        assert admin.status_code == 302 and "/admin/login/" in admin["Location"], who
        # A guest is sent to sign in; a signed-in stranger is told there is no such token.
        assert client.post(f"/accounts/tokens/{token_id}/revoke/").status_code == 302, who
        view, _ = tokens.read_token(token_id)
        assert view.revoked_at is None, f"{who} revoked the owner's token"
