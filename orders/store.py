"""Orders in Cassandra: written once by the checkout's activity, read by the order pages.

No Temporal here: `write_order` is called by a checkout activity, which may run it more than once
(a retry after a timeout or a crash), so every write is idempotent:

1. `orders_by_number` is claimed first, `IF NOT EXISTS`. Found already claimed by the same checkout:
   a retry, carry on. Claimed by another checkout: `OrderNumberTaken` (the caller draws another
   number; with 50 random bits this is rare but not impossible).
2. The `orders` row and the `orders_by_customer` row are then written `IF NOT EXISTS` too, with the
   values the claim guards. A retry rewrites nothing, so an attempt that wakes up late can never
   put an order that has moved on (a later status) back to `placed`.

A crash between any two writes leaves a state the next attempt completes.

After that, only the order workflow's record activity changes a row: `set_status` moves the status
columns of `orders` and `orders_by_customer` by lightweight transaction, conditioned on the
workflow's version (`status_version`), so a record that arrives late never moves an order back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime

from cassandra.query import SimpleStatement

from checkout.contracts import Address, CheckoutLine, Totals
from commerce.cassandra import prepare, session, table
from orders.contracts import OrderInput, OrderStatus, OrderView
from orders.numbers import is_order_number

MAX_ORDERS_LISTED = 100
_LINE_FIELDS = {field.name for field in fields(CheckoutLine)}


class OrderNumberTaken(Exception):
    """Another checkout placed an order under this number: draw a new one and write again."""

    kind = "OrderNumberTaken"

    def __init__(self, order_number: str) -> None:
        self.order_number = order_number
        super().__init__(f"Order number {order_number} belongs to another checkout.")


def normalize_email(email: str) -> str:
    """The key of a shopper's orders: the address without surrounding spaces, in lower case."""
    return email.strip().lower()


def placed_at_datetime(placed_at: str) -> datetime:
    """An ISO 8601 instant as Cassandra keeps it: UTC, to the millisecond."""
    moment = datetime.fromisoformat(placed_at)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def order_view(order: OrderInput, status: str = OrderStatus.PLACED) -> OrderView:
    """What the pages and the confirmation email show of an order the checkout just placed."""
    return OrderView(
        order_number=order.order_number, status=status, email=order.email,
        shipping_address=order.shipping_address, shipping_method=order.shipping_method,
        lines=tuple(order.lines), totals=order.totals, card_brand=order.card_brand,
        card_last4=order.card_last4, placed_at=order.placed_at, customer_id=order.customer_id,
    )


def _lines_json(lines: tuple[CheckoutLine, ...]) -> str:
    return json.dumps([asdict(line) for line in lines], separators=(",", ":"), sort_keys=True)


def _lines(text: str) -> tuple[CheckoutLine, ...]:
    return tuple(CheckoutLine(**{key: value for key, value in item.items() if key in _LINE_FIELDS})
                 for item in json.loads(text or "[]"))


def _validate(order: OrderInput) -> None:
    if not is_order_number(order.order_number):
        raise ValueError(f"{order.order_number!r} is not an order number")
    if not order.checkout_id:
        raise ValueError("an order needs the id of the checkout that placed it")
    if not normalize_email(order.email):
        raise ValueError("an order needs an email address")


def _claim_number(order: OrderInput, placed_at: datetime) -> bool:
    """Claim the order number for this checkout. True: claimed now; False: this checkout's own claim
    from an earlier attempt. Raises OrderNumberTaken when another checkout holds it."""
    statement = prepare(
        f"INSERT INTO {table('orders_by_number')} (order_number, checkout_id, email, placed_at)"
        " VALUES (?, ?, ?, ?) IF NOT EXISTS")
    result = session().execute(statement, [order.order_number, order.checkout_id,
                                           normalize_email(order.email), placed_at])
    if result.was_applied:
        return True
    if result.one()["checkout_id"] != order.checkout_id:
        raise OrderNumberTaken(order.order_number)
    return False


