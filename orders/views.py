"""Web views of orders: thin, they call services.

An order page opens for the session that placed the order, or with the signed token of the
confirmation email (`?token=`); anyone else gets the shop's 404, the same as for a number that does
not exist, so a page never tells a stranger whether an order number is real.
"""

from datetime import datetime

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from commerce.views import unavailable
from orders import services
from orders.contracts import OrderView


def _may_see(request, order_number: str) -> bool:
    return (services.placed_by_session(request.session, order_number)
            or services.verify_order_token(order_number, request.GET.get("token")))


def _get_order_for_request(request, order_number: str) -> OrderView | None:
    """The order when this request may see it, else None. Access is checked before the store is
    read, so a stranger learns nothing and costs nothing. Raises services.OrdersUnavailable."""
    if not services.is_order_number(order_number) or not _may_see(request, order_number):
        return None
    return services.get_order(order_number)


def _placed_at(order: OrderView) -> datetime | None:
    try:
        return datetime.fromisoformat(order.placed_at)
    except ValueError:
        return None


@never_cache
@require_safe
def order_detail(request, order_number):
    try:
        order = _get_order_for_request(request, order_number)
    except services.OrdersUnavailable as exc:
        return unavailable(request, exc.message)
    if order is None:
        raise Http404("No such order")
    response = render(request, "orders/detail.html", {
        "order": order,
        "status_label": order.status.replace("_", " ").capitalize(),
        "placed_at": _placed_at(order),
    })
    # The link may carry the emailed token: keep the page out of search engines and referrers.
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
