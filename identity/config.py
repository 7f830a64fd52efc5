"""The store's configuration as the web tier and activities read it.

The `store-config` workflow keeps it and persists each version to Cassandra (`identity.config_store`);
until the first change nothing is persisted and the configuration is built from settings
(`default_store_config()`), so a fresh shop runs on its environment.

- `store_config()` (sync) and `astore_config()` (async views): the web tier's per-process copy of
  the persisted row, read again at most every `STORE_CONFIG_REFRESH_SECONDS`, and replaced at once in
  the process that made a change (`remember`). When Cassandra does not answer, the last copy read is
  kept (the defaults if none was ever read) and the failure is logged; it is tried again after the
  same interval, so a store that is down costs one attempt per interval, not one per request.
- `current_store_config()`: the persisted row read now, for activities (the order's settings, its
  supplier plan): never a cached copy. Raises the driver's errors, so the activity is retried.

Workflow code never calls any of these: the cart and checkout get the configuration as input, the
order workflow through its settings activity.
"""

from __future__ import annotations

import logging
import threading
import time

from asgiref.sync import sync_to_async
from django.conf import settings

from identity import config_store
from identity.contracts import ShippingMethod, StoreConfig

logger = logging.getLogger(__name__)

# Sales tax by destination state, in basis points; every other state pays the default.
TAX_BASIS_POINTS = {"CA": 725, "NY": 800, "TX": 625, "WA": 650, "FL": 600, "OR": 0, "NH": 0}
DEFAULT_TAX_BASIS_POINTS = 800

_lock = threading.Lock()
# (when it was read, by time.monotonic(); the persisted configuration or None when there is none)
_copy: tuple[float, StoreConfig | None] | None = None


def default_store_config() -> StoreConfig:
    """The configuration built from settings: what the shop runs on until staff change it."""
    return StoreConfig(
        store_name=settings.SHOP_NAME,
        tax_basis_points=dict(TAX_BASIS_POINTS),
        default_tax_basis_points=DEFAULT_TAX_BASIS_POINTS,
        shipping_methods=(
            ShippingMethod("standard", "Standard", settings.SHIPPING_STANDARD_CENTS, "3-5 business days"),
            ShippingMethod("express", "Express", settings.SHIPPING_EXPRESS_CENTS, "1-2 business days"),
        ),
        approval_threshold_cents=settings.ORDER_APPROVAL_THRESHOLD_CENTS,
        approval_timeout_seconds=settings.ORDER_APPROVAL_TIMEOUT_SECONDS,
        refund_window_seconds=settings.ORDER_REFUND_WINDOW_SECONDS,
        manual_fulfillment=settings.FULFILLMENT_MANUAL,
        hold_ttl_seconds=settings.CART_HOLD_TTL_SECONDS,
        checkout_step_timeout_seconds=settings.CHECKOUT_STEP_TIMEOUT_SECONDS,
        max_declined_attempts=settings.CHECKOUT_MAX_DECLINED_ATTEMPTS,
        declined_lockout_seconds=settings.CHECKOUT_DECLINED_LOCKOUT_SECONDS,
    )


def current_store_config() -> StoreConfig:
    """The persisted configuration read now (the defaults when none is persisted); for activities."""
    return config_store.read_current() or default_store_config()


def _fresh(now: float) -> bool:
    return _copy is not None and now - _copy[0] < settings.STORE_CONFIG_REFRESH_SECONDS


def _refresh() -> None:
    global _copy
    with _lock:
        now = time.monotonic()
        if _fresh(now):  # another thread read it while this one waited
            return
        try:
            persisted = config_store.read_current()
        except Exception as error:  # noqa: BLE001 - any driver failure: keep serving the last copy
            logger.warning("store config: Cassandra did not answer, keeping the last copy: %s", error)
            persisted = _copy[1] if _copy is not None else None
        _copy = (now, persisted)


def _served() -> StoreConfig:
    persisted = _copy[1] if _copy is not None else None
    return persisted or default_store_config()


def store_config() -> StoreConfig:
    """The web tier's copy of the configuration (at most STORE_CONFIG_REFRESH_SECONDS old)."""
    if not _fresh(time.monotonic()):
        _refresh()
    return _served()


async def astore_config() -> StoreConfig:
    """store_config() for async views: a due refresh reads Cassandra off the event loop."""
    if not _fresh(time.monotonic()):
        await sync_to_async(_refresh, thread_sensitive=False)()
    return _served()


def remember(config: StoreConfig) -> None:
    """This process applied `config` (the workflow answered it): serve it at once."""
    global _copy
    with _lock:
        if _copy is None or _copy[1] is None or _copy[1].version <= config.version:
            _copy = (time.monotonic(), config)


def forget() -> None:
    """Drop the copy: the next read goes to Cassandra (tests, after they reset the store)."""
    global _copy
    with _lock:
        _copy = None
