"""Checkout through its HTTP endpoints, against real workers, Temporal, Cassandra and the payment
ledger: a guest's order with its email, back navigation, card failures, the race for the last unit,
a replayed submit, cancel, and no card number anywhere in the histories."""

import asyncio
import json
import logging
import re
import uuid
from html import unescape

import pytest
from asgiref.sync import sync_to_async
from django.core import mail
from django.test import AsyncClient

from checkout import payments
from commerce.temporal import get_client
from orders import store as order_store
from tests.stock_helpers import fresh_sku, levels

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog", "running_workers")]

ADDRESS = {"email": "Ada@Example.com", "full_name": "Ada Lovelace", "line1": "1 Loop Rd", "line2": "",
           "city": "San Francisco", "state": "CA", "postal_code": "94110", "country": "US",
           "shipping_method": "standard"}
GOOD_CARD = {"card_number": "4242 4242 4242 4242", "exp_month": "12", "exp_year": "2031", "cvc": "123",
             "cardholder": "Ada Lovelace"}


@pytest.fixture(autouse=True)
def shop_settings(settings):
    settings.CART_CREATIONS_PER_MINUTE = 1000
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def variants(catalog):
    taken = iter(catalog.variants[2000:])

    def take(on_hand: int = 20):
        variant = next(taken)
        fresh_sku(on_hand, sku=variant.sku)
        return variant

    return take


def _value(html: str, name: str) -> str:
    return unescape(re.search(rf'name="{name}" value="([^"]*)"', html).group(1))


def _step(html: str) -> str:
    return re.search(r'data-testid="checkout-step" data-step="([a-z]+)"', html).group(1)


async def _add(client, sku: str, quantity: int = 1):
    response = await client.post("/cart/add/", {"sku": sku, "quantity": quantity, "nonce": uuid.uuid4().hex})
    assert response.status_code == 302, response.content[:300]


async def _to_review(client, address=ADDRESS, card=GOOD_CARD) -> str:
    start = await client.post("/checkout/start/")
    assert start.status_code == 302 and start["Location"].endswith("/checkout/shipping/"), start
    shipping = await client.post("/checkout/shipping/", address)
    assert shipping["Location"].endswith("/checkout/payment/"), shipping
    payment = await client.post("/checkout/payment/", card)
    assert payment.status_code == 302, payment.content.decode()[-2000:]
    return (await client.get("/checkout/review/")).content.decode()


async def _submit(client, review: str):
    """Place the order and follow the processing page until it settles: (final page, its url)."""
    response = await client.post("/checkout/submit/", {"expected_total_cents": _value(review, "expected_total_cents"),
                                                       "nonce": _value(review, "nonce")})
    location = response["Location"]
    for _ in range(100):
        if not location.endswith("/checkout/processing/"):
            break
        await asyncio.sleep(0.2)
        response = await client.get("/checkout/processing/")
        location = response["Location"] if response.status_code == 302 else location
    page = await client.get(location, follow=True)
    return page.content.decode(), location


def _order_number(html: str) -> str:
    return re.search(r'data-testid="order-number">([A-Z0-9-]+)<', html).group(1)


async def test_a_guest_checks_out_and_gets_an_order_page_and_one_email(variants):
    client = AsyncClient()
    variant = variants()
    await _add(client, variant.sku, 2)
    review = await _to_review(client)
    total = int(_value(review, "expected_total_cents"))

    confirmation, _ = await _submit(client, review)

    number = _order_number(confirmation)
    order = await sync_to_async(order_store.read_order)(number)
    assert order.totals.total_cents == total and order.email.lower() == "ada@example.com"
    ledger = await sync_to_async(payments.ledger)(await sync_to_async(_row_auth_key)(number))
    assert [(e.kind, e.status, e.amount_cents) for e in ledger] == [("authorize", "authorized", total)]
    assert levels(variant.sku)[1] == 2  # confirmed for the order, not released
    page = (await client.get(f"/orders/{number}/")).content.decode()
    # The order workflow takes it on at once: placed, then processing (fulfillment's timers are minutes).
    assert re.search(r'data-testid="order-status" data-status="(placed|processing)"', page)
    assert len([m for m in mail.outbox if number in m.subject]) == 1
    link = re.search(r"(/orders/[A-Z0-9-]+/\?token=[^\s\"<]+)", mail.outbox[-1].body).group(1)
    assert (await AsyncClient().get(link)).status_code == 200
    assert (await AsyncClient().get(link[:-3] + "xyz")).status_code == 404
    assert (await AsyncClient().get(f"/orders/{number}/")).status_code == 404
    assert (await client.get("/cart/")).content.decode().count('data-testid="cart-empty"') == 1


