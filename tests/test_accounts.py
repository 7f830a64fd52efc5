"""Shopper accounts through HTTP against the real stack (SQL auth, Cassandra profiles, Temporal).

Register (Argon2, the verification email in the file backend), verify (the guest orders of the
email join the account, and only that account's), sign in and out, the login rate limit
(django-axes: locked after AXES_FAILURE_LIMIT failures, 429, even the right password refused),
password change and reset by email (a used or expired link refused), saved addresses."""

from __future__ import annotations

import time
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.test import Client

from checkout.contracts import Address
from identity import accounts
from orders import store
from tests.account_helpers import PASSWORD, emails_in, link_path, login, register, unique_email, wipe_shoppers
from tests.test_orders_store import make_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cassandra_schema")]


@pytest.fixture(autouse=True)
def _clean_accounts(cassandra_schema, settings, tmp_path):
    wipe_shoppers()
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "emails"
    yield


def _user(email: str):
    return get_user_model().objects.get(username=email)


def _verification_path(settings) -> str:
    [text] = [text for text in emails_in(settings.EMAIL_FILE_PATH) if "/accounts/verify/" in text]
    return link_path(text, "/accounts/verify/")


def _wait_for(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


# -- register and verify ---------------------------------------------------------------------------

def test_registering_signs_in_hashes_with_argon2_and_emails_a_verification_link(client, settings):
    email = unique_email()

    response = register(client, f"  {email.upper()} ")

    assert response.status_code == 302 and response["Location"] == "/accounts/profile/"
    user = _user(email)
    assert user.email == email and user.password.startswith("argon2")
    page = client.get("/accounts/profile/")
    assert page.status_code == 200
    html = page.content.decode()
    assert email in html and 'data-testid="email-unverified"' in html and 'data-testid="account-link"' in html
    assert _verification_path(settings).startswith("/accounts/verify/")


def test_a_taken_email_is_refused_with_a_clear_message_and_nothing_changes(client):
    email = unique_email()
    assert register(client, email).status_code == 302

    again = register(Client(), email.upper(), full_name="Someone Else", password="another-long-pass-9")

    assert again.status_code == 400
    assert "An account with this email already exists" in again.content.decode()
    assert get_user_model().objects.filter(username=email).count() == 1
    assert _user(email).check_password(PASSWORD)


def test_registration_refuses_mismatched_weak_and_overlong_input(client):
    email = unique_email()
    assert register(client, email, again="something-else-1").status_code == 400
    weak = register(client, email, password="12345678")
    assert weak.status_code == 400 and "too common" in weak.content.decode()
    assert register(client, email, full_name="x" * 101).status_code == 400
    assert register(client, "x" * 250 + "@example.com").status_code == 400
    assert register(client, email, password="p" * 129).status_code == 400
    assert not get_user_model().objects.filter(username=email).exists()


def test_verifying_links_the_guest_orders_of_the_email_and_no_one_else_sees_them(client, settings,
                                                                                  workers_in_thread):
    email = unique_email()
    guest = make_order(email=email.upper())
    store.write_order(guest)
    strangers = make_order(email=unique_email("grace"))
    store.write_order(strangers)
    assert register(client, email).status_code == 302
    shopper_id = str(_user(email).pk)
    # Before verification the guest order is not the account's.
    assert guest.order_number not in client.get("/orders/").content.decode()
    assert client.get(f"/orders/{guest.order_number}/").status_code == 404

    verified = client.get(_verification_path(settings))

    assert verified.status_code == 200 and 'data-testid="verified"' in verified.content.decode()
    assert _wait_for(lambda: store.read_order(guest.order_number).customer_id == shopper_id)
    listing = client.get("/orders/").content.decode()
    assert guest.order_number in listing and strangers.order_number not in listing
    assert client.get(f"/orders/{guest.order_number}/").status_code == 200
    assert 'data-testid="email-verified"' in client.get("/accounts/profile/").content.decode()
    # Verifying again is harmless: still one owner, still verified.
    assert client.get(_verification_path(settings)).status_code == 200
    assert store.read_order(guest.order_number).customer_id == shopper_id

    # A guest order placed later with the email (signed out) joins at the next sign-in.
    later = make_order(email=email)
    store.write_order(later)
    assert client.post("/accounts/logout/").status_code == 302
    assert login(client, email).status_code == 302
    assert _wait_for(lambda: store.read_order(later.order_number).customer_id == shopper_id)
    assert later.order_number in client.get("/orders/").content.decode()

    other = Client()
    assert register(other, unique_email("eve")).status_code == 302
    assert guest.order_number not in other.get("/orders/").content.decode()
    assert other.get(f"/orders/{guest.order_number}/").status_code == 404
    assert Client().get(f"/orders/{guest.order_number}/").status_code == 404


def test_an_order_placed_signed_in_shows_in_orders_without_verification(client):
    email = unique_email()
    assert register(client, email).status_code == 302
    order = make_order(email=email, customer_id=str(_user(email).pk))
    store.write_order(order)

    assert order.order_number in client.get("/orders/").content.decode()
    assert client.get(f"/orders/{order.order_number}/").status_code == 200


def test_a_tampered_or_expired_verification_link_is_refused(client, settings):
    email = unique_email()
    assert register(client, email).status_code == 302
    path = _verification_path(settings)

    tampered = client.get(path[:-3] + "xyz/")
    assert tampered.status_code == 400 and "not valid" in tampered.content.decode()
    settings.ACCOUNT_VERIFY_LINK_MAX_AGE_HOURS = 0
    time.sleep(1.1)
    expired = client.get(path)
    assert expired.status_code == 400 and "expired" in expired.content.decode()
    assert 'data-testid="email-unverified"' in client.get("/accounts/profile/").content.decode()


def test_sending_the_link_again_is_rate_limited(client, settings):
    settings.ACCOUNT_VERIFY_EMAILS_PER_HOUR = 2
    assert register(client, unique_email()).status_code == 302

    answers = [client.post("/accounts/verify/send/", follow=True).content.decode() for _ in range(3)]

    assert "We sent a new link" in answers[0] and "We sent a new link" in answers[1]
    assert "several links already" in answers[2]
    assert len([t for t in emails_in(settings.EMAIL_FILE_PATH) if "/accounts/verify/" in t]) == 3


# -- sign in, sign out, the rate limit ---------------------------------------------------------------

def test_signing_in_and_out(client):
    email = unique_email()
    assert register(Client(), email).status_code == 302

    wrong = login(client, email, "not-the-password")
    assert wrong.status_code == 400 and "do not match" in wrong.content.decode()
    signed_in = client.post("/accounts/login/", {"username": email.upper(), "password": PASSWORD,
                                                 "next": "/orders/"})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/orders/"
    assert client.get("/accounts/profile/").status_code == 200
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/accounts/profile/")["Location"].startswith("/accounts/login/")


def test_sign_in_never_redirects_to_another_site(client):
    email = unique_email()
    assert register(Client(), email).status_code == 302
    response = client.post("/accounts/login/", {"username": email, "password": PASSWORD,
                                                "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/profile/"


def test_the_login_locks_after_repeated_failures_even_for_the_right_password(client, settings):
    email = unique_email()
    assert register(Client(), email).status_code == 302
    limit = settings.AXES_FAILURE_LIMIT

    answers = [login(client, email, f"wrong-{n}").status_code for n in range(limit)]

    assert answers[:-1] == [400] * (limit - 1) and answers[-1] == 429
    locked = login(client, email, PASSWORD)
    assert locked.status_code == 429 and 'data-testid="locked-out"' in locked.content.decode()
    assert "Retry-After" in locked
    assert client.get("/accounts/profile/").status_code == 302  # not signed in
    # Another address is counted apart (lockout by email and address together).
    assert login(Client(), email, PASSWORD, REMOTE_ADDR="10.1.2.3").status_code == 302


# -- passwords ---------------------------------------------------------------------------------------

def test_changing_the_password_needs_the_old_one_and_keeps_this_session(client):
    email = unique_email()
    assert register(client, email).status_code == 302
    other_browser = Client()
    assert login(other_browser, email).status_code == 302

    wrong = client.post("/accounts/password/", {"old_password": "nope", "new_password1": "fresh-pass-2024x",
                                                "new_password2": "fresh-pass-2024x"})
    assert wrong.status_code == 400
    done = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": "fresh-pass-2024x",
                                               "new_password2": "fresh-pass-2024x"})
    assert done.status_code == 302
    assert client.get("/accounts/profile/").status_code == 200
    assert other_browser.get("/accounts/profile/").status_code == 302  # signed out elsewhere
    assert _user(email).check_password("fresh-pass-2024x")


def test_a_password_reset_link_works_once(client, settings):
    email = unique_email()
    assert register(Client(), email).status_code == 302

    sent = client.post("/accounts/password/reset/", {"email": email.upper()})
    nobody = client.post("/accounts/password/reset/", {"email": unique_email("nobody")})

    assert sent.status_code == 302 and nobody.status_code == 302 and sent["Location"] == nobody["Location"]
    [text] = [t for t in emails_in(settings.EMAIL_FILE_PATH) if "/accounts/password/reset/" in t]
    path = link_path(text, "/accounts/password/reset/")
    assert client.get(path).status_code == 200
    mismatch = client.post(path, {"new_password1": "brand-new-pass-77", "new_password2": "other-pass-77x"})
    assert mismatch.status_code == 400 and _user(email).check_password(PASSWORD)
    done = client.post(path, {"new_password1": "brand-new-pass-77", "new_password2": "brand-new-pass-77"})
    assert done.status_code == 302 and done["Location"] == "/accounts/login/"
    assert login(Client(), email, "brand-new-pass-77").status_code == 302
    assert login(Client(), email, PASSWORD).status_code == 400

    used = client.get(path)
    assert used.status_code == 400 and "used already or has expired" in used.content.decode()
    again = client.post(path, {"new_password1": "third-pass-888x", "new_password2": "third-pass-888x"})
    assert again.status_code == 400 and _user(email).check_password("brand-new-pass-77")


def test_an_expired_password_reset_link_is_refused(client, settings):
    email = unique_email()
    assert register(Client(), email).status_code == 302
    client.post("/accounts/password/reset/", {"email": email})
    [text] = [t for t in emails_in(settings.EMAIL_FILE_PATH) if "/accounts/password/reset/" in t]
    settings.PASSWORD_RESET_TIMEOUT = -1

    expired = client.get(link_path(text, "/accounts/password/reset/"))

    assert expired.status_code == 400 and "used already or has expired" in expired.content.decode()
    assert client.get("/accounts/password/reset/MQ/not-a-token/").status_code == 400


# -- the profile and saved addresses -------------------------------------------------------------------

ADDRESS = {"full_name": "Ada Shopper", "line1": "1 Main St", "line2": "", "city": "Portland", "state": "OR",
           "postal_code": "97201"}


def test_saved_addresses_are_added_listed_deleted_and_bounded(client, settings):
    settings.ACCOUNT_MAX_ADDRESSES = 3
    email = unique_email()
    assert register(client, email).status_code == 302
    shopper_id = str(_user(email).pk)

    assert client.post("/accounts/addresses/", ADDRESS).status_code == 302
    bad = client.post("/accounts/addresses/", {**ADDRESS, "postal_code": "ABCDE"})
    assert bad.status_code == 400 and "ZIP code" in bad.content.decode()
    assert client.post("/accounts/addresses/", ADDRESS).status_code == 302  # the same again: no copy
    for number in (2, 3):
        assert client.post("/accounts/addresses/", {**ADDRESS, "line1": f"{number} Main St"}).status_code == 302
    full = client.post("/accounts/addresses/", {**ADDRESS, "line1": "4 Main St"})
    assert full.status_code == 400 and "at most 3 addresses" in full.content.decode()

    saved = async_to_sync(accounts.saved_addresses)(shopper_id)
    assert [entry.address.line1 for entry in saved] == ["1 Main St", "2 Main St", "3 Main St"]
    assert all(entry.address.email == "" for entry in saved)
    assert 'data-testid="addresses-full"' in client.get("/accounts/profile/").content.decode()

    # Another shopper cannot delete them (the id is looked up in their own partition).
    other = Client()
    assert register(other, unique_email("eve")).status_code == 302
    assert other.post("/accounts/addresses/delete/", {"address_id": saved[0].address_id}).status_code == 302
    assert len(async_to_sync(accounts.saved_addresses)(shopper_id)) == 3

    assert client.post("/accounts/addresses/delete/", {"address_id": saved[0].address_id}).status_code == 302
    assert [entry.address.line1 for entry in async_to_sync(accounts.saved_addresses)(shopper_id)] == \
        ["2 Main St", "3 Main St"]


def test_the_services_save_address_validates_dedupes_and_limits(settings):
    settings.ACCOUNT_MAX_ADDRESSES = 2
    shopper_id = "299"
    address = Address("ada@example.com", "Ada Shopper", "1 Main St", "", "Portland", "or", "97201")

    first = async_to_sync(accounts.save_address)(shopper_id, address)
    assert first.address.email == "" and first.address.state == "OR"
    assert async_to_sync(accounts.save_address)(shopper_id, replace(address, line1=" 1  main st")) == first
    second = async_to_sync(accounts.save_address)(shopper_id, replace(address, line1="2 Main St"))
    with pytest.raises(accounts.AccountRefusal, match="at most 2"):
        async_to_sync(accounts.save_address)(shopper_id, replace(address, line1="3 Main St"))
    for bad in (replace(address, state="ZZ"), replace(address, postal_code="1"), replace(address, full_name=""),
                replace(address, city="c" * 61), replace(address, country="FR")):
        with pytest.raises(accounts.AccountRefusal):
            async_to_sync(accounts.save_address)("298", bad)
    assert async_to_sync(accounts.saved_address)(shopper_id, second.address_id) == second
    assert async_to_sync(accounts.saved_address)("298", second.address_id) is None


def test_the_profile_needs_a_sign_in_and_changes_the_name(client):
    to_login = urlsplit(client.get("/accounts/profile/")["Location"])
    assert to_login.path == "/accounts/login/" and parse_qs(to_login.query) == {"next": ["/accounts/profile/"]}
    assert register(client, unique_email()).status_code == 302

    assert client.post("/accounts/profile/", {"full_name": "Ada Lovelace"}).status_code == 302
    assert "Ada Lovelace" in client.get("/accounts/profile/").content.decode()
    assert client.post("/accounts/profile/", {"full_name": ""}).status_code == 400


def test_a_password_reset_lifts_the_sign_in_lockout(client, settings):
    email = unique_email()
    assert register(Client(), email).status_code == 302
    for n in range(settings.AXES_FAILURE_LIMIT):
        login(client, email, f"wrong-{n}")
    assert login(client, email, PASSWORD).status_code == 429

    client.post("/accounts/password/reset/", {"email": email})
    [text] = [t for t in emails_in(settings.EMAIL_FILE_PATH) if "/accounts/password/reset/" in t]
    path = link_path(text, "/accounts/password/reset/")
    assert client.post(path, {"new_password1": "brand-new-pass-77", "new_password2": "brand-new-pass-77"}).status_code \
        == 302

    assert login(client, email, "brand-new-pass-77").status_code == 302


def test_account_forms_refuse_a_post_without_the_csrf_token():
    browser = Client(enforce_csrf_checks=True)
    for path in ("/accounts/login/", "/accounts/register/", "/accounts/logout/", "/accounts/password/reset/"):
        assert browser.post(path, {"username": "a@example.com", "password": "x"}).status_code == 403
