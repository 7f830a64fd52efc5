"""What the cart's views call: the cart workflow through update-with-start, and its query.

A missing or finished cart reads as an empty cart. A cart that cannot be reached, or does not
answer within settings.CART_UPDATE_TIMEOUT_SECONDS, raises CartUnavailable: never an empty cart,
never a 500.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils.crypto import salted_hmac
from temporalio.client import (
    RPCTimeoutOrCancelledError,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from cart import pointers
from cart.contracts import (
    TASK_QUEUE,
    AddItem,
    ApplyCoupon,
    CartErrors,
    CartInput,
    CartLine,
    CartSettings,
    CartStatus,
    CartUpdates,
    CartView,
    EndCart,
    MergeLines,
    MergeResult,
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


async def _update(cart_id: str, update, arg, update_id: str | None = None, result_type=CartView,
                  new_cart: bool = False):
    """Update the cart's workflow, starting it if it is not running (update-with-start); all of it
    within the update timeout. `new_cart`: the id was made for this request (`new_cart_id`), so the
    update-with-start goes first, refused if the id ever ran (an old form sent again after its cart
    ended), which is then settled as for any cart."""
    client = await _client(NOT_CONFIRMED)
    update_id = update_id or uuid.uuid4().hex
    timeout = _timeout()
    try:
        async with asyncio.timeout(timeout.total_seconds()):
            if new_cart:
                try:
                    return await _update_with_start(client, cart_id, update, arg, update_id, result_type, timeout,
                                                    WorkflowIDReusePolicy.REJECT_DUPLICATE)
                except WorkflowAlreadyStartedError:
                    pass
            try:
                # Most changes are to a running cart: a plain update is one round trip cheaper.
                return await client.get_workflow_handle(cart_workflow_id(cart_id)).execute_update(
                    update, arg, id=update_id, result_type=result_type, rpc_timeout=timeout)
            except RPCError as error:
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise
            await _refuse_a_completed_cart(client, cart_id, timeout)
            return await _update_with_start(client, cart_id, update, arg, update_id, result_type, timeout,
                                            WorkflowIDReusePolicy.ALLOW_DUPLICATE)
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


async def _update_with_start(client, cart_id: str, update, arg, update_id: str, result_type, timeout,
                             reuse: WorkflowIDReusePolicy):
    start = WithStartWorkflowOperation(
        CartWorkflow.run,
        CartInput(cart_id, cart_settings()),
        id=cart_workflow_id(cart_id),
        task_queue=TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=reuse,
    )
    try:
        return await client.execute_update_with_start_workflow(
            update, arg, start_workflow_operation=start, id=update_id, result_type=result_type, rpc_timeout=timeout)
    except BaseException:
        _collect_start_outcome(start)
        raise


def _collect_start_outcome(start: WithStartWorkflowOperation) -> None:
    """The start operation's own outcome, read once the update-with-start failed or was cut off by the
    timeout: nobody else awaits it, and an unread failure is logged as 'Future exception was never
    retrieved'."""
    outcome = asyncio.ensure_future(start.workflow_handle())
    outcome.add_done_callback(lambda done: done.cancelled() or done.exception())


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


async def add_item(cart_id: str, sku: str, quantity: int, nonce: str, new_cart: bool = False) -> CartView:
    """Add units of a SKU; `nonce` (from the form) is the update id, so a double submit adds once.
    `new_cart`: the cart id was just made (`new_cart_id`) and its workflow is started with this add."""
    return await _update(cart_id, CartWorkflow.add_item, AddItem(sku, quantity), update_id=f"add-{nonce}",
                         new_cart=new_cart)


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


# -- carts of signed-in shoppers ------------------------------------------------------------------
# A signed-in shopper's cart is the one `carts_by_shopper` names (cart/pointers.py), read on every
# cart request of theirs. The pointer only moves by compare-and-set, so of two requests giving the
# shopper a cart at once one wins and the other uses (or merges into) the winner's.

