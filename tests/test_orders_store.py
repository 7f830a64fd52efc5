"""Orders in the real Cassandra: written once however often the checkout's activity retries, order
numbers guarded against a second checkout, read back by number and by shopper, and the email marks."""

import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from checkout.contracts import Address, CheckoutLine, Totals
from commerce.cassandra import session, table
from orders import emails, store
from orders.contracts import OrderInput, OrderStatus
from orders.numbers import ORDER_NUMBER_BITS, new_order_number

pytestmark = pytest.mark.usefixtures("cassandra_schema")

_rng = random.SystemRandom()


def random_order_number() -> str:
    return new_order_number(_rng.getrandbits(ORDER_NUMBER_BITS))


def make_order(email: str = "Ada.Shopper@Example.com", placed_at: datetime | None = None, **changes) -> OrderInput:
    number = random_order_number()
    cart_id = uuid.uuid4().hex
    order = OrderInput(
        order_number=number, checkout_id=f"checkout-{cart_id}-1", cart_id=cart_id, email=email, customer_id="",
        shipping_address=Address(email.strip().lower(), "Ada Shopper", "1 Main St", "Apt 2", "Portland", "OR",
                                 "97201"),
        shipping_method="express",
        lines=(CheckoutLine("SKU-A", "linen-shirt", "Linen shirt", "Blue", "M", 2500, 2, "/img/a.svg", "r-a"),
               CheckoutLine("SKU-B", "stone-mug", "Stone mug", "White", "One size", 1250, 1, "/img/b.svg", "r-b")),
        totals=Totals(subtotal_cents=6250, discount_cents=500, shipping_cents=1495, tax_cents=0, total_cents=7245),
        payment_authorization_key=f"checkout-{cart_id}-1", card_brand="Visa", card_last4="4242",
        placed_at=(placed_at or datetime.now(UTC)).isoformat(),
    )
    return replace(order, **changes)


def _rows(name: str, number: str) -> list[dict]:
    return list(session().execute(f"SELECT * FROM {table(name)} WHERE order_number = %s ALLOW FILTERING",
                                  [number]))


def test_an_order_is_written_and_read_back_whole():
    order = make_order()

    assert store.write_order(order) is True

    view = store.read_order(order.order_number)
    assert view is not None
    assert view.order_number == order.order_number and view.status == OrderStatus.PLACED
    assert view.lines == order.lines and view.totals == order.totals
    assert view.shipping_address == order.shipping_address and view.shipping_method == "express"
    assert (view.card_brand, view.card_last4, view.email) == ("Visa", "4242", order.email)
    assert datetime.fromisoformat(view.placed_at) == store.placed_at_datetime(order.placed_at)


def test_a_retried_write_changes_nothing_and_writes_one_of_each_row():
    order = make_order()

    assert store.write_order(order) is True
    assert store.write_order(order) is False  # the activity retried: its own claim, carried on
    assert store.write_order(order) is False

    assert len(_rows("orders_by_number", order.order_number)) == 1
    assert len(_rows("orders", order.order_number)) == 1
    assert len(_rows("orders_by_customer", order.order_number)) == 1
    assert store.read_order(order.order_number).status == OrderStatus.PLACED


def test_a_retry_never_puts_a_moved_on_order_back_to_placed():
    order = make_order()
    store.write_order(order)
    session().execute(f"UPDATE {table('orders')} SET status = %s WHERE order_number = %s",
                      [OrderStatus.SHIPPED, order.order_number])

    store.write_order(order)  # an attempt that woke up late

    assert store.read_order(order.order_number).status == OrderStatus.SHIPPED


def test_a_crash_after_the_claim_is_completed_by_the_retry():
    order = make_order()
    # The first attempt claimed the number and died before the order rows.
    session().execute(f"INSERT INTO {table('orders_by_number')} (order_number, checkout_id, email, placed_at)"
                      " VALUES (%s, %s, %s, %s)",
                      [order.order_number, order.checkout_id, "ada.shopper@example.com",
                       store.placed_at_datetime(order.placed_at)])
    assert store.read_order(order.order_number) is None

    assert store.write_order(order) is False

    assert store.read_order(order.order_number).lines == order.lines
    assert [o.order_number for o in store.orders_for_email(order.email)][:1] == [order.order_number]


def test_a_number_placed_by_another_checkout_is_refused_and_its_order_untouched():
    first = make_order()
    store.write_order(first)
    second = make_order(email="someone.else@example.com", order_number=first.order_number)

    with pytest.raises(store.OrderNumberTaken) as refused:
        store.write_order(second)

    assert refused.value.kind == "OrderNumberTaken" and first.order_number in str(refused.value)
    view = store.read_order(first.order_number)
    assert view.email == first.email
    assert store.orders_for_email("someone.else@example.com") == []


def test_two_checkouts_racing_for_one_number_get_one_order():
    orders = [make_order(email=f"racer{k}@example.com") for k in range(8)]
    number = orders[0].order_number
    orders = [replace(order, order_number=number) for order in orders]

    def attempt(order):
        try:
            return store.write_order(order)
        except store.OrderNumberTaken:
            return None

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, orders))

    assert results.count(True) == 1 and results.count(None) == 7
    winner = orders[results.index(True)]
    assert store.read_order(number).email == winner.email
    assert [row["checkout_id"] for row in _rows("orders_by_number", number)] == [winner.checkout_id]


def test_a_shoppers_orders_are_found_by_any_spelling_of_their_email_newest_first():
    email = f"  Grace.{uuid.uuid4().hex[:8]}@Example.COM "
    start = datetime.now(UTC) - timedelta(days=3)
    placed = [make_order(email=email, placed_at=start + timedelta(hours=k)) for k in range(5)]
    for order in placed:
        store.write_order(order)

    found = store.orders_for_email(email.strip().upper(), limit=3)

    assert [o.order_number for o in found] == [o.order_number for o in reversed(placed)][:3]
    assert len(store.orders_for_email(email.lower())) == 5
    assert store.orders_for_email("nobody-" + uuid.uuid4().hex + "@example.com") == []
    assert store.orders_for_email("   ") == []


def test_unknown_and_malformed_numbers_read_as_none():
    assert store.read_order(random_order_number()) is None
    assert store.read_order("HC-'; DROP TABLE orders; --") is None


@pytest.mark.parametrize("bad", [
    {"order_number": "HC-123"}, {"order_number": "ORDER-1"}, {"checkout_id": ""}, {"email": "  "},
])
def test_an_order_that_cannot_be_stored_is_refused_before_any_write(bad):
    order = make_order(**bad)

    with pytest.raises(ValueError):
        store.write_order(order)


def test_the_confirmation_is_marked_once():
    number = make_order().order_number

    assert not emails.confirmation_sent(number)
    assert emails.mark_confirmation_sent(number) is True
    assert emails.confirmation_sent(number)
    assert emails.mark_confirmation_sent(number) is False
    assert not emails.email_sent(number, "shipped")
