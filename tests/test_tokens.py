"""The tokens page against the real stack: a token is made with its scopes and expiry, its secret is
shown once and stored only as a hash, its workflow runs until expiry; revoking it from the page
refuses it at once in the API and ends the workflow; orders:write is for staff only; another
account cannot revoke it; bad input is refused with a message and makes nothing."""

import hashlib
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.test import Client
from temporalio.client import WorkflowExecutionStatus

from commerce.ratelimit import RATE_LIMIT_CACHE
from commerce.temporal import connect
from identity import token_services, tokens
from identity.contracts import ApiTokenOutcome, TokenRevokeReasons, api_token_workflow_id
from identity.models import ApiToken, ApiTokenByOwner
from tests.console_helpers import PASSWORD, staff_member

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("cassandra_schema",
                                                                              "workers_in_thread")]

PAGE = "/accounts/tokens/"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """User ids come round again in every test (the SQL tables are emptied), the shared cache's rate
    limit windows (a table no flush empties) would carry one test's token creations into the next."""
    caches[RATE_LIMIT_CACHE].clear()
SECRET = re.compile(r'data-testid="token-secret">(hc_[0-9a-f]{16}_[A-Za-z0-9_-]{43})<')


def account(email: str, **extra):
    user = get_user_model().objects.create_user(email, email=email, password=PASSWORD, **extra)
    # User ids come round again in every test; Cassandra keeps the tokens listed under earlier ones.
    ApiTokenByOwner.objects.filter(owner_id=str(user.pk)).delete()
    return user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def create(client: Client, name: str = "Warehouse sync", scopes=("catalog:read",), days: int = 30):
    return client.post(PAGE, {"name": name, "scopes": list(scopes), "expires_in_days": days})


def made_token(client: Client, **kwargs) -> str:
    response = create(client, **kwargs)
    assert response.status_code == 200, re.findall(r'<p class="message[^>]*>([^<]*)', response.content.decode())
    found = SECRET.search(response.content.decode())
    assert found, "the new token's secret is shown once"
    return found.group(1)


async def _workflow(token_id: str):
    handle = (await connect()).get_workflow_handle(api_token_workflow_id(token_id))
    return handle, await handle.describe()


def workflow_of(token_id: str):
    return async_to_sync(_workflow)(token_id)


async def _outcome(token_id: str) -> ApiTokenOutcome:
    handle = (await connect()).get_workflow_handle(api_token_workflow_id(token_id), result_type=ApiTokenOutcome)
    return await handle.result()


