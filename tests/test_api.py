"""The partner API against the real stack: bearer tokens (missing, malformed, unknown, revoked,
expired: 401), scopes (403), one shopper's token never reads another's orders (404), a staff token
reads every order and acts on them like the console (409 for a refused transition, an idempotency key
applies once), product search and detail, 400 naming the field, 429 with Retry-After past the rate
limit, JSON errors everywhere, and the OpenAPI schema with its docs page under the shop's CSP."""

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.test import Client

from commerce.temporal import connect
from identity import tokens
from orders import staff as order_staff
from orders import store as order_store
from orders.contracts import TASK_QUEUE, OrderWorkflows, order_workflow_id
from tests.console_helpers import PASSWORD, staff_member
from tests.order_helpers import placed_order
from tests.stock_helpers import fresh_sku

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog")]

ALL = ("catalog:read", "orders:read", "orders:write")


@pytest.fixture
def sku(catalog):
    taken = iter(catalog.variants[600:700])

    def take(on_hand: int = 10) -> str:
        variant = next(taken)
        fresh_sku(on_hand, sku=variant.sku)
        return variant.sku

    return take


@pytest.fixture(autouse=True)
def oms_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.FULFILLMENT_MANUAL = True
    settings.ORDER_APPROVAL_THRESHOLD_CENTS = 10_000_000
    settings.API_REQUESTS_PER_MINUTE = 1000


def account(email: str, **extra):
    """A new account; the address made unique per run (Cassandra keeps earlier runs' orders)."""
    name, _, domain = email.partition("@")
    email = f"{name}-{uuid.uuid4().hex[:8]}@{domain}"
    return get_user_model().objects.create_user(email, email=email, password=PASSWORD, **extra)


def token_for(user, scopes=ALL, expires_in=timedelta(days=30)) -> str:
    """A token as the tokens page stores it (its workflow is not needed for these tests)."""
    token_id, secret, text = tokens.new_token()
    now = datetime.now(UTC)
    tokens.write_token(token_id, str(user.pk), "test", tuple(scopes), tokens.hash_secret(secret), now,
                       now + expires_in)
    return text


def call(token: str | None, path: str, method: str = "get", **kwargs):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return getattr(Client(), method)(f"/api/v1{path}", **headers, **kwargs)


def post(token: str, path: str, body: dict, **headers):
    return call(token, path, "post", data=body, content_type="application/json", **headers)


def own_order(sku: str, user) -> str:
    """An order of `user`'s (a guest order of their email, linked as after verification)."""
    order = placed_order(sku, email=user.email)
    order_store.link_guest_orders(str(user.pk), user.email)
    return order.order_number


# -- authentication ---------------------------------------------------------------------------------

@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer", "Bearer hc_nothing", "Bearer " + "x" * 5000,
                                   "Bearer hc_0123456789abcdef_" + "A" * 43])
def test_a_missing_malformed_or_unknown_token_is_401_in_json(header):
    response = Client().get("/api/v1/products", **({"HTTP_AUTHORIZATION": header} if header else {}))
    assert response.status_code == 401 and response["Content-Type"].startswith("application/json")
    assert response.json()["detail"] and response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_with_a_wrong_secret_is_401():
    token = token_for(account("wrong@example.com"))
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert call(forged, "/products").status_code == 401
    assert call(token, "/products").status_code == 200


def test_an_expired_or_revoked_token_is_401_and_an_inactive_owners_token_too():
    user = account("old@example.com")
    expired = token_for(user, expires_in=timedelta(seconds=-1))
    assert call(expired, "/products").json() == {"detail": "That token has expired."}

    revoked = token_for(user)
    tokens.mark_revoked(tokens.parse_token(revoked)[0], "revoked", datetime.now(UTC))
    assert call(revoked, "/products").json() == {"detail": "That token has been revoked."}

    live = token_for(user)
    user.is_active = False
    user.save()
    assert call(live, "/products").status_code == 401


# -- scopes -----------------------------------------------------------------------------------------

def test_a_missing_scope_is_403_and_orders_write_needs_a_staff_owner(sku):
    shopper = account("scoped@example.com")
    catalog_only = token_for(shopper, scopes=("catalog:read",))
    assert call(catalog_only, "/products").status_code == 200
    refused = call(catalog_only, "/orders")
    assert refused.status_code == 403 and refused.json() == {"detail": "This token lacks the orders:read scope."}
    orders_only = token_for(shopper, scopes=("orders:read",))
    assert call(orders_only, "/products").status_code == 403
    # orders:write stored for a shopper (the page never makes one) still does nothing.
    number = own_order(sku(), shopper)
    sneaky = token_for(shopper, scopes=ALL)
    assert post(sneaky, f"/orders/{number}/notes", {"text": "hi"}).status_code == 403


# -- orders -----------------------------------------------------------------------------------------

