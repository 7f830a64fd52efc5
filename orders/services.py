"""What views and admin call for orders: read-model queries and access checks, returning contracts.

The shopper's pages read Cassandra (`orders`, `order_status_history`, `order_shipments`), not the
order workflow: they open while the OMS workers are down, and a shopper's refresh (the order page
refreshes itself while the order moves) never costs a Temporal query.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from cassandra import DriverException
from cassandra.cluster import NoHostAvailable
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from commerce.temporal import get_client
from orders import history, store
from orders.access import order_path, order_token, order_url, verify_order_token
from orders.contracts import (
    TASK_QUEUE,
    LinkOrdersRequest,
    OrderView,
    OrderWorkflows,
    SupplierOrderState,
    Transition,
    link_orders_workflow_id,
)
from orders.numbers import is_order_number, normalize_order_number

__all__ = [
    "OrdersUnavailable", "PLACED_ORDERS_SESSION_KEY", "MAX_REMEMBERED_ORDERS", "OrderPage",
    "get_order", "order_page", "orders_for_email", "session_orders",
    "order_path", "order_token", "order_url", "verify_order_token",
    "is_order_number", "normalize_order_number", "remember_placed_order", "remember_placed_order_sync",
    "placed_orders", "placed_by_session", "shopper_orders", "owned_by", "visible_orders", "start_linking",
    "LinkingUnavailable",
]

logger = logging.getLogger(__name__)

PLACED_ORDERS_SESSION_KEY = "placed_orders"
MAX_REMEMBERED_ORDERS = 20


class OrdersUnavailable(RuntimeError):
    """Cassandra does not answer: the order pages say so (503) instead of failing."""

    message = "Your orders are unavailable right now"

    def __init__(self) -> None:
        super().__init__(self.message)


@contextmanager
def _order_store() -> Iterator[None]:
    try:
        yield
    except (NoHostAvailable, DriverException) as exc:  # no host, timeouts, too few replicas
        logger.warning("cassandra unavailable: %s", exc)
        raise OrdersUnavailable() from exc


def get_order(order_number: str) -> OrderView | None:
    """The order under this number, or None. Raises OrdersUnavailable when Cassandra is down."""
    if not is_order_number(order_number):
        return None
    with _order_store():
        return store.read_order(order_number)


@dataclass(frozen=True)
class OrderPage:
    """What the shopper's order page shows, all from Cassandra: the order (its status column), its
    transitions oldest first, and its supplier orders (shipments) by index. History and shipments
    are empty until the order workflow records them."""

    order: OrderView
    history: tuple[Transition, ...] = ()
    shipments: tuple[SupplierOrderState, ...] = ()


def order_page(order_number: str) -> OrderPage | None:
    """The order under this number with its history and shipments, or None. Who may see it is the
    caller's check (before calling: a stranger costs no read). Raises OrdersUnavailable."""
    if not is_order_number(order_number):
        return None
    with _order_store():
        order = store.read_order(order_number)
        if order is None:
            return None
        return OrderPage(order=order, history=history.read_history(order_number),
                         shipments=history.read_shipments(order_number))


def orders_for_email(email: str, limit: int = 20) -> list[OrderView]:
    """A shopper's orders, newest first. Raises OrdersUnavailable when Cassandra is down."""
    with _order_store():
        return store.orders_for_email(email, limit)


# -- the orders this browser placed (a guest's session) ----------------------------------------

def _remembered(numbers, order_number: str) -> list[str]:
    kept = [n for n in numbers if isinstance(n, str) and is_order_number(n) and n != order_number]
    return [*kept, order_number][-MAX_REMEMBERED_ORDERS:]


async def remember_placed_order(session, order_number: str) -> None:
    """Let this session open the order's page from now on (its last MAX_REMEMBERED_ORDERS orders).
    For async views (the checkout's); `remember_placed_order_sync` is the same for sync code."""
    if not is_order_number(order_number):
        raise ValueError(f"{order_number!r} is not an order number")
    numbers = await session.aget(PLACED_ORDERS_SESSION_KEY)
    await session.aset(PLACED_ORDERS_SESSION_KEY,
                       _remembered(numbers if isinstance(numbers, list) else [], order_number))


