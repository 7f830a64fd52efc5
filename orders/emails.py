"""Order emails through Django's email framework (a file backend under DATA_DIR by default, SMTP when
EMAIL_HOST is set: see the email block of commerce/settings.py).

Sending once is the caller's job, with the marks kept in the `order_emails` table:

    if not confirmation_sent(number):
        send_order_confirmation(view, order_url(number, settings.SHOP_BASE_URL))
        mark_confirmation_sent(number)

A crash between the send and the mark sends again on retry (at least once, never silently lost);
once marked, no retry sends it again.

The order workflow's emails (shipped, cancelled, refunded) are sent the same way by its SEND_EMAIL
activity, each marked under its own key (`shipped:<supplier order>`, `cancelled`, `refund:<id>`):

    if not email_sent(number, request.key):
        send_order_email(view, request, order_url(number, settings.SHOP_BASE_URL))
        mark_email_sent(number, request.key)
"""

from __future__ import annotations

from datetime import UTC, datetime

from cassandra import ConsistencyLevel
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from commerce.cassandra import prepare, session, table
from orders.contracts import OrderEmailKind, OrderEmailRequest, OrderView

CONFIRMATION = "confirmation"
ORDER_EMAIL_KINDS = (OrderEmailKind.SHIPPED, OrderEmailKind.CANCELLED, OrderEmailKind.REFUNDED)


def confirmation_subject(order: OrderView) -> str:
    return f"Your order {order.order_number} at {settings.SHOP_NAME}"


def send_order_confirmation(order: OrderView, order_url: str) -> None:
    """Email the order's confirmation (text and HTML) with its number and the link to its page."""
    context = {"order": order, "order_url": order_url, "shop_name": settings.SHOP_NAME}
    message = EmailMultiAlternatives(
        subject=confirmation_subject(order),
        body=render_to_string("orders/email/confirmation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.email.strip()],
    )
    message.attach_alternative(render_to_string("orders/email/confirmation.html", context), "text/html")
    message.send(fail_silently=False)


def order_email_subject(order: OrderView, kind: str) -> str:
    number = order.order_number
    return {
        OrderEmailKind.SHIPPED: f"Your order {number} from {settings.SHOP_NAME} is on its way",
        OrderEmailKind.CANCELLED: f"Your order {number} at {settings.SHOP_NAME} was cancelled",
        OrderEmailKind.REFUNDED: f"A refund for your order {number} at {settings.SHOP_NAME}",
    }[kind]


def send_order_email(order: OrderView, request: OrderEmailRequest, order_url: str) -> None:
    """Email one of the order's later news (text and HTML), with the link to its page: shipped (the
    tracking number, the carrier and the items in that parcel: the lines of `request.skus`),
    cancelled (the reason), refunded (the amount, and the items refunded if whole lines were)."""
    if request.kind not in ORDER_EMAIL_KINDS:
        raise ValueError(f"{request.kind!r} is not an order email")
    skus = set(request.skus)
    context = {
        "order": order, "request": request, "order_url": order_url, "shop_name": settings.SHOP_NAME,
        "items": [line for line in order.lines if line.sku in skus],
    }
    message = EmailMultiAlternatives(
        subject=order_email_subject(order, request.kind),
        body=render_to_string(f"orders/email/{request.kind}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.email.strip()],
    )
    message.attach_alternative(render_to_string(f"orders/email/{request.kind}.html", context), "text/html")
    message.send(fail_silently=False)


def email_sent(order_number: str, kind: str) -> bool:
    statement = prepare(f"SELECT sent_at FROM {table('order_emails')} WHERE order_number = ? AND kind = ?")
    bound = statement.bind([order_number, kind])
    bound.consistency_level = ConsistencyLevel.SERIAL  # sees every mark made by a lightweight transaction
    return session().execute(bound).one() is not None


def mark_email_sent(order_number: str, kind: str) -> bool:
    """Mark an order's email as sent; True when this call marked it, False when it was already."""
    statement = prepare(f"INSERT INTO {table('order_emails')} (order_number, kind, sent_at) VALUES (?, ?, ?)"
                        " IF NOT EXISTS")
    return session().execute(statement, [order_number, kind, datetime.now(UTC)]).was_applied


def confirmation_sent(order_number: str) -> bool:
    return email_sent(order_number, CONFIRMATION)


def mark_confirmation_sent(order_number: str) -> bool:
    return mark_email_sent(order_number, CONFIRMATION)
