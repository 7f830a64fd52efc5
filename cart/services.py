"""What the cart's views call: the cart workflow through update-with-start, and its query.

A missing or finished cart reads as an empty cart. A cart that cannot be reached, or does not
answer within settings.CART_UPDATE_TIMEOUT_SECONDS, raises CartUnavailable: never an empty cart,
never a 500.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.utils.crypto import salted_hmac
from temporalio.client import (
    RPCTimeoutOrCancelledError,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from cart.contracts import (
    TASK_QUEUE,
    AddItem,
    ApplyCoupon,
    CartErrors,
    CartInput,
    CartSettings,
    CartStatus,
    CartView,
    RemoveItem,
    SetQuantity,
    cart_workflow_id,
)
from cart.workflows import CartWorkflow
from commerce.temporal import get_client

logger = logging.getLogger(__name__)

UNAVAILABLE = "The cart is not available just now; please try again in a moment."
# The cart's worker did not answer in time: Temporal keeps the change and the worker applies it when
# it is back. The form's nonce is the update id, so sending it again applies it once.
QUEUED = ("The cart service is not answering just now, so this change is not confirmed yet. It is queued "
          "and will apply when the service is back; sending this form again will not apply it twice.")
# Temporal itself could not be reached (or failed): the change may or may not have arrived.
NOT_CONFIRMED = ("The cart service cannot be reached just now, so this change could not be confirmed. "
                 "Please try again in a moment; sending this form again will not apply it twice.")
CANNOT_SHOW = "Your cart cannot be shown right now; please try again in a moment. Nothing in it is lost."


class CartRefusal(Exception):
    """The cart said no (out of stock, unknown coupon, ...): `str()` is the shopper's message."""

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class CartCompleted(Exception):
    """The cart's checkout placed an order and the cart ended (or is ending: it refuses changes as
    closed until its run closes): the shopper needs a new cart (its reservation ids now belong to
    the order)."""


class CartUnavailable(Exception):
    """The cart could not be reached or did not answer in time: `str()` is the shopper's message.
    The change may still apply later, so the form is offered again exactly as it was sent."""


def new_cart_id(nonce: str) -> str:
    """The id of a shopper's first cart, derived from the add form's nonce and the secret key.

    A 503 answer is not saved in the session, so a retry of that form comes without a cart id: it
    derives the same one, reaches the same cart, and the nonce (the update id) adds once.
    """
    return salted_hmac("cart.new_cart_id", nonce, algorithm="sha256").hexdigest()[:32]


def cart_settings() -> CartSettings:
    return CartSettings(
        hold_ttl_seconds=settings.CART_HOLD_TTL_SECONDS,
        idle_expiry_seconds=settings.CART_IDLE_EXPIRY_SECONDS,
        continue_as_new_after=settings.CART_CONTINUE_AS_NEW_AFTER,
        max_lines=settings.CART_MAX_LINES,
        max_units_per_sku=settings.CART_MAX_UNITS_PER_SKU,
    )


def empty_cart(cart_id: str = "") -> CartView:
    return CartView(cart_id=cart_id, status=CartStatus.ACTIVE)


def _timeout() -> timedelta:
    return timedelta(seconds=settings.CART_UPDATE_TIMEOUT_SECONDS)


async def _client(message: str):
    try:
        return await get_client()
    except RuntimeError as error:  # the connection to Temporal could not be made
        logger.warning("cart: Temporal unreachable: %s", error)
        raise CartUnavailable(message) from error


def _refusal(error: WorkflowUpdateFailedError) -> CartRefusal:
    cause = error.cause
    if isinstance(cause, ApplicationError):
        return CartRefusal(cause.message, cause.type or "")
    return CartRefusal(UNAVAILABLE, CartErrors.UNAVAILABLE)


async def _update(cart_id: str, update, arg, update_id: str | None = None) -> CartView:
    """Update the cart's workflow, starting it if it is not running (update-with-start); all of it
    within the update timeout."""
    client = await _client(NOT_CONFIRMED)
    update_id = update_id or uuid.uuid4().hex
    timeout = _timeout()
    try:
        async with asyncio.timeout(timeout.total_seconds()):
            try:
                # Most changes are to a running cart: a plain update is one round trip cheaper.
                return await client.get_workflow_handle(cart_workflow_id(cart_id)).execute_update(
                    update, arg, id=update_id, result_type=CartView, rpc_timeout=timeout)
            except RPCError as error:
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise
            await _refuse_a_completed_cart(client, cart_id, timeout)
            start = WithStartWorkflowOperation(
                CartWorkflow.run,
                CartInput(cart_id, cart_settings()),
                id=cart_workflow_id(cart_id),
                task_queue=TASK_QUEUE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
            return await client.execute_update_with_start_workflow(
                update, arg, start_workflow_operation=start, id=update_id, result_type=CartView,
                rpc_timeout=timeout,
            )
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError) and cause.type == CartErrors.CART_CLOSED:
            # Completed, expired or ended by staff, but its run not closed yet: the same as a cart that has ended.
            raise CartCompleted(cart_id) from None
        raise _refusal(error) from None
    except (RPCTimeoutOrCancelledError, TimeoutError) as error:
        logger.warning("cart %s: update %s not confirmed in time", cart_id, update_id)
        raise CartUnavailable(QUEUED) from error
    except RPCError as error:
        logger.warning("cart %s: update %s failed: %s %s", cart_id, update_id, error.status, error)
        timed_out = error.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED)
        raise CartUnavailable(QUEUED if timed_out else NOT_CONFIRMED) from error


async def _refuse_a_completed_cart(client, cart_id: str, timeout) -> None:
    """A cart that is not running may have ended by placing an order: it is never started again."""
    handle = client.get_workflow_handle(cart_workflow_id(cart_id), result_type=CartView)
    try:
        description = await handle.describe(rpc_timeout=timeout)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return  # a new cart
        raise
    if description.status == WorkflowExecutionStatus.COMPLETED:
        ended = await handle.result(rpc_timeout=timeout)
        if ended.status == CartStatus.COMPLETED:
            raise CartCompleted(cart_id)


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
    """The shopper's cart; empty when there is none (never created, expired, or its history gone)."""
    if not cart_id:
        return empty_cart()
    client = await _client(CANNOT_SHOW)
    timeout = _timeout()
    try:
        async with asyncio.timeout(timeout.total_seconds()):
            view = await client.get_workflow_handle(cart_workflow_id(cart_id)).query(
                CartWorkflow.get_cart, rpc_timeout=timeout)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return empty_cart(cart_id)
        logger.warning("cart %s: query failed: %s %s", cart_id, error.status, error)
        raise CartUnavailable(CANNOT_SHOW) from error
    except (WorkflowQueryFailedError, RPCTimeoutOrCancelledError, TimeoutError) as error:
        logger.warning("cart %s: query failed: %r", cart_id, error)
        raise CartUnavailable(CANNOT_SHOW) from error
    return view if view.status in (CartStatus.ACTIVE, CartStatus.CHECKING_OUT) else empty_cart(cart_id)