_ORDER_COLUMNS = (
    "order_number", "checkout_id", "cart_id", "email", "customer_id",
    "ship_email", "ship_full_name", "ship_line1", "ship_line2", "ship_city", "ship_state", "ship_postal_code",
    "ship_country", "shipping_method", "lines_json",
    "subtotal_cents", "discount_cents", "shipping_cents", "tax_cents", "total_cents",
    "payment_authorization_key", "card_brand", "card_last4", "status", "placed_at",
)
_CUSTOMER_COLUMNS = ("email", "placed_at", "order_number", "customer_id", "status", "total_cents", "item_count")


def _insert_if_new(name: str, columns: tuple[str, ...], values: list) -> None:
    statement = prepare(f"INSERT INTO {table(name)} ({', '.join(columns)})"
                        f" VALUES ({', '.join('?' for _ in columns)}) IF NOT EXISTS")
    session().execute(statement, values)


def write_order(order: OrderInput) -> bool:
    """Write a placed order to `orders_by_number`, `orders` and `orders_by_customer`, once.

    Returns True when this call claimed the number, False when an earlier attempt of the same
    checkout had (the rows are then completed, never changed). Raises `OrderNumberTaken` when the
    number belongs to another checkout, ValueError for an order that cannot be stored."""
    _validate(order)
    placed_at = placed_at_datetime(order.placed_at)
    claimed = _claim_number(order, placed_at)
    address, totals = order.shipping_address, order.totals
    _insert_if_new("orders", _ORDER_COLUMNS, [
        order.order_number, order.checkout_id, order.cart_id, order.email.strip(), order.customer_id,
        address.email, address.full_name, address.line1, address.line2, address.city, address.state,
        address.postal_code, address.country, order.shipping_method, _lines_json(order.lines),
        totals.subtotal_cents, totals.discount_cents, totals.shipping_cents, totals.tax_cents,
        totals.total_cents, order.payment_authorization_key, order.card_brand, order.card_last4,
        OrderStatus.PLACED, placed_at,
    ])
    _insert_if_new("orders_by_customer", _CUSTOMER_COLUMNS, [
        normalize_email(order.email), placed_at, order.order_number, order.customer_id, OrderStatus.PLACED,
        totals.total_cents, sum(line.quantity for line in order.lines),
    ])
    return claimed


def _iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment).isoformat()


def _view(row: dict) -> OrderView:
    return OrderView(
        order_number=row["order_number"],
        status=row["status"] or OrderStatus.PLACED,
        email=row["email"] or "",
        shipping_address=Address(
            email=row["ship_email"] or "", full_name=row["ship_full_name"] or "", line1=row["ship_line1"] or "",
            line2=row["ship_line2"] or "", city=row["ship_city"] or "", state=row["ship_state"] or "",
            postal_code=row["ship_postal_code"] or "", country=row["ship_country"] or "US"),
        shipping_method=row["shipping_method"] or "",
        lines=_lines(row["lines_json"]),
        totals=Totals(subtotal_cents=row["subtotal_cents"] or 0, discount_cents=row["discount_cents"] or 0,
                      shipping_cents=row["shipping_cents"] or 0, tax_cents=row["tax_cents"] or 0,
                      total_cents=row["total_cents"] or 0),
        card_brand=row["card_brand"] or "",
        card_last4=row["card_last4"] or "",
        placed_at=_iso(row["placed_at"]),
        customer_id=row["customer_id"] or "",
    )


_SELECT_ORDER = f"SELECT {', '.join(_ORDER_COLUMNS)} FROM {{table}} WHERE order_number"


def read_order(order_number: str) -> OrderView | None:
    """The order under this number, or None (a malformed number is never looked up)."""
    if not is_order_number(order_number):
        return None
    statement = prepare(_SELECT_ORDER.format(table=table("orders")) + " = ?")
    row = session().execute(statement, [order_number]).one()
    return _view(row) if row else None


def orders_for_email(email: str, limit: int = 20) -> list[OrderView]:
    """A shopper's orders, newest first, at most `limit` (1..100)."""
    key = normalize_email(email)
    limit = max(1, min(int(limit), MAX_ORDERS_LISTED))
    if not key:
        return []
    statement = prepare(f"SELECT order_number FROM {table('orders_by_customer')} WHERE email = ? LIMIT ?")
    numbers = [row["order_number"] for row in session().execute(statement, [key, limit])]
    if not numbers:
        return []
    statement = prepare(_SELECT_ORDER.format(table=table("orders")) + " IN ?")
    found = {row["order_number"]: _view(row) for row in session().execute(statement, [numbers])}
    return [found[number] for number in numbers if number in found]


