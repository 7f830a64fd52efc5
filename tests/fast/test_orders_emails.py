"""The order workflow's emails as the shopper reads them (rendered, no store): the shipped parcel's
tracking number and items, the cancellation's reason, the refund's amount, text and HTML."""

import pytest

from checkout.contracts import Address, CheckoutLine, Totals
from orders import emails
from orders.contracts import OrderEmailKind, OrderEmailRequest, OrderView

LINK = "https://shop.example/orders/HRN-1234-5678/?token=abc"
SHIRT = CheckoutLine("SKU-SHIRT", "linen-shirt", "Linen shirt", "Blue", "M", 2500, 2, "", "r-1")
MUG = CheckoutLine("SKU-MUG", "stone-mug", "Stone mug", "White", "One size", 1250, 1, "", "r-2")
ORDER = OrderView(
    order_number="HRN-1234-5678", status="shipped", email=" Ada@Example.com ",
    shipping_address=Address("ada@example.com", "Ada Shopper", "1 Main St", "", "Portland", "OR", "97201"),
    shipping_method="standard", lines=(SHIRT, MUG),
    totals=Totals(6250, 0, 595, 0, 6845), card_brand="Visa", card_last4="4242", placed_at="2026-01-01T00:00:00+00:00")


@pytest.fixture
def outbox(settings, mailoutbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SHOP_NAME = "Heron & Co."
    return mailoutbox


def _send(request: OrderEmailRequest):
    emails.send_order_email(ORDER, request, LINK)


def test_the_shipped_email_names_the_carrier_the_tracking_number_and_only_the_parcels_items(outbox):
    _send(OrderEmailRequest(ORDER.order_number, OrderEmailKind.SHIPPED, "shipped:x-so-1",
                            tracking_number="HRN123456789012", carrier="Heron Post", skus=(MUG.sku,)))

    [message] = outbox
    html = message.alternatives[0][0]
    assert message.subject == "Your order HRN-1234-5678 from Heron & Co. is on its way"
    assert message.to == ["Ada@Example.com"]
    for body in (message.body, html):
        assert "HRN123456789012" in body and "Heron Post" in body and LINK in body
        assert "Stone mug" in body and "Linen shirt" not in body


def test_the_cancelled_email_gives_the_reason_escaped_in_html_only(outbox):
    _send(OrderEmailRequest(ORDER.order_number, OrderEmailKind.CANCELLED, "cancelled",
                            reason="Out of stock <b>everywhere</b> & gone"))

    [message] = outbox
    html = message.alternatives[0][0]
    assert message.subject == "Your order HRN-1234-5678 at Heron & Co. was cancelled"
    assert "Reason: Out of stock <b>everywhere</b> & gone" in message.body
    assert "Out of stock &lt;b&gt;everywhere&lt;/b&gt; &amp; gone" in html and "<b>everywhere" not in html


def test_the_refund_email_gives_the_amount_and_the_refunded_items(outbox):
    _send(OrderEmailRequest(ORDER.order_number, OrderEmailKind.REFUNDED, "refund:u-1", amount_cents=2_735,
                            skus=(SHIRT.sku,)))

    [message] = outbox
    assert message.subject == "A refund for your order HRN-1234-5678 at Heron & Co."
    for body in (message.body, message.alternatives[0][0]):
        assert "$27.35" in body and "Linen shirt" in body and "Stone mug" not in body and LINK in body


def test_an_email_of_another_kind_is_refused(outbox):
    with pytest.raises(ValueError):
        _send(OrderEmailRequest(ORDER.order_number, "confirmation", "confirmation"))
    assert outbox == []
