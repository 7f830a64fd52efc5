"""GET /orders, GET /orders/{number}, and the staff actions POST /orders/{number}/<action>.

A shopper's token reads only its owner's orders (`orders.services.shopper_orders`; another's order
answers 404, the same as no such order). A staff member's token with orders:read reads all of them
(the staff's order list, `orders.listing.search_orders`). orders:write is staff only and sends the
console's actions (`orders.staff`): a refused transition is 409, an invalid request 400, and the
`Idempotency-Key` header (or `action_id` in the body) makes a repeated request apply once.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from ninja import Field, Header, Path, Query, Router, Schema

from api.auth import require
from api.errors import BadRequest, Conflict, Forbidden, NotFound, Unavailable
from api.schemas import (
    ActionIn,
    ActionOut,
    AddressOut,
    CancelIn,
    ErrorOut,
    LineOut,
    NoteIn,
    OrderListOut,
    OrderOut,
    OrderSummaryOut,
    RefundIn,
    ShipmentOut,
    TotalsOut,
    TransitionOut,
    ValidationErrorOut,
)
from identity.contracts import TokenScopes
from identity.token_services import ApiPrincipal
from orders import listing, services, staff
from orders.contracts import Actor, OrderErrors, OrderView

router = Router(tags=["orders"])

MAX_PAGE_SIZE = 100
VIEW_ORDERS = "orders.view_order"  # the console's permission to see orders
MAX_OWN_ORDERS = 200  # what shopper_orders reads at most: a shopper's token pages within these
NUMBER = r"^[A-Za-z0-9-]{1,40}$"
ERRORS = {400: ValidationErrorOut, 401: ErrorOut, 403: ErrorOut, 429: ErrorOut, 503: ErrorOut}
ACTION_ERRORS = {**ERRORS, 404: ErrorOut, 409: ErrorOut}
# Who moved an order, as a shopper's token sees it: the shop's machinery by name, staff as "shop".
_MACHINE_ACTORS = frozenset({"", Actor.SYSTEM, Actor.CHECKOUT, Actor.FULFILLMENT})


class Paging(Schema):
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)


async def _reads_every_order(principal: ApiPrincipal) -> bool:
    """A staff member whose role may view orders in the console (checked now): every order. Any other
    token, a staff member's without that permission included, reads its owner's orders only."""
    return principal.is_staff and await principal.has_perm(VIEW_ORDERS)


def _summary_of(order: OrderView) -> OrderSummaryOut:
    return OrderSummaryOut(order_number=order.order_number, status=order.status, email=order.email,
                           placed_at=order.placed_at, total_cents=order.totals.total_cents,
                           item_count=sum(line.quantity for line in order.lines))


def _list(principal: ApiPrincipal, paging: Paging, every_order: bool) -> OrderListOut:
    if every_order:
        found = listing.search_orders(page=paging.page, page_size=paging.page_size)
        items = [OrderSummaryOut(order_number=row.order_number, status=row.status, email=row.email,
                                 placed_at=row.placed_at, total_cents=row.total_cents, item_count=row.item_count)
                 for row in found.rows]
        return OrderListOut(items=items, page=found.page, page_size=found.page_size, total=found.total,
                            pages=found.pages)
    mine = services.shopper_orders(principal.owner_id, principal.email, MAX_OWN_ORDERS)
    start = (paging.page - 1) * paging.page_size
    pages = max(1, -(-len(mine) // paging.page_size))
    return OrderListOut(items=[_summary_of(order) for order in mine[start:start + paging.page_size]],
                        page=paging.page, page_size=paging.page_size, total=len(mine), pages=pages)


@router.get("/orders", response={200: OrderListOut, **ERRORS}, summary="Orders")
async def list_orders(request, paging: Query[Paging]):
    """The token owner's orders, newest first; a staff member's token: every order."""
    principal = require(request, TokenScopes.ORDERS_READ)
    try:
        every_order = await _reads_every_order(principal)
        return await sync_to_async(_list, thread_sensitive=False)(principal, paging, every_order)
    except (services.OrdersUnavailable, listing.OrderListUnavailable) as error:
        raise Unavailable(str(error)) from None


def _detail(principal: ApiPrincipal, number: str, staff_reader: bool) -> OrderOut | None:
    page = services.order_page(services.normalize_order_number(number))
    if page is None:
        return None
    order = page.order
    if not staff_reader and not services.owned_by(order, principal.owner_id):
        return None

    def actor(name: str) -> str:
        return name if staff_reader or name in _MACHINE_ACTORS else "shop"

    address = order.shipping_address
    return OrderOut(
        order_number=order.order_number, status=order.status, email=order.email, placed_at=order.placed_at,
        shipping_address=AddressOut(full_name=address.full_name, line1=address.line1, line2=address.line2,
                                    city=address.city, state=address.state, postal_code=address.postal_code,
                                    country=address.country),
        shipping_method=order.shipping_method,
        lines=[LineOut(sku=line.sku, product_slug=line.product_slug, name=line.name, colour=line.colour,
                       size=line.size, unit_price_cents=line.unit_price_cents, quantity=line.quantity)
               for line in order.lines],
        totals=TotalsOut(subtotal_cents=order.totals.subtotal_cents, discount_cents=order.totals.discount_cents,
                         shipping_cents=order.totals.shipping_cents, tax_cents=order.totals.tax_cents,
                         total_cents=order.totals.total_cents),
        card_brand=order.card_brand, card_last4=order.card_last4,
        status_history=[TransitionOut(at=t.at, from_status=t.from_status, to_status=t.to_status, actor=actor(t.actor),
                                      reason=t.reason if staff_reader else "") for t in page.history],
        shipments=[ShipmentOut(supplier_order_id=s.plan.supplier_order_id, stage=s.stage,
                               tracking_number=s.tracking_number, carrier=s.carrier, updated_at=s.updated_at)
                   for s in page.shipments],
    )


@router.get("/orders/{number}", response={200: OrderOut, 404: ErrorOut, **ERRORS}, summary="An order")
async def get_order(request, number: str = Path(..., pattern=NUMBER)):
    """An order with its status history and shipments: the owner's, or any for a staff member's token."""
    principal = require(request, TokenScopes.ORDERS_READ)
    try:
        staff_reader = await _reads_every_order(principal)
        found = await sync_to_async(_detail, thread_sensitive=False)(principal, number, staff_reader)
    except services.OrdersUnavailable as error:
        raise Unavailable(str(error)) from None
    if found is None:
        raise NotFound(f"There is no order {number} that this token may read.")
    return found


# -- staff actions ---------------------------------------------------------------------------------

def _key(header: str | None, body_key: str | None) -> str | None:
    if header is not None and body_key is not None and header != body_key:
        raise BadRequest("Idempotency-Key: the header and the body's action_id differ.")
    return header if header is not None else body_key


async def _act(request, call, number: str, *args, **kwargs) -> ActionOut:
    principal = require(request, TokenScopes.ORDERS_WRITE)
    permission, verb = PERMISSIONS[call]
    if not await principal.has_perm(permission):
        raise Forbidden(f"Your account may not {verb} orders (the console's {permission} permission).")
    try:
        result = await sync_to_async(call, thread_sensitive=False)(number, principal.username, *args, **kwargs)
    except staff.OrderNotFound as error:
        raise NotFound(str(error)) from None
    except staff.ActionRefused as error:
        if error.error_type == OrderErrors.INVALID_REQUEST:
            raise BadRequest(str(error)) from None
        raise Conflict(str(error)) from None
    except staff.OrdersUnavailable as error:
        raise Unavailable(str(error)) from None
    return ActionOut(action=result.action, applied=result.applied, status=result.status, message=result.message)


# The console's permission for each action: a token acts with its owner's role, checked on every call.
PERMISSIONS = {
    staff.approve: ("orders.approve_order", "approve"),
    staff.cancel: ("orders.cancel_order", "cancel"),
    staff.refund: ("orders.refund_order", "refund"),
    staff.add_note: ("orders.add_order_note", "add notes to"),
    staff.retry_payment: ("orders.retry_order_payment", "retry payments of"),
}
IdempotencyKey = Header(None, alias="Idempotency-Key", max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
                        description="Makes a repeated request apply once (the same key answers the first result).")
WRITE = dict(response={200: ActionOut, **ACTION_ERRORS})


@router.post("/orders/{number}/approve", summary="Approve an order awaiting approval", **WRITE)
async def approve(request, body: ActionIn, number: str = Path(..., pattern=NUMBER),
                  idempotency_key: str | None = IdempotencyKey):
    return await _act(request, staff.approve, number, _key(idempotency_key, body.action_id), body.expected_version)


@router.post("/orders/{number}/cancel", summary="Cancel an order before it ships", **WRITE)
async def cancel(request, body: CancelIn, number: str = Path(..., pattern=NUMBER),
                 idempotency_key: str | None = IdempotencyKey):
    return await _act(request, staff.cancel, number, body.reason, _key(idempotency_key, body.action_id),
                      body.expected_version)


@router.post("/orders/{number}/refund", summary="Refund a shipped order (an amount or whole lines)", **WRITE)
async def refund(request, body: RefundIn, number: str = Path(..., pattern=NUMBER),
                 idempotency_key: str | None = IdempotencyKey):
    return await _act(request, staff.refund, number, body.reason, body.amount_cents, tuple(body.skus),
                      _key(idempotency_key, body.action_id), body.expected_version)


@router.post("/orders/{number}/notes", summary="Add a staff note", **WRITE)
async def add_note(request, body: NoteIn, number: str = Path(..., pattern=NUMBER),
                   idempotency_key: str | None = IdempotencyKey):
    return await _act(request, staff.add_note, number, body.text, _key(idempotency_key, body.action_id))


@router.post("/orders/{number}/retry-payment", summary="Retry the payment of an order held for it", **WRITE)
async def retry_payment(request, body: ActionIn, number: str = Path(..., pattern=NUMBER),
                        idempotency_key: str | None = IdempotencyKey):
    return await _act(request, staff.retry_payment, number, _key(idempotency_key, body.action_id),
                      body.expected_version)