MAX_SHOPPER_ORDERS = 500  # what one account's list may show (C's API pages over it)
_IN_CHUNK = 100  # order numbers per `IN` read


def _read_orders(numbers: list[str]) -> dict[str, OrderView]:
    statement = prepare(_SELECT_ORDER.format(table=table("orders")) + " IN ?")
    found: dict[str, OrderView] = {}
    for start in range(0, len(numbers), _IN_CHUNK):
        found.update((row["order_number"], _view(row))
                     for row in session().execute(statement, [numbers[start:start + _IN_CHUNK]]))
    return found


def shopper_orders(shopper_id: str, email: str, limit: int = 200) -> list[OrderView]:
    """A signed-in shopper's orders, newest first, at most `limit` (1..MAX_SHOPPER_ORDERS): the rows of
    the account email's `orders_by_customer` partition that carry this shopper's id, checked again
    against `orders` (the order itself). Guest orders of the email count once they are linked."""
    key = normalize_email(email)
    limit = max(1, min(int(limit), MAX_SHOPPER_ORDERS))
    if not key or not shopper_id:
        return []
    statement = SimpleStatement(f"SELECT order_number, customer_id FROM {table('orders_by_customer')} WHERE email = %s",
                                fetch_size=500)
    numbers = []
    for row in session().execute(statement, [key]):
        if row["customer_id"] == shopper_id:
            numbers.append(row["order_number"])
            if len(numbers) >= limit:
                break
    if not numbers:
        return []
    found = _read_orders(numbers)
    return [found[number] for number in numbers if number in found and found[number].customer_id == shopper_id]


def _claim_for(name: str, key_clause: str, key: list, shopper_id: str) -> bool:
    """Set customer_id on one guest row (customer_id "" or null), never on another shopper's. False
    when the row is missing or belongs to someone; a row already this shopper's counts as done."""
    empty = prepare(f"UPDATE {table(name)} SET customer_id = ? WHERE {key_clause} IF customer_id = ''")
    result = session().execute(empty, [shopper_id, *key])
    if result.was_applied:
        return True
    row = result.one()
    if row is None or "customer_id" not in row:
        return False  # no such row: an UPDATE ... IF never creates one
    if row["customer_id"] is None:
        null = prepare(f"UPDATE {table(name)} SET customer_id = ? WHERE {key_clause} IF customer_id = null")
        return session().execute(null, [shopper_id, *key]).was_applied
    return row["customer_id"] == shopper_id


def link_guest_orders(shopper_id: str, email: str) -> int:
    """Give the verified email's guest orders to this shopper: `customer_id` on `orders` and on
    `orders_by_customer`, each by lightweight transaction from "" (so an order of another shopper, or
    one placed signed in, is never taken). Idempotent: a second run finds nothing left to link and a
    crash halfway is completed by the retry. Returns how many orders this call linked."""
    key = normalize_email(email)
    if not key or not shopper_id:
        raise ValueError("linking needs a shopper id and an email")
    statement = SimpleStatement(
        f"SELECT placed_at, order_number, customer_id FROM {table('orders_by_customer')} WHERE email = %s",
        fetch_size=500)
    linked = 0
    for row in list(session().execute(statement, [key])):
        if row["customer_id"] not in ("", None) and row["customer_id"] != shopper_id:
            continue
        number = row["order_number"]
        stored = read_stored_order(number)
        if stored is None or normalize_email(stored.order.email) != key:
            continue
        if stored.order.customer_id not in ("", shopper_id):
            continue
        took_order = stored.order.customer_id == shopper_id or _claim_for(
            "orders", "order_number = ?", [number], shopper_id)
        if not took_order:
            continue
        _claim_for("orders_by_customer", "email = ? AND placed_at = ? AND order_number = ?",
                   [key, row["placed_at"], number], shopper_id)
        if row["customer_id"] != shopper_id:
            linked += 1
    return linked