MERGE_ACTOR = "shopper sign-in"
MERGE_REASON = "its lines moved to the shopper's cart as they signed in"
CLAIM_ATTEMPTS = 5
IN_CHECKOUT_NOT_MERGED = ("Your account's cart is in checkout, so the items you added before signing in were "
                          "not added to it; finish or cancel that checkout and add them again.")
GUEST_IN_CHECKOUT = ("You signed in while checking out: the cart you were checking out was not merged into your "
                     "account's cart; your account's cart is shown.")


@dataclass(frozen=True)
class Adoption:
    """What signing in did to the carts: the shopper's cart now ("" = none yet) and what to say."""

    cart_id: str
    messages: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def _pointer_failed(error: Exception) -> CartUnavailable:
    logger.warning("cart: carts_by_shopper unavailable: %s", error)
    return CartUnavailable(CANNOT_SHOW)


async def shopper_cart_id(shopper_id: str) -> str:
    """The signed-in shopper's cart id ("" when they have none): one partition read by key."""
    try:
        return await pointers.current(shopper_id)
    except pointers.PointerUnavailable as error:
        raise _pointer_failed(error) from error


async def claim_cart(shopper_id: str, cart_id: str, replacing: str = "") -> str:
    """Make `cart_id` the shopper's cart unless the pointer moved from `replacing` meanwhile: the
    cart the shopper has now (ours, or the one another request set first)."""
    try:
        return (await pointers.claim(shopper_id, cart_id, replacing)).cart_id
    except pointers.PointerUnavailable as error:
        raise CartUnavailable(NOT_CONFIRMED) from error


async def _live(cart_id: str) -> CartView | None:
    """The cart's view while it can still be the shopper's (active or in checkout), else None."""
    if not cart_id:
        return None
    view = await get_cart(cart_id)
    if view.status not in (CartStatus.ACTIVE, CartStatus.CHECKING_OUT) or (
            view.status == CartStatus.ACTIVE and not view.lines and not view.updated_at):
        return None  # empty_cart(): never started, expired or its history gone
    return view


async def _end_guest_cart(guest_id: str) -> tuple[CartLine, ...]:
    """End the guest cart (its holds released, so the units count as available to the shopper's
    cart) and give back its lines. The update id makes a retry end it once; a cart this ended before
    gives its lines from its run's result, so a merge cut short can be finished later. A cart that
    does not exist, or closed otherwise (expired, ordered), gives none."""
    client = await _client(NOT_CONFIRMED)
    handle = client.get_workflow_handle(cart_workflow_id(guest_id), result_type=CartView)
    timeout = _timeout()
    try:
        async with asyncio.timeout(timeout.total_seconds()):
            try:
                view = await handle.execute_update(CartUpdates.END, EndCart(MERGE_ACTOR, MERGE_REASON),
                                                   id=f"merge-end-{guest_id}", result_type=CartView,
                                                   rpc_timeout=timeout)
            except (RPCError, WorkflowUpdateFailedError) as error:
                if isinstance(error, RPCError) and error.status != RPCStatusCode.NOT_FOUND:
                    raise
                if isinstance(error, WorkflowUpdateFailedError) and not _closed(error):
                    raise
                view = await _final_view(handle, timeout)
    except WorkflowUpdateFailedError as error:
        raise _refusal(error) from None
    except (RPCTimeoutOrCancelledError, TimeoutError, RPCError) as error:
        logger.warning("cart %s: ending for a merge failed: %r", guest_id, error)
        raise CartUnavailable(NOT_CONFIRMED) from error
    if view is None or view.status != CartStatus.ENDED:
        return ()
    return view.lines


def _closed(error: WorkflowUpdateFailedError) -> bool:
    cause = error.cause
    return isinstance(cause, ApplicationError) and cause.type == CartErrors.CART_CLOSED


async def _final_view(handle, timeout) -> CartView | None:
    """The closed cart's last view (its run's result), or None when there is no such cart."""
    try:
        return await handle.result(follow_runs=False, rpc_timeout=timeout)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    except WorkflowFailureError:  # terminated or failed: nothing to bring along
        return None