def _row_auth_key(number: str) -> str:
    from commerce.cassandra import session, table
    return session().execute(f"SELECT payment_authorization_key FROM {table('orders')} WHERE order_number = %s",
                             [number]).one()["payment_authorization_key"]


async def test_going_back_from_review_to_another_state_changes_the_tax(variants):
    client = AsyncClient()
    await _add(client, variants().sku, 3)
    in_california = await _to_review(client)
    await client.post("/checkout/shipping/", {**ADDRESS, "state": "OR"})
    in_oregon = (await client.get("/checkout/review/")).content.decode()

    def tax(html):
        return re.search(r'data-testid="checkout-tax">\$([0-9.,]+)<', html).group(1)

    assert tax(in_oregon) == "0.00" and tax(in_california) != "0.00"
    assert int(_value(in_oregon, "expected_total_cents")) < int(_value(in_california, "expected_total_cents"))


@pytest.mark.parametrize("number,message", [("4000000000000002", "declined"), ("4000000000000069", "expired")])
async def test_a_refused_card_returns_to_payment_with_the_processors_message(variants, number, message):
    client = AsyncClient()
    await _add(client, variants().sku)
    review = await _to_review(client, card={**GOOD_CARD, "card_number": number})

    page, location = await _submit(client, review)

    assert location.endswith("/checkout/payment/") and message in page and _step(page) == "payment"
    review = await _to_review_again(client, GOOD_CARD)
    confirmation, _ = await _submit(client, review)
    assert _order_number(confirmation).startswith("HC-")


async def _to_review_again(client, card) -> str:
    await client.post("/checkout/payment/", card)
    return (await client.get("/checkout/review/")).content.decode()


async def test_a_transiently_failing_card_is_retried_and_the_order_placed(variants):
    client = AsyncClient()
    await _add(client, variants().sku)
    review = await _to_review(client, card={**GOOD_CARD, "card_number": "4000000000000119"})

    confirmation, _ = await _submit(client, review)

    number = _order_number(confirmation)
    entries = await sync_to_async(payments.ledger)(await sync_to_async(_row_auth_key)(number))
    assert [(e.kind, e.status, e.attempts) for e in entries] == [("authorize", "authorized", 3)]


async def test_a_replayed_submit_authorizes_once(variants):
    client = AsyncClient()
    await _add(client, variants().sku)
    review = await _to_review(client)
    form = {"expected_total_cents": _value(review, "expected_total_cents"), "nonce": _value(review, "nonce")}

    first = await client.post("/checkout/submit/", form)
    again = await client.post("/checkout/submit/", form)
    confirmation, _ = await _submit_wait(client)

    number = _order_number(confirmation)
    entries = await sync_to_async(payments.ledger)(await sync_to_async(_row_auth_key)(number))
    assert first.status_code == again.status_code == 302
    assert [e.kind for e in entries] == ["authorize"]


async def _submit_wait(client):
    for _ in range(100):
        response = await client.get("/checkout/processing/")
        if response.status_code == 302 and not response["Location"].endswith("/processing/"):
            page = await client.get(response["Location"], follow=True)
            return page.content.decode(), response["Location"]
        await asyncio.sleep(0.2)
    raise AssertionError("the checkout never settled")


async def test_two_shoppers_racing_for_the_last_unit_get_one_order_and_one_clear_refusal(variants):
    variant = variants(on_hand=1)
    first, second = AsyncClient(), AsyncClient()
    await _add(first, variant.sku)
    # The first shopper's hold lapses; the second shopper takes the unit.
    from inventory import stock
    rid = next(iter(levels(variant.sku)[2]))
    await sync_to_async(stock.release)(rid)
    await _add(second, variant.sku)

    starts = await asyncio.gather(first.post("/checkout/start/"), second.post("/checkout/start/"))

    assert starts[0]["Location"].endswith("/cart/") and starts[1]["Location"].endswith("/checkout/shipping/")
    refusal = (await first.get("/cart/")).content.decode()
    assert "only 0 left" in unescape(refusal)
    await second.post("/checkout/shipping/", ADDRESS)
    await second.post("/checkout/payment/", GOOD_CARD)
    confirmation, _ = await _submit(second, (await second.get("/checkout/review/")).content.decode())
    assert _order_number(confirmation) and levels(variant.sku)[:2] == (1, 1)