# -- the status the order workflow records -----------------------------------------------------

def _set_status_in(name: str, key_clause: str, key: list, status: str, version: int) -> bool:
    """One conditional update of a status row; False when the row is missing or holds a newer version."""
    newer_or_same = prepare(f"UPDATE {table(name)} SET status = ?, status_version = ? WHERE {key_clause}"
                            " IF status_version <= ?")
    first = prepare(f"UPDATE {table(name)} SET status = ?, status_version = ? WHERE {key_clause}"
                    " IF status_version = null")
    result = session().execute(newer_or_same, [status, version, *key, version])
    if result.was_applied:
        return True
    row = result.one()
    # Not applied: the row is missing (nothing but `[applied]` comes back; never create a partial
    # row), holds a newer version, or was never recorded (null: no comparison holds, so ask again).
    if row is None or "status_version" not in row or row["status_version"] is not None:
        return False
    return session().execute(first, [status, version, *key]).was_applied


def set_status(order_number: str, status: str, version: int, *, email: str, placed_at: str) -> bool:
    """Record the order's status as of the workflow's `version` in `orders` and `orders_by_customer`.

    Idempotent (the same version writes the same values again) and never moves a row back: a row
    that holds a newer version is left alone. `email` and `placed_at` are the order's (they key its
    `orders_by_customer` row). Returns whether the `orders` row now holds this version's status."""
    if status not in OrderStatus.ALL:
        raise ValueError(f"{status!r} is not an order status")
    if not is_order_number(order_number):
        raise ValueError(f"{order_number!r} is not an order number")
    if isinstance(version, bool) or not isinstance(version, int) or not 0 <= version < 2**31:
        raise ValueError(f"{version!r} is not an order version")
    applied = _set_status_in("orders", "order_number = ?", [order_number], status, version)
    _set_status_in("orders_by_customer", "email = ? AND placed_at = ? AND order_number = ?",
                   [normalize_email(email), placed_at_datetime(placed_at), order_number], status, version)
    return applied


# -- the whole row: staff's view of a closed order, and the projection's rebuild -----------------

@dataclass(frozen=True)
class StoredOrder:
    """An order as `orders` holds it: what the checkout placed, and the status last recorded."""

    order: OrderInput
    status: str
    status_version: int  # 0 before the order workflow first recorded it


_STORED_COLUMNS = (*_ORDER_COLUMNS, "status_version")


def _stored(row: dict) -> StoredOrder:
    view = _view(row)
    order = OrderInput(
        order_number=view.order_number, checkout_id=row["checkout_id"] or "", cart_id=row["cart_id"] or "",
        email=view.email, customer_id=row["customer_id"] or "", shipping_address=view.shipping_address,
        shipping_method=view.shipping_method, lines=view.lines, totals=view.totals,
        payment_authorization_key=row["payment_authorization_key"] or "", card_brand=view.card_brand,
        card_last4=view.card_last4, placed_at=view.placed_at)
    return StoredOrder(order=order, status=view.status, status_version=row["status_version"] or 0)


def read_stored_order(order_number: str) -> StoredOrder | None:
    """The whole `orders` row of this number, or None (a malformed number is never looked up)."""
    if not is_order_number(order_number):
        return None
    statement = prepare(f"SELECT {', '.join(_STORED_COLUMNS)} FROM {table('orders')} WHERE order_number = ?")
    row = session().execute(statement, [order_number]).one()
    return _stored(row) if row else None


def count_orders(fetch_size: int = 5000) -> int:
    """How many orders there are: a scan of the keys (an aggregate without a partition key would do
    the same work, with a server warning)."""
    statement = SimpleStatement(f"SELECT order_number FROM {table('orders')}", fetch_size=fetch_size)
    return sum(1 for _ in session().execute(statement))


def iter_stored_orders(fetch_size: int = 1000) -> Iterator[StoredOrder]:
    """Every order, in token order (a full scan, paged by the driver): for rebuilding projections."""
    statement = SimpleStatement(f"SELECT {', '.join(_STORED_COLUMNS)} FROM {table('orders')}", fetch_size=fetch_size)
    for row in session().execute(statement):
        yield _stored(row)
