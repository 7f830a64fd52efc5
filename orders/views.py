"""Web views of orders: thin, they call services.

An order page opens for the session that placed the order, with the signed token of the
confirmation email (`?token=`), or for the signed-in shopper who owns it (placed signed in, or a guest
order linked after they verified the email); anyone else gets the shop's 404, the same as for a
number that does not exist, so a page never tells a stranger whether an order number is real.

The shopper sees who moved an order only as "the shop": a staff member's username stays with staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from checkout.contracts import CheckoutLine
from commerce.instants import parse_instant
from commerce.views import unavailable
from orders import services
from orders.contracts import Actor, OrderStatus, OrderView, SupplierOrderStage, SupplierOrderState, Transition

# While an order still moves (not delivered, cancelled or refunded) its page reloads itself this
# often (a meta refresh: no JavaScript, and it reloads the same URL, the emailed token included).
REFRESH_SECONDS = 15

# Actors that are the shop's own machinery; any other actor is a staff member's username.
_MACHINE_ACTORS = frozenset({"", Actor.SYSTEM, Actor.CHECKOUT, Actor.FULFILLMENT})
# The stages a shipment goes through, as its progress bar shows them.
_PROGRESS = (SupplierOrderStage.ACCEPTED, SupplierOrderStage.PACKED, SupplierOrderStage.SHIPPED,
             SupplierOrderStage.DELIVERED)
_TRACKED = (SupplierOrderStage.SHIPPED, SupplierOrderStage.DELIVERED)


def status_label(status: str) -> str:
    return OrderStatus.LABELS.get(status) or status.replace("_", " ").capitalize()



@dataclass(frozen=True)
class TimelineEntry:
    status: str
    label: str
    at_iso: str
    at: datetime | None
    reason: str
    by_the_shop: bool  # a staff member did it (never who)


@dataclass(frozen=True)
class Step:
    label: str
    state: str  # done, current, todo


@dataclass(frozen=True)
class Shipment:
    position: int
    count: int
    stage: str
    stage_label: str
    steps: tuple[Step, ...]
    lines: tuple[CheckoutLine, ...]
    tracking_number: str
    carrier: str
    updated_iso: str
    updated_at: datetime | None


@dataclass(frozen=True)
class OrderRow:
    order_number: str
    path: str
    placed_iso: str
    placed_at: datetime | None
    status: str
    status_label: str
    total_cents: int
    item_count: int


# The reasons a shopper is told: why an order was cancelled or refunded. The others are the shop's own
# bookkeeping ("planned as 2 supplier orders", the approval threshold).
_REASONS_SHOWN = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)


def _timeline(order: OrderView, history: tuple[Transition, ...]) -> list[TimelineEntry]:
    entries = [TimelineEntry(status=t.to_status, label=status_label(t.to_status), at_iso=t.at, at=parse_instant(t.at),
                             reason=t.reason if t.to_status in _REASONS_SHOWN else "",
                             by_the_shop=t.actor not in _MACHINE_ACTORS)
               for t in history]
    if not entries:  # the checkout wrote the order; the order workflow has not recorded it yet
        entries.append(TimelineEntry(status=OrderStatus.PLACED, label=status_label(OrderStatus.PLACED),
                                     at_iso=order.placed_at, at=parse_instant(order.placed_at), reason="",
                                     by_the_shop=False))
    return entries


def _steps(stage: str) -> tuple[Step, ...]:
    if stage == SupplierOrderStage.PENDING:
        return tuple(Step(SupplierOrderStage.LABELS[s], "todo") for s in _PROGRESS)
    if stage not in _PROGRESS:  # cancelled (or a stage this page does not know): the label says it
        return ()
    reached = _PROGRESS.index(stage)
    return tuple(Step(SupplierOrderStage.LABELS[s], "done" if k < reached else "current" if k == reached else "todo")
                 for k, s in enumerate(_PROGRESS))


def _shipments(order: OrderView, states: tuple[SupplierOrderState, ...]) -> list[Shipment]:
    lines = order.lines
    shipments = []
    for position, state in enumerate(states, start=1):
        shipped = state.stage in _TRACKED
        shipments.append(Shipment(
            position=position, count=len(states), stage=state.stage,
            stage_label=SupplierOrderStage.LABELS.get(state.stage) or state.stage.capitalize(),
            steps=_steps(state.stage),
            lines=tuple(lines[i] for i in state.plan.line_indexes if isinstance(i, int) and 0 <= i < len(lines)),
            tracking_number=state.tracking_number if shipped else "",
            carrier=state.carrier if shipped else "",
            updated_iso=state.updated_at, updated_at=parse_instant(state.updated_at)))
    return shipments


def _may_see(request, order_number: str) -> bool:
    return (services.placed_by_session(request.session, order_number)
            or services.verify_order_token(order_number, request.GET.get("token")))


def _shopper_id(request) -> str:
    user = getattr(request, "user", None)
    return str(user.pk) if user is not None and user.is_authenticated else ""


def _page_for_request(request, order_number: str) -> services.OrderPage | None:
    """The order's page when this request may see it, else None. For a guest, access is checked
    before the store is read, so a stranger learns nothing and costs nothing; a signed-in shopper's
    ownership is the order's own `customer_id`. Raises services.OrdersUnavailable."""
    if not services.is_order_number(order_number):
        return None
    if _may_see(request, order_number):
        return services.order_page(order_number)
    shopper_id = _shopper_id(request)
    if not shopper_id:
        return None
    page = services.order_page(order_number)
    return page if page is not None and services.owned_by(page.order, shopper_id) else None


def _private(response):
    # The link may carry the emailed token: keep the page out of search engines and other sites'
    # referrers. Not "no-referrer": browsers then send `Origin: null` with the page's POSTs (the nav's
    # sign-out), and Django's CSRF check refuses them.
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    return response


@never_cache
@require_safe
def order_detail(request, order_number):
    try:
        page = _page_for_request(request, order_number)
    except services.OrdersUnavailable as exc:
        return unavailable(request, exc.message)
    if page is None:
        raise Http404("No such order")
    order = page.order
    return _private(render(request, "orders/detail.html", {
        "order": order,
        "status_label": status_label(order.status),
        "placed_at": parse_instant(order.placed_at),
        "timeline": _timeline(order, page.history),
        "shipments": _shipments(order, page.shipments),
        "refresh_seconds": REFRESH_SECONDS if order.status not in OrderStatus.FINAL else 0,
        "in_session": services.placed_by_session(request.session, order.order_number),
    }))


@never_cache
@require_safe
def order_list(request):
    """The orders placed in this browser session and, signed in, the shopper's own, newest first."""
    shopper_id = _shopper_id(request)
    try:
        orders = services.visible_orders(request.session, shopper_id, request.user.email if shopper_id else "")
    except services.OrdersUnavailable as exc:
        return unavailable(request, exc.message)
    rows = [OrderRow(order_number=order.order_number, path=services.order_path(order.order_number),
                     placed_iso=order.placed_at, placed_at=parse_instant(order.placed_at), status=order.status,
                     status_label=status_label(order.status), total_cents=order.totals.total_cents,
                     item_count=sum(line.quantity for line in order.lines))
            for order in orders]
    return _private(render(request, "orders/list.html", {"orders": rows, "signed_in": bool(shopper_id)}))