async def test_cancel_gives_the_cart_back_and_it_can_change_again(variants):
    client = AsyncClient()
    variant = variants()
    await _add(client, variant.sku, 2)
    await _to_review(client)
    refused = await client.post("/cart/update/", {"sku": variant.sku, "quantity": 1}, follow=True)
    assert "in checkout" in refused.content.decode() and 'data-testid="in-checkout"' in refused.content.decode()

    await client.post("/checkout/cancel/")
    for _ in range(50):
        if 'data-testid="in-checkout"' not in (await client.get("/cart/")).content.decode():
            break
        await asyncio.sleep(0.2)
    changed = await client.post("/cart/update/", {"sku": variant.sku, "quantity": 1}, follow=True)

    assert "quantity is now 1" in changed.content.decode() and levels(variant.sku)[1] == 1


async def test_steps_out_of_order_redirect_to_the_current_step_and_bad_fields_get_messages(variants):
    client = AsyncClient()
    await _add(client, variants().sku)
    await client.post("/checkout/start/")

    review = await client.get("/checkout/review/")
    bad = await client.post("/checkout/shipping/", {**ADDRESS, "postal_code": "9411", "state": "ZZ",
                                                     "shipping_method": "teleport", "email": "x" * 300})
    forged = await client.post("/checkout/submit/", {"expected_total_cents": "1", "nonce": uuid.uuid4().hex})

    assert review["Location"].endswith("/checkout/shipping/")
    html = bad.content.decode()
    assert bad.status_code == 400 and "ZIP code" in html and html.count('data-testid="error"') >= 3
    assert forged["Location"].endswith("/checkout/shipping/")


CARD_TRACES = re.compile(r"4242\s?4242\s?4242|\bcvc\W{0,6}987\b")


def _cassandra_texts() -> dict[str, str]:
    """Every row of every table of the test keyspace, as text, by table."""
    from django.conf import settings

    from commerce.cassandra import session

    names = [row["table_name"] for row in session().execute(
        "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", [settings.CASSANDRA_KEYSPACE])]
    return {name: repr(list(session().execute(f"SELECT * FROM {settings.CASSANDRA_KEYSPACE}.{name}")))
            for name in names}


def _elasticsearch_texts() -> dict[str, str]:
    """Every document of every index of the test prefix, as text, by index."""
    from django.conf import settings

    from commerce.search import es

    indices = es().indices.get(index=f"{settings.ELASTICSEARCH_INDEX_PREFIX}*")
    return {index: json.dumps(es().search(index=index, size=10_000, query={"match_all": {}}).body)
            for index in indices}


async def test_no_card_number_or_cvc_reaches_any_log_history_or_store(variants, caplog):
    caplog.set_level(logging.DEBUG)
    client = AsyncClient()
    await _add(client, variants().sku)
    review = await _to_review(client, card={**GOOD_CARD, "cvc": "987"})
    confirmation, _ = await _submit(client, review)
    number = _order_number(confirmation)
    order = await sync_to_async(order_store.read_order)(number)
    await asyncio.sleep(2)  # the cart's snapshot and the order's projection are written after the answer

    temporal = await get_client()
    checkout_id = (await sync_to_async(_row_checkout_id)(number))
    cart_id = checkout_id.split("-")[1]
    histories = {wid: (await temporal.get_workflow_handle(wid).fetch_history()).to_json()
                 for wid in (checkout_id, f"cart-{cart_id}", f"order-{number}")}
    stores = {**await sync_to_async(_cassandra_texts)(), **await sync_to_async(_elasticsearch_texts)()}
    logs = "\n".join(record.getMessage() for record in caplog.records)

    assert order is not None
    assert "ending 4242" in logs  # the tokenization was logged, by its last four digits only
    assert "orders" in stores and any(number in text for text in stores.values())  # the scan saw the order
    for where, text in {**histories, **stores, "logs": logs}.items():
        assert not CARD_TRACES.search(text), f"a card number or CVC in {where}"
    assert all('"987"' not in text for text in histories.values())