def test_a_shoppers_token_reads_its_own_orders_and_never_anothers(sku):
    ada, bob = account("ada-api@example.com"), account("bob-api@example.com")
    first, second = own_order(sku(), ada), own_order(sku(), ada)
    bobs = own_order(sku(), bob)
    guest = placed_order(sku(), email="ada-guest@example.com").order_number  # nobody's

    ada_token = token_for(ada, scopes=("orders:read",))
    listed = call(ada_token, "/orders?page_size=1")
    body = listed.json()
    assert listed.status_code == 200 and body["total"] == 2 and body["pages"] == 2 and body["page_size"] == 1
    assert body["items"][0]["order_number"] in (first, second)
    numbers = {item["order_number"] for page in (1, 2)
               for item in call(ada_token, f"/orders?page={page}&page_size=1").json()["items"]}
    assert numbers == {first, second}

    detail = call(ada_token, f"/orders/{first}")
    assert detail.status_code == 200
    order = detail.json()
    assert order["order_number"] == first and order["email"] == ada.email
    assert order["lines"][0]["quantity"] == 1 and order["totals"]["total_cents"] == 2500
    assert isinstance(order["status_history"], list)

    for other in (bobs, guest, "HC-0000-0000-0000"):
        response = call(ada_token, f"/orders/{other}")
        assert response.status_code == 404 and set(response.json()) == {"detail"}, "never data"
        assert response.json()["detail"].startswith("There is no order")


def test_a_staff_members_token_without_the_console_role_reads_only_their_own_orders(sku):
    # Reading every order needs what the console needs (orders.view_order), checked at each call.
    roleless = account("roleless-api@example.com", is_staff=True)
    mine = own_order(sku(), roleless)
    someone_elses = placed_order(sku(), email="someone-api@example.com").order_number
    token = token_for(roleless, scopes=("orders:read",))

    listed = call(token, "/orders?page_size=100").json()
    assert {item["order_number"] for item in listed["items"]} == {mine} and listed["total"] == 1
    assert call(token, f"/orders/{mine}").status_code == 200
    assert call(token, f"/orders/{someone_elses}").status_code == 404


async def _start_order(order):
    client = await connect()
    return await client.start_workflow(OrderWorkflows.ORDER, order, id=order_workflow_id(order.order_number),
                                       task_queue=TASK_QUEUE)


def staff_notes(number: str) -> list[str]:
    return [note.text for note in order_staff.order_detail(number).notes]


def _wait(predicate, what: str, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"never {what}")


