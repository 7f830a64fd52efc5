"""What views and admin call for orders: read-model queries and access checks, returning contracts.

The order page reads Cassandra (`orders`), not the order workflow: it opens while the OMS workers
are down, and a shopper's refresh never costs a Temporal query.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from cassandra import DriverException
from cassandra.cluster import NoHostAvailable

from orders import store
from orders.access import order_path, order_token, order_url, verify_order_token
from orders.contracts import OrderView
from orders.numbers import is_order_number, normalize_order_number

__all__ = [
    "OrdersUnavailable", "PLACED_ORDERS_SESSION_KEY", "MAX_REMEMBERED_ORDERS",
    "get_order", "orders_for_email", "order_path", "order_token", "order_url", "verify_order_token",
    "is_order_number", "normalize_order_number", "remember_placed_order", "remember_placed_order_sync",
    "placed_orders", "placed_by_session",
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