def _row_checkout_id(number: str) -> str:
    from commerce.cassandra import session, table
    return session().execute(f"SELECT checkout_id FROM {table('orders')} WHERE order_number = %s",
                             [number]).one()["checkout_id"]


async def test_a_retried_order_start_activity_starts_one_order_workflow(variants):
    from temporalio.client import WorkflowExecutionStatus
    from temporalio.testing import ActivityEnvironment

    from checkout.activities import start_order_workflow
    from checkout.contracts import Address, CheckoutLine, Totals
    from orders.contracts import OrderInput
    from orders.numbers import new_order_number

    number = new_order_number(int.from_bytes(uuid.uuid4().bytes[:7], "big") >> 6)
    order = OrderInput(number, f"checkout-{uuid.uuid4().hex}-1", "c", "ada@example.com", "",
                       Address("ada@example.com", "Ada", "1 Loop Rd", "", "SF", "CA", "94110"), "standard",
                       (CheckoutLine("SKU", "p", "P", "Blue", "M", 100, 1, "/i.svg", "r"),),
                       Totals(100, 0, 595, 7, 702), "key", "Visa", "4242", "2026-11-23T00:00:00+00:00")
    temporal = await get_client()
    environment = ActivityEnvironment(client=temporal)

    handle = temporal.get_workflow_handle(f"order-{number}")
    await environment.run(start_order_workflow, order)
    first = await handle.describe()
    await environment.run(start_order_workflow, order)  # the retry after a lost answer
    after = await handle.describe()

    assert after.run_id == first.run_id and after.status == WorkflowExecutionStatus.RUNNING
    await handle.terminate("test done")


async def test_a_shopper_who_left_before_the_confirmation_gets_a_fresh_cart_for_the_same_item(variants, settings):
    client = AsyncClient()
    variant = variants()
    await _add(client, variant.sku)
    review = await _to_review(client)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value  # the session as it was before the order
    await _submit(client, review)

    client.cookies[settings.SESSION_COOKIE_NAME] = cookie  # the confirmation never reached this browser
    again = await client.post("/cart/add/", {"sku": variant.sku, "quantity": 1, "nonce": uuid.uuid4().hex},
                              follow=True)

    assert "Added 1" in unescape(again.content.decode())
    assert levels(variant.sku)[1] == 2  # the order's unit and the new cart's


async def test_a_changed_total_sent_with_a_reviewed_checkout_is_refused_on_the_review_page(variants):
    client = AsyncClient()
    await _add(client, variants().sku)
    review = await _to_review(client)

    forged = await client.post("/checkout/submit/", {"expected_total_cents": "1", "nonce": _value(review, "nonce")},
                               follow=True)

    assert forged.redirect_chain[-1][0].endswith("/checkout/review/")
    assert "Your order total has changed" in unescape(forged.content.decode())
    assert _step((await client.get("/checkout/review/")).content.decode()) == "review"


async def test_a_submit_never_reaches_a_checkout_of_another_cart_named_in_the_session(variants):
    owner, intruder = AsyncClient(), AsyncClient()
    await _add(owner, variants().sku)
    owner_review = await _to_review(owner)
    await _add(intruder, variants().sku)
    await _to_review(intruder)
    owner_checkout = await (await owner.asession()).aget("reviewed_checkout_id")
    session = await intruder.asession()
    await session.aset("reviewed_checkout_id", owner_checkout)
    await session.asave()

    await intruder.post("/checkout/submit/", {"expected_total_cents": _value(owner_review, "expected_total_cents"),
                                              "nonce": uuid.uuid4().hex})

    assert _step((await owner.get("/checkout/review/")).content.decode()) == "review"


async def test_the_confirmation_answers_503_when_its_checkout_does_not_answer(settings):
    settings.CHECKOUT_UPDATE_TIMEOUT_SECONDS = 1
    client, temporal = AsyncClient(), await get_client()
    # A checkout whose queue no worker polls: its query is never answered.
    checkout_id = f"checkout-test-{uuid.uuid4().hex}-1"
    handle = await temporal.start_workflow("Checkout", id=checkout_id, task_queue=f"nobody-{uuid.uuid4().hex}")
    session = await client.asession()
    await session.aset("last_checkout_id", checkout_id)
    await session.asave()
    try:
        page = await client.get("/checkout/complete/")
    finally:
        await handle.terminate("test done")

    assert page.status_code == 503
    assert "Checkout is unavailable right now" in page.content.decode()
