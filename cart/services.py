"""What the cart's views call: the cart workflow through update-with-start, and its query.

A missing or finished cart reads as an empty cart, never as an error.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta

from django.conf import settings
from temporalio.client import WithStartWorkflowOperation, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from cart.contracts import AddItem, ApplyCoupon, CartConfig, CartInput, CartStatus, CartView, RemoveItem, SetQuantity
from cart.workflows import CartWorkflow
from commerce.temporal import get_client

TASK_QUEUE = "cart"
# An update waits at most this long for the cart's worker; then the shopper is told to retry.
UPDATE_TIMEOUT = timedelta(seconds=10)
logger = logging.getLogger(__name__)


UNAVAILABLE = "The cart is not available just now; please try again in a moment."


class CartRefusal(Exception):
    """The cart said no (out of stock, unknown coupon, ...): `str()` is the shopper's message."""

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _refuse(error: WorkflowUpdateFailedError):
    cause = error.cause
    if isinstance(cause, ApplicationError):
        raise CartRefusal(cause.message, cause.type or "") from None
    raise CartRefusal(UNAVAILABLE, "Unavailable") from error


def new_cart_id() -> str:
    return uuid.uuid4().hex


def workflow_id(cart_id: str) -> str:
    return f"cart-{cart_id}"


def config() -> CartConfig:
    return CartConfig(
        hold_ttl_seconds=settings.CART_HOLD_TTL_SECONDS,
        idle_expiry_seconds=settings.CART_IDLE_EXPIRY_SECONDS,
        continue_as_new_after=settings.CART_CONTINUE_AS_NEW_AFTER,
    )


def empty_cart(cart_id: str = "") -> CartView:
    return CartView(cart_id=cart_id, status=CartStatus.ACTIVE)


async def _update(cart_id: str, update, arg, update_id: str | None = None) -> CartView:
    """Update the cart's workflow, starting it if it is not running (update-with-start)."""
    client = await get_client()
    update_id = update_id or uuid.uuid4().hex
    try:
        # Most changes are to a running cart: a plain update is one round trip cheaper.
        return await client.get_workflow_handle(workflow_id(cart_id)).execute_update(
            update, arg, id=update_id, result_type=CartView, rpc_timeout=UPDATE_TIMEOUT)
    except WorkflowUpdateFailedError as error:
        _refuse(error)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            logger.warning("cart %s update failed: %s", cart_id, error)
            raise CartRefusal(UNAVAILABLE, "Unavailable") from error
    start = WithStartWorkflowOperation(
        CartWorkflow.run,
        CartInput(cart_id, config()),
        id=workflow_id(cart_id),
        task_queue=TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    try:
        return await client.execute_update_with_start_workflow(
            update, arg, start_workflow_operation=start, id=update_id, result_type=CartView,
            rpc_timeout=UPDATE_TIMEOUT,
        )
    except WorkflowUpdateFailedError as error:
        _refuse(error)
    except (RPCError, asyncio.TimeoutError) as error:
        # The server or the cart's worker is unreachable or failing: nothing changed.
        logger.warning("cart %s update failed: %s", cart_id, error)
        raise CartRefusal(UNAVAILABLE, "Unavailable") from error


async def add_item(cart_id: str, sku: str, quantity: int, nonce: str) -> CartView:
    """Add units of a SKU; `nonce` (from the form) is the update id, so a double submit adds once."""
    return await _update(cart_id, CartWorkflow.add_item, AddItem(sku, quantity), update_id=f"add-{nonce}")


async def set_quantity(cart_id: str, sku: str, quantity: int) -> CartView:
    return await _update(cart_id, CartWorkflow.set_quantity, SetQuantity(sku, quantity))


async def remove_item(cart_id: str, sku: str) -> CartView:
    return await _update(cart_id, CartWorkflow.remove_item, RemoveItem(sku))


async def apply_coupon(cart_id: str, code: str) -> CartView:
    return await _update(cart_id, CartWorkflow.apply_coupon, ApplyCoupon(code))


async def get_cart(cart_id: str | None) -> CartView:
    if not cart_id:
        return empty_cart()
    client = await get_client()
    try:
        view = await client.get_workflow_handle(workflow_id(cart_id)).query(
            CartWorkflow.get_cart, rpc_timeout=UPDATE_TIMEOUT)
    except (RPCError, WorkflowQueryFailedError):
        return empty_cart(cart_id)  # no such workflow (never created, or its history is gone)
    return view if view.status == CartStatus.ACTIVE else empty_cart(cart_id)
