"""An order as a checkout leaves it behind, for tests that start the order workflow themselves."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from checkout import payments
from checkout.contracts import Address, AuthorizeRequest, CheckoutLine, Totals
from inventory import stock
from orders import store as order_store
from orders.contracts import OrderInput
from orders.numbers import new_order_number


def placed_order(sku: str, quantity: int = 1, unit_cents: int = 2500, email: str = "grace@example.com",
                 name: str = "Grace Hopper", placed_at: datetime | None = None) -> OrderInput:
    """The hold confirmed, the payment authorized with a good card, the order's rows written. The
    instant is kept to the millisecond, as Cassandra keeps it, so an order read back equals this one."""
    number = new_order_number(uuid.uuid4().int >> 78)
    checkout_id = f"checkout-test-{number}-1"
    rid = f"{checkout_id}-{sku}"
    stock.hold(rid, sku, quantity, datetime.now(UTC) + timedelta(hours=1))
    stock.confirm(rid, sku)
    total = unit_cents * quantity
    card = payments.tokenize("4242424242424242", 12, datetime.now(UTC).year + 2, "123", name)
    authorization_key = f"{checkout_id}/payment-1"
    payments.authorize(AuthorizeRequest(authorization_key, card.token, total))
    moment = (placed_at or datetime.now(UTC)).astimezone(UTC)
    order = OrderInput(
        order_number=number, checkout_id=checkout_id, cart_id=f"cart-{number}", email=email, customer_id="",
        shipping_address=Address(email, name, "1 Main St", "", "Arlington", "VA", "22201"),
        shipping_method="standard",
        lines=(CheckoutLine(sku, "a-product", "A product", "Blue", "M", unit_cents, quantity, "", rid),),
        totals=Totals(total, 0, 0, 0, total), payment_authorization_key=authorization_key, card_brand=card.brand,
        card_last4=card.last4, placed_at=moment.replace(microsecond=moment.microsecond // 1000 * 1000).isoformat())
    order_store.write_order(order)
    return order