@pytest.mark.usefixtures("workers_in_thread")
def test_a_staff_token_reads_every_order_and_acts_on_it_like_the_console(sku):
    staff = staff_member("manager-api@example.com", "Managers", superuser=True)
    staff.email = "manager-api@example.com"
    staff.save()
    token = token_for(staff)
    order = placed_order(sku(), email="customer-api@example.com")
    number = order.order_number
    async_to_sync(_start_order)(order)

    def listed():
        body = call(token, "/orders?page_size=100").json()
        return number in {item["order_number"] for item in body.get("items", ())}
    _wait(listed, "listed for staff")
    _wait(lambda: call(token, f"/orders/{number}").json().get("status") == "processing", "processing")

    refused = post(token, f"/orders/{number}/approve", {})
    assert refused.status_code == 409 and refused.json()["detail"]

    key = f"note-{uuid.uuid4().hex}"
    first = post(token, f"/orders/{number}/notes", {"text": "Called the customer"}, HTTP_IDEMPOTENCY_KEY=key)
    again = post(token, f"/orders/{number}/notes", {"text": "Called the customer"}, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 200 and first.json()["applied"] is True
    # Applied once: the order answers the first result again (or says it had been applied).
    assert again.status_code == 200 and (again.json() == first.json() or again.json()["applied"] is False)
    notes = _wait(lambda: staff_notes(number), "note seen")
    assert notes == ["Called the customer"]

    differ = post(token, f"/orders/{number}/notes", {"text": "x", "action_id": "a"}, HTTP_IDEMPOTENCY_KEY="b")
    assert differ.status_code == 400

    cancelled = post(token, f"/orders/{number}/cancel", {"reason": "Customer asked"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert post(token, f"/orders/{number}/cancel", {"reason": "Again"}).status_code == 409
    history = _wait(lambda: [t for t in call(token, f"/orders/{number}").json()["status_history"]
                             if t["to_status"] == "cancelled"], "cancel recorded")
    assert history[0]["actor"] == "manager-api@example.com"

    assert post(token, "/orders/HC-0000-0000-0000/approve", {}).status_code == 404


# -- catalog ----------------------------------------------------------------------------------------

def test_product_search_pages_and_filters_like_the_storefront(catalog):
    token = token_for(account("catalog@example.com"), scopes=("catalog:read",))
    first = call(token, "/products?page_size=30").json()
    second = call(token, "/products?page=2&page_size=30").json()
    assert first["total"] == len(catalog.products) and len(first["items"]) == 30 and first["page"] == 1
    slugs = [item["slug"] for item in first["items"] + second["items"]]
    assert len(set(slugs)) == 60
    skillets = call(token, "/products?type=Skillet&page_size=48").json()
    assert skillets["total"] > 0 and all(item["product_type"] == "Skillet" for item in skillets["items"])
    cheap = call(token, "/products?price_max_cents=2000&sort=price_asc").json()
    prices = [item["price_min_cents"] for item in cheap["items"]]
    assert prices == sorted(prices) and all(price <= 2000 for price in prices)
    past = call(token, "/products?page=9999&page_size=48").json()
    assert past["items"] == [] and past["total"] == len(catalog.products)


def test_product_detail_lists_every_variant_with_price_and_availability(catalog):
    token = token_for(account("detail@example.com"), scopes=("catalog:read",))
    variant = catalog.variants[560]
    product = next(p for p in catalog.products if p.slug == variant.product_slug)
    response = call(token, f"/products/{product.slug}")
    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == product.slug and body["name"] == product.name
    got = {v["sku"]: (v["price_cents"], v["available"]) for v in body["variants"]}
    assert got == {v.sku: (v.price_cents, v.on_hand) for v in product.variants}
    missing = call(token, "/products/no-such-product")
    assert missing.status_code == 404 and missing.json()["detail"] == "There is no product 'no-such-product'."
    assert call(token, "/products/Bad%20Slug!").status_code == 400


# -- errors and limits -------------------------------------------------------------------------------

def test_bad_input_is_400_naming_the_field():
    token = token_for(staff_member("validator@example.com", superuser=True))
    too_big = call(token, "/products?page_size=1000")
    assert too_big.status_code == 400 and too_big.json()["detail"].startswith("page_size:")
    assert too_big.json()["errors"][0]["field"] == "page_size"
    no_text = post(token, "/orders/HC-0000-0000-0000/notes", {})
    assert no_text.status_code == 400 and no_text.json()["detail"].startswith("text:")
    bad_json = call(token, "/orders/HC-0000-0000-0000/notes", "post", data="{", content_type="application/json")
    assert bad_json.status_code == 400 and bad_json.json()["detail"]
    no_body = call(token, "/orders/HC-0000-0000-0000/approve", "post", data="", content_type="application/json")
    assert no_body.status_code == 400 and no_body.json()["errors"][0]["field"] == "body", no_body.json()
    bad_key = post(token, "/orders/HC-0000-0000-0000/approve", {}, HTTP_IDEMPOTENCY_KEY="no spaces")
    assert bad_key.status_code == 400 and "Idempotency-Key" in bad_key.json()["detail"]


def test_past_the_rate_limit_a_token_gets_429_with_retry_after(settings):
    settings.API_REQUESTS_PER_MINUTE = 2
    if time.time() % 60 > 55:  # not across a window's edge
        time.sleep(61 - time.time() % 60)
    token, other = token_for(account("busy@example.com")), token_for(account("calm@example.com"))
    assert [call(token, "/products?page_size=1").status_code for _ in range(2)] == [200, 200]
    limited = call(token, "/products?page_size=1")
    assert limited.status_code == 429 and 1 <= int(limited["Retry-After"]) <= 60
    assert "2 requests a minute" in limited.json()["detail"]
    assert call(other, "/products?page_size=1").status_code == 200, "counted per token"


def test_unknown_paths_and_methods_answer_json():
    unknown = Client().get("/api/v1/nothing/here")
    assert unknown.status_code == 404 and unknown.json()["detail"]
    wrong_method = Client().delete("/api/v1/products")
    assert wrong_method.status_code == 405 and wrong_method["Allow"] == "GET" and wrong_method.json()["detail"]


def test_the_openapi_schema_and_its_docs_page_work_under_the_shops_csp():
    schema = Client().get("/api/v1/openapi.json")
    assert schema.status_code == 200
    body = schema.json()
    assert body["openapi"].startswith("3.") and "/api/v1/orders/{number}/refund" in body["paths"]
    assert body["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    docs = Client().get("/api/v1/docs")
    page = docs.content.decode()
    assert docs.status_code == 200 and "script-src 'self'" in docs["Content-Security-Policy"]
    assert "/static/ninja/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    assert "<script>" not in page  # only src= scripts and a JSON data block


@pytest.mark.usefixtures("elasticsearch_down")
def test_a_store_that_does_not_answer_is_503_in_json_with_retry_after():
    token = token_for(account("outage@example.com"))
    response = call(token, "/products")
    assert response.status_code == 503 and response["Retry-After"]
    assert response.json() == {"detail": "Search is unavailable right now"}
    assert call(token, "/orders").status_code == 200, "a shopper's orders come from Cassandra"
    staff = token_for(staff_member("outage-staff@example.com", superuser=True))
    listed = call(staff, "/orders")
    assert listed.status_code == 503 and listed.json()["detail"], "every order: the search index"