def remember_placed_order_sync(session, order_number: str) -> None:
    if not is_order_number(order_number):
        raise ValueError(f"{order_number!r} is not an order number")
    numbers = session.get(PLACED_ORDERS_SESSION_KEY)
    session[PLACED_ORDERS_SESSION_KEY] = _remembered(numbers if isinstance(numbers, list) else [], order_number)


def placed_orders(session) -> list[str]:
    """The numbers of the orders this session placed, oldest first."""
    numbers = session.get(PLACED_ORDERS_SESSION_KEY)
    return [n for n in numbers if isinstance(n, str)] if isinstance(numbers, list) else []


def placed_by_session(session, order_number: str) -> bool:
    return order_number in placed_orders(session)


def session_orders(session) -> list[OrderView]:
    """The orders this browser session placed, newest first, each as Cassandra has it now (its
    current status). A remembered number no order answers to is left out. Reads nothing when the
    session placed no order; otherwise raises OrdersUnavailable when Cassandra is down."""
    numbers = [n for n in dict.fromkeys(placed_orders(session)) if is_order_number(n)][-MAX_REMEMBERED_ORDERS:]
    # A signed-in shopper's own orders (orders_for_email / orders_by_customer) join this list with
    # accounts (identity, a later issue): this is where it grows.
    if not numbers:
        return []
    with _order_store():
        found = [order for order in map(store.read_order, numbers) if order is not None]
    # Newest first by when each was placed; the session's own order breaks ties (later = newer).
    position = {number: k for k, number in enumerate(numbers)}
    return sorted(found, key=lambda order: (_instant(order.placed_at), position[order.order_number]), reverse=True)


_NEVER = datetime.min.replace(tzinfo=UTC)


def _instant(iso: str) -> datetime:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return _NEVER
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


# -- a signed-in shopper's orders ----------------------------------------------------------------

def shopper_orders(shopper_id: str, email: str, limit: int = 200) -> list[OrderView]:
    """The signed-in shopper's orders, newest first: those placed signed in and the guest orders of
    the account email linked after it was verified (`customer_id == shopper_id`). `email` is the
    account's. Raises OrdersUnavailable when Cassandra is down."""
    if not shopper_id or not email:
        return []
    with _order_store():
        return store.shopper_orders(shopper_id, email, limit)


def owned_by(order: OrderView, shopper_id: str) -> bool:
    """Whether the order belongs to this signed-in shopper (placed by them, or linked to them)."""
    return bool(shopper_id) and order.customer_id == shopper_id


def visible_orders(session, shopper_id: str = "", email: str = "", limit: int = 200) -> list[OrderView]:
    """`/orders/`: this session's orders and, signed in, the shopper's own, newest first, each once.
    Raises OrdersUnavailable."""
    mine = shopper_orders(shopper_id, email, limit) if shopper_id else []
    here = session_orders(session)
    seen = {order.order_number for order in mine}
    merged = mine + [order for order in here if order.order_number not in seen]
    return sorted(merged, key=lambda order: _instant(order.placed_at), reverse=True)


class LinkingUnavailable(RuntimeError):
    """Temporal did not take the linking workflow; verifying again starts it (it is idempotent)."""


async def start_linking(shopper_id: str, email: str) -> None:
    """Start `link-orders-{shopper_id}` on the oms queue: it gives the verified email's guest orders to
    the shopper. A run still going absorbs a second start (USE_EXISTING); a finished one may run again
    (ALLOW_DUPLICATE), which links only what is new. Raises LinkingUnavailable."""
    try:
        client = await get_client()
        await client.start_workflow(
            OrderWorkflows.LINK_GUEST_ORDERS, LinkOrdersRequest(shopper_id=shopper_id, email=email),
            id=link_orders_workflow_id(shopper_id), task_queue=TASK_QUEUE,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
    except WorkflowAlreadyStartedError:
        return
    except (RuntimeError, RPCError) as error:
        logger.warning("orders: linking for %s not started: %s", shopper_id, error)
        raise LinkingUnavailable(str(error)) from error
