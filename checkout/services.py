"""What the checkout views call: the cart's `begin_checkout`, the checkout workflow's updates and
query, and the payment processor's tokenize (the card number never goes further than this module)."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from temporalio.client import (
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from cart.contracts import BeginCheckout, CartQueries, CartUpdates, CartView, cart_workflow_id
from checkout import payments
from checkout.contracts import (
    CheckoutQueries,
    CheckoutUpdates,
    CheckoutView,
    ShippingChoice,
    SubmitRequest,
)
from commerce.temporal import get_client
from identity.services import astore_config

logger = logging.getLogger(__name__)


class CheckoutRefusal(Exception):
    """The checkout (or the cart) said no: `str()` is the shopper's message."""

    def __init__(self, message: str, error_type: str = "") -> None:
        super().__init__(message)
        self.error_type = error_type


class CheckoutUnavailable(Exception):
    """Temporal or the checkout's worker did not answer: the change may still apply."""


class CardRejected(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _timeout() -> timedelta:
    return timedelta(seconds=settings.CHECKOUT_UPDATE_TIMEOUT_SECONDS)


async def _client():
    try:
        return await get_client()
    except RuntimeError as error:  # the connection to Temporal could not be made
        logger.warning("checkout: Temporal unreachable: %s", error)
        raise CheckoutUnavailable("The checkout is not answering just now.") from error


async def _update(workflow_id: str, update: str, arg=None, result_type=CheckoutView, update_id: str | None = None):
    client = await _client()
    handle = client.get_workflow_handle(workflow_id)
    args = [] if arg is None else [arg]
    try:
        return await handle.execute_update(update, args=args, id=update_id or uuid.uuid4().hex, result_type=result_type,
                                           rpc_timeout=_timeout())
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError):
            raise CheckoutRefusal(cause.message, cause.type or "") from None
        raise CheckoutUnavailable("The checkout could not be changed just now.") from error
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise CheckoutRefusal("This checkout has ended.", "CheckoutClosed") from None
        logger.warning("checkout update %s on %s failed: %s", update, workflow_id, error)
        raise CheckoutUnavailable("The checkout is not answering just now.") from error
    except WorkflowUpdateRPCTimeoutOrCancelledError as error:
        raise CheckoutUnavailable("The checkout is not answering just now.") from error


async def begin(cart_id: str, customer_id: str = "") -> CheckoutView:
    """Start a checkout of the cart (or find the one running): the cart holds every line again."""
    cart = await _update(cart_workflow_id(cart_id), CartUpdates.BEGIN_CHECKOUT,
                         BeginCheckout(await astore_config(), customer_id), result_type=CartView,
                         update_id=f"begin-checkout-{uuid.uuid4().hex}")
    view = await get(cart.checkout_id)
    if view is None:
        raise CheckoutUnavailable("The checkout is starting; please try again in a moment.")
    return view


async def current(cart_id: str | None) -> CheckoutView | None:
    """The checkout the cart is in, if any."""
    if not cart_id:
        return None
    client = await _client()
    try:
        cart = await client.get_workflow_handle(cart_workflow_id(cart_id)).query(
            CartQueries.GET, result_type=CartView, rpc_timeout=_timeout())
    except (RPCError, WorkflowQueryFailedError) as error:
        if isinstance(error, RPCError) and error.status != RPCStatusCode.NOT_FOUND:
            raise CheckoutUnavailable("The checkout is not answering just now.") from error
        return None
    return await get(cart.checkout_id) if cart.checkout_id else None


async def get(checkout_id: str) -> CheckoutView | None:
    client = await _client()
    try:
        return await client.get_workflow_handle(checkout_id).query(
            CheckoutQueries.GET, result_type=CheckoutView, rpc_timeout=_timeout())
    except WorkflowQueryFailedError:
        return None
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise CheckoutUnavailable("The checkout is not answering just now.") from error


async def set_shipping(checkout_id: str, choice: ShippingChoice) -> CheckoutView:
    return await _update(checkout_id, CheckoutUpdates.SET_SHIPPING, choice)


async def set_payment(checkout_id: str, number: str, exp_month: int, exp_year: int, cvc: str,
                      cardholder: str) -> CheckoutView:
    """Tokenize the card here, then hand the workflow only the token, brand and last four."""
    try:
        token = await sync_to_async(payments.tokenize, thread_sensitive=False)(
            number, exp_month, exp_year, cvc, cardholder)
    except payments.CardRejected as rejected:
        raise CardRejected(rejected.field, str(rejected)) from None
    return await _update(checkout_id, CheckoutUpdates.SET_PAYMENT, token)


async def submit(checkout_id: str, expected_total_cents: int, nonce: str) -> CheckoutView:
    """Place the order; the review form's nonce is the update id, so a double click submits once."""
    return await _update(checkout_id, CheckoutUpdates.SUBMIT, SubmitRequest(expected_total_cents),
                         update_id=f"submit-{nonce}")


async def cancel(checkout_id: str) -> CheckoutView:
    return await _update(checkout_id, CheckoutUpdates.CANCEL)