async def _merge(target_id: str, guest_id: str, lines: tuple[CartLine, ...]) -> MergeResult:
    """The guest cart's lines into the target (started if it is not running), applied once."""
    return await _update(target_id, CartWorkflow.merge_lines, MergeLines(guest_id, lines),
                         update_id=f"merge-{guest_id}", result_type=MergeResult)


def _merge_messages(result: MergeResult) -> tuple[tuple[str, ...], tuple[str, ...]]:
    warnings = []
    for line in result.capped:
        if line.in_cart == 0:
            warnings.append(f"{line.label} could not be kept: {line.reason}.")
        else:
            warnings.append(f"Only {line.in_cart} of {line.label} could be kept: {line.reason}.")
    return ((result.cart.message,) if result.cart.message else ()), tuple(warnings)


def merged_cart_id(guest_id: str) -> str:
    """A fresh cart for the guest cart's lines when the shopper's cart closed under the merge."""
    return salted_hmac("cart.merged_cart_id", guest_id, algorithm="sha256").hexdigest()[:32]


async def adopt_guest_cart(shopper_id: str, guest_id: str, resume: bool = False) -> Adoption:
    """Right after sign-in: the shopper's cart S (the pointer, if still active) and this session's
    guest cart G. No S: G becomes the shopper's cart. Both: G ends (its holds released) and its
    lines merge into S, capped by stock and the cart's caps. Safe to run twice at once: the pointer
    moves by compare-and-set and the loser merges into the winner's cart; the end and the merge
    carry update ids, so each applies once. `resume`: a merge cut short before (G ended, its lines
    not yet in S) is finished from G's final lines."""
    for _ in range(CLAIM_ATTEMPTS):
        current = await shopper_cart_id(shopper_id)
        if not guest_id or current == guest_id:
            return Adoption(current)
        shopper_cart = await _live(current)
        guest_cart = await _live(guest_id)
        if guest_cart is None:
            if not resume:
                return Adoption(current)  # nothing to bring along
            lines = await _end_guest_cart(guest_id)
            if not lines:
                return Adoption(current)
            return await _merge_into(shopper_id, current if shopper_cart else "", current, guest_id, lines)
        if not guest_cart.lines and guest_cart.status == CartStatus.ACTIVE:
            return Adoption(current)
        if shopper_cart is None:
            # G becomes the shopper's cart, unless another sign-in moved the pointer first.
            if await claim_cart(shopper_id, guest_id, replacing=current) == guest_id:
                return Adoption(guest_id)
            continue
        if guest_cart.status == CartStatus.CHECKING_OUT:
            return Adoption(current, warnings=(GUEST_IN_CHECKOUT,))
        if shopper_cart.status == CartStatus.CHECKING_OUT:
            return Adoption(current, warnings=(IN_CHECKOUT_NOT_MERGED,))
        lines = await _end_guest_cart(guest_id)
        return await _merge_into(shopper_id, current, current, guest_id, lines)
    raise CartUnavailable(NOT_CONFIRMED)


async def _merge_into(shopper_id: str, target: str, pointer: str, guest_id: str,
                      lines: tuple[CartLine, ...]) -> Adoption:
    """Merge the ended guest cart's lines into `target` (the shopper's live cart); with no target, or
    when it closed under the merge (its order placed), into a fresh cart that replaces `pointer`."""
    # A refusal here (the target went into checkout meanwhile) reaches the caller, which tries again
    # later: the guest cart has ended, and its lines wait in its run's result.
    try:
        if not target:
            raise CartCompleted(pointer)
        result = await _merge(target, guest_id, lines)
    except CartCompleted:
        target = await claim_cart(shopper_id, merged_cart_id(guest_id), replacing=pointer)
        result = await _merge(target, guest_id, lines)
    messages, warnings = _merge_messages(result)
    return Adoption(target, messages, warnings)