def api_get(token: str, path: str = "/api/v1/products?page_size=1"):
    return Client().get(path, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_new_token_is_shown_once_stored_as_a_hash_and_has_a_workflow_until_its_expiry():
    user = account("ada@example.com")
    client = signed_in(user)
    token = made_token(client, name="  Warehouse   sync ", scopes=("catalog:read", "orders:read"), days=90)
    token_id, secret = tokens.parse_token(token)

    row = ApiToken.objects.get(token_id=token_id)
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest() and secret not in row.secret_hash
    assert row.owner_id == str(user.pk) and row.name == "Warehouse sync"
    assert set(row.scopes) == {"catalog:read", "orders:read"}
    assert timedelta(days=89, hours=23) < row.expires_at - row.created_at <= timedelta(days=90)

    listed = client.get(PAGE)
    page = listed.content.decode()
    assert listed.status_code == 200 and token_id in page and "Warehouse sync" in page
    assert secret not in page and "token-secret" not in page, "never shown again"
    assert listed.headers["Cache-Control"].startswith("max-age=0") or "no-cache" in listed.headers["Cache-Control"]

    _, description = workflow_of(token_id)
    assert description.status == WorkflowExecutionStatus.RUNNING
    assert api_get(token).status_code == 200


def test_revoking_from_the_page_refuses_the_token_at_once_and_ends_its_workflow():
    client = signed_in(account("grace@example.com"))
    token = made_token(client)
    token_id, _ = tokens.parse_token(token)
    assert api_get(token).status_code == 200

    started = time.monotonic()
    response = client.post(f"{PAGE}{token_id}/revoke/", follow=True)
    assert response.status_code == 200 and "no longer works" in response.content.decode()
    refused = api_get(token)
    assert refused.status_code == 401 and refused.json() == {"detail": "That token has been revoked."}
    assert time.monotonic() - started < 5
    assert 'data-status="revoked"' in response.content.decode()

    outcome = async_to_sync(_outcome)(token_id)
    assert outcome.reason == TokenRevokeReasons.REVOKED and outcome.actor == "grace@example.com"
    assert ApiToken.objects.get(token_id=token_id).revoked_reason == TokenRevokeReasons.REVOKED
    # Revoking again changes nothing.
    assert client.post(f"{PAGE}{token_id}/revoke/").status_code == 302
    assert ApiToken.objects.get(token_id=token_id).revoked_reason == TokenRevokeReasons.REVOKED


def test_another_account_cannot_revoke_a_token_and_a_get_never_revokes():
    owner = signed_in(account("owner@example.com"))
    token = made_token(owner)
    token_id, _ = tokens.parse_token(token)

    stranger = signed_in(account("stranger@example.com"))
    response = stranger.post(f"{PAGE}{token_id}/revoke/", follow=True)
    assert "There is no such token." in response.content.decode()
    assert owner.get(f"{PAGE}{token_id}/revoke/").status_code == 405
    assert api_get(token).status_code == 200
    assert ApiToken.objects.get(token_id=token_id).revoked_at is None


def test_orders_write_is_for_staff_only():
    shopper = signed_in(account("shopper@example.com"))
    page = shopper.get(PAGE).content.decode()
    assert 'value="orders:write"' not in page
    owner_id = str(get_user_model().objects.get(username="shopper@example.com").pk)
    before = len(tokens.tokens_of(owner_id, 50))
    refused = create(shopper, scopes=("orders:write",))
    assert refused.status_code == 400 and "token-secret" not in refused.content.decode()
    assert len(tokens.tokens_of(owner_id, 50)) == before

    member = staff_member("manager@example.com", "Managers")
    staff = signed_in(member)
    assert 'value="orders:write"' in staff.get(PAGE).content.decode()
    token = made_token(staff, scopes=("orders:read", "orders:write"))
    row = ApiToken.objects.get(token_id=tokens.parse_token(token)[0])
    assert set(row.scopes) == {"orders:read", "orders:write"}


@pytest.mark.parametrize("fields,message", [
    ({"name": "x" * 61, "scopes": ["catalog:read"], "expires_in_days": 30}, "at most 60 characters"),
    ({"name": "", "scopes": ["catalog:read"], "expires_in_days": 30}, "This field is required"),
    ({"name": "No scopes", "expires_in_days": 30}, "This field is required"),
    ({"name": "Odd scope", "scopes": ["admin:all"], "expires_in_days": 30}, "Select a valid choice"),
    ({"name": "Forever", "scopes": ["catalog:read"], "expires_in_days": 100000}, "Select a valid choice"),
])
def test_bad_input_is_refused_with_a_message_and_makes_no_token(fields, message):
    user = account(f"bad-{abs(hash(str(fields)))}@example.com")
    before = len(tokens.tokens_of(str(user.pk), 50))
    response = signed_in(user).post(PAGE, fields)
    assert response.status_code == 400 and message in response.content.decode()
    assert len(tokens.tokens_of(str(user.pk), 50)) == before


def test_the_page_needs_a_signed_in_account_and_a_csrf_token():
    response = Client().get(PAGE)
    assert response.status_code == 302 and "next=/accounts/tokens/" in response["Location"]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(account("csrf@example.com"))
    assert create(strict).status_code == 403


def test_the_api_refuses_a_token_past_its_expiry_even_before_its_workflow_marks_it():
    user = account("late@example.com")
    token_id, secret, text = tokens.new_token()
    now = datetime.now(UTC)
    tokens.write_token(token_id, str(user.pk), "Old", ("catalog:read",), tokens.hash_secret(secret),
                       now - timedelta(days=8), now - timedelta(seconds=1))
    response = api_get(text)
    assert response.status_code == 401 and response.json() == {"detail": "That token has expired."}
    page = signed_in(user).get(PAGE).content.decode()
    assert 'data-status="expired"' in page


def test_at_its_expiry_the_identity_worker_marks_the_token_expired_in_cassandra():
    """The real worker and activity (the timer itself is tested under the time-skipping server)."""
    user = account("expiring@example.com")
    made = async_to_sync(token_services.create_token)(str(user.pk), False, "Short", ["catalog:read"], 7,
                                                      now=datetime.now(UTC) - timedelta(days=7, seconds=1))
    outcome = async_to_sync(_outcome)(made.token.token_id)
    assert outcome.reason == TokenRevokeReasons.EXPIRED
    row = ApiToken.objects.get(token_id=made.token.token_id)
    assert row.revoked_reason == TokenRevokeReasons.EXPIRED and row.revoked_at is not None
    assert api_get(made.secret).json() == {"detail": "That token has expired."}


def test_an_account_holds_at_most_twenty_active_tokens_and_revoking_one_frees_a_place():
    user = account("many@example.com")
    now = datetime.now(UTC)
    made = []
    for number in range(20):
        token_id, secret, _ = tokens.new_token()
        tokens.write_token(token_id, str(user.pk), f"t{number}", ("catalog:read",), tokens.hash_secret(secret),
                           now - timedelta(seconds=number), now + timedelta(days=7))
        made.append(token_id)
    client = signed_in(user)
    refused = create(client, name="One too many")
    assert refused.status_code == 400 and "20 active tokens" in refused.content.decode()
    client.post(f"{PAGE}{made[0]}/revoke/")
    made_token(client, name="Now there is room")


def test_active_tokens_stay_listed_and_counted_however_many_newer_ones_were_revoked():
    user = account("churn@example.com")
    now = datetime.now(UTC)
    active = []
    for number in range(20):  # older, active
        token_id, secret, _ = tokens.new_token()
        tokens.write_token(token_id, str(user.pk), f"old{number}", ("catalog:read",), tokens.hash_secret(secret),
                           now - timedelta(hours=1, seconds=number), now + timedelta(days=7))
        active.append(token_id)
    for number in range(45):  # newer, revoked: more than the page's 50 with the active ones
        token_id, secret, _ = tokens.new_token()
        tokens.write_token(token_id, str(user.pk), f"new{number}", ("catalog:read",), tokens.hash_secret(secret),
                           now - timedelta(seconds=number), now + timedelta(days=7))
        tokens.mark_revoked(token_id, TokenRevokeReasons.REVOKED, now)
    client = signed_in(user)

    page = client.get(PAGE).content.decode()
    assert all(token_id in page for token_id in active)
    refused = create(client, name="Over the limit")
    assert refused.status_code == 400 and "20 active tokens" in refused.content.decode()


def test_an_account_makes_at_most_ten_tokens_an_hour():
    client = signed_in(account("hasty@example.com"))
    for number in range(10):
        made_token(client, name=f"t{number}")
    refused = create(client, name="One more")
    assert refused.status_code == 400 and "10 tokens an hour" in refused.content.decode()
