"""What the staff console calls for carts: the running carts from Temporal's visibility with their live
contents, one cart, ending an abandoned cart, and the count of running carts.

Synchronous (the admin's views are); each runs its Temporal calls through `async_to_sync` on the shared
client of the running event loop, as `orders.staff` does. Errors, each with a message staff can read:

- `CartNotFound`: no cart workflow under that id;
- `EndRefused(message, error_type)`: the cart said no (in checkout, already closed, bad request);
- `PageNotValid`: a list page token that is not one the list handed out, or has expired;
- `CartsUnavailable`: Temporal or the cart's worker did not answer. For an end this means "not
  confirmed": it may still apply, and sending the same action id again applies it once.

Order of the list: the dev server's SQLite visibility refuses `ORDER BY`, and both the SQL and the
Elasticsearch visibility stores list running workflows newest start first by default, so the list asks
for no order and shows theirs.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from django.core import signing
from temporalio.client import (
    WorkflowContinuedAsNewError,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from cart.contracts import (
    CART_WORKFLOW,
    MAX_ACTOR_LENGTH,
    MAX_END_REASON_LENGTH,
    CartErrors,
    CartQueries,
    CartStatus,
    CartUpdates,
    CartView,
    EndCart,
    cart_id_of,
    cart_workflow_id,
)
from commerce.instants import parse_instant
from commerce.temporal import get_client

logger = logging.getLogger(__name__)

PAGE_SIZE = 25
RUNNING_CARTS = f"WorkflowType = '{CART_WORKFLOW}' AND ExecutionStatus = 'Running'"
LIST_TIMEOUT = timedelta(seconds=5)
# Each row's cart answers its query within this, or the row shows no contents: one slow cart never
# holds the page up for longer.
ROW_QUERY_SECONDS = 3.0
QUERY_TIMEOUT = timedelta(seconds=5)
# Ending releases the holds (an activity) inside the update.
UPDATE_TIMEOUT = timedelta(seconds=30)
RUN_CLOSE_SECONDS = 5
MAX_PAGE_TOKEN_LENGTH = 2000
_CART_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
_RUN_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_ACTION_ID = re.compile(r"[A-Za-z0-9-]{8,64}")
_TIMED_OUT = (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED)


class StaffError(Exception):
    """Base of what this module raises: `str()` is the message for staff."""


class CartNotFound(StaffError):
    pass


class EndRefused(StaffError):
    def __init__(self, message: str, error_type: str = "") -> None:
        super().__init__(message)
        self.error_type = error_type


class CartsUnavailable(StaffError):
    pass


class PageNotValid(StaffError):
    """A page token this list did not hand out (or one Temporal no longer knows)."""


@dataclass(frozen=True)
class CartRun:
    """A cart's workflow run as visibility (or its description) has it, with its live contents."""

    cart_id: str
    workflow_id: str
    run_id: str
    workflow_type: str
    started_at: datetime | None
    running: bool
    cart: CartView | None  # None: the cart did not answer its query

    @property
    def updated_at(self) -> datetime | None:
        return parse_instant(self.cart.updated_at) if self.cart else None

    @property
    def status_label(self) -> str:
        return CartStatus.LABELS.get(self.cart.status, self.cart.status) if self.cart else ""

    @property
    def can_end(self) -> bool:
        """Only a running, active cart can be ended (a checkout owns the holds while it runs)."""
        return self.running and self.cart is not None and self.cart.status == CartStatus.ACTIVE


@dataclass(frozen=True)
class CartList:
    carts: tuple[CartRun, ...]
    next_page: str  # the token of the next page; "" on the last


@dataclass(frozen=True)
class EndOutcome:
    cart: CartView
    applied: bool  # False: the cart had already been ended (this action sent again, or another's)



async def _client():
    try:
        return await get_client()
    except RuntimeError as error:  # the connection to Temporal could not be made
        logger.warning("carts: Temporal unreachable: %s", error)
        raise CartsUnavailable("The cart service (Temporal) is not answering just now.") from error


def _unavailable(error: Exception, what: str) -> CartsUnavailable:
    logger.warning("carts: %s failed: %r", what, error)
    if isinstance(error, RPCError) and error.status in _TIMED_OUT:
        return CartsUnavailable(f"The cart did not answer in time ({what}): is the cart worker "
                                "(`manage.py runworkers`) running?")
    return CartsUnavailable(f"The cart service (Temporal) did not answer ({what}); try again in a moment.")


def _valid_cart_id(cart_id: str) -> str:
    if not isinstance(cart_id, str) or not _CART_ID.fullmatch(cart_id):
        raise CartNotFound("There is no such cart.")
    return cart_id


# -- the list -------------------------------------------------------------------------------------

# Page tokens are signed: only a token this list handed out reaches Temporal (which answers a made-up
# one with a retried internal error, not a refusal).
_PAGES = signing.Signer(salt="cart.staff.page")
BAD_PAGE = "That page of the list is not valid; start again from the first page."


def _encode_token(token: bytes | None) -> str:
    return _PAGES.sign(base64.urlsafe_b64encode(token).decode("ascii")) if token else ""


def _decode_token(token: str) -> bytes | None:
    if not token:
        return None
    if len(token) > MAX_PAGE_TOKEN_LENGTH:
        raise PageNotValid(BAD_PAGE)
    try:
        return base64.urlsafe_b64decode(_PAGES.unsign(token).encode("ascii"))
    except (signing.BadSignature, binascii.Error, ValueError, UnicodeEncodeError):
        raise PageNotValid(BAD_PAGE) from None


async def _contents(client, workflow_id: str, run_id: str = "") -> CartView | None:
    """The cart's live view, or None when it does not answer in time (the page shows it without)."""
    handle = client.get_workflow_handle(workflow_id, run_id=run_id or None)
    try:
        async with asyncio.timeout(ROW_QUERY_SECONDS):
            return await handle.query(CartQueries.GET, result_type=CartView, rpc_timeout=QUERY_TIMEOUT)
    except (RPCError, WorkflowQueryFailedError, TimeoutError) as error:
        logger.info("carts: %s did not answer its query: %r", workflow_id, error)
        return None


async def _running(token: bytes | None) -> CartList:
    client = await _client()
    executions = client.list_workflows(RUNNING_CARTS, page_size=PAGE_SIZE, next_page_token=token,
                                       rpc_timeout=LIST_TIMEOUT)
    try:
        await executions.fetch_next_page()
    except RPCError as error:
        if error.status == RPCStatusCode.INVALID_ARGUMENT and token:
            raise PageNotValid("That page of the list has expired; start again from the first page.") from None
        raise _unavailable(error, "list") from error
    page = list(executions.current_page or ())[:PAGE_SIZE]
    views = await asyncio.gather(*(_contents(client, run.id, run.run_id) for run in page))
    carts = tuple(CartRun(cart_id_of(run.id), run.id, run.run_id, run.workflow_type, run.start_time,
                          running=True, cart=view) for run, view in zip(page, views, strict=True))
    return CartList(carts, _encode_token(executions.next_page_token))


def running_carts(page: str = "") -> CartList:
    """One page (PAGE_SIZE) of the running carts, with each one's live contents; `page` is the
    `next_page` of the page before. Raises PageNotValid, CartsUnavailable."""
    return async_to_sync(_running)(_decode_token(page))


async def _count() -> int:
    client = await _client()
    try:
        return (await client.count_workflows(RUNNING_CARTS, rpc_timeout=LIST_TIMEOUT)).count
    except RPCError as error:
        raise _unavailable(error, "count") from error


def running_count() -> int:
    """How many carts are running. Raises CartsUnavailable."""
    return async_to_sync(_count)()


# -- one cart -------------------------------------------------------------------------------------

async def _describe(handle, cart_id: str):
    try:
        return await handle.describe(rpc_timeout=QUERY_TIMEOUT)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise CartNotFound(f"There is no cart {cart_id}.") from None
        raise _unavailable(error, "describe") from error


async def _detail(cart_id: str) -> CartRun:
    client = await _client()
    description = await _describe(client.get_workflow_handle(cart_workflow_id(cart_id)), cart_id)
    view = await _contents(client, description.id, description.run_id)
    return CartRun(cart_id, description.id, description.run_id, description.workflow_type,
                   description.start_time, running=description.status == WorkflowExecutionStatus.RUNNING,
                   cart=view)


def cart_detail(cart_id: str) -> CartRun:
    """The cart's latest run (running or ended) with its contents as the cart answers them now.
    Raises CartNotFound, CartsUnavailable."""
    return async_to_sync(_detail)(_valid_cart_id(cart_id))


# -- ending a cart --------------------------------------------------------------------------------

async def _closed_run(handle) -> EndOutcome:
    """The run has ended: by this end (sent again) or another's, or by itself (expired, ordered)."""
    try:
        view = await handle.result(follow_runs=False, rpc_timeout=QUERY_TIMEOUT)
    except RPCError as error:
        raise _unavailable(error, "result") from error
    except WorkflowContinuedAsNewError:
        raise EndRefused("This cart has moved on to a new run since its page was shown; reload the page to "
                         "end it.", CartErrors.CART_CLOSED) from None
    except WorkflowFailureError as error:  # failed, terminated, timed out: nothing holds for it any more
        raise EndRefused(f"This cart's workflow has already closed ({error.cause or error}).",
                         CartErrors.CART_CLOSED) from None
    if view.status == CartStatus.ENDED:
        return EndOutcome(view, applied=False)
    label = CartStatus.LABELS.get(view.status, view.status)
    raise EndRefused(f"This cart is already closed ({label}).", CartErrors.CART_CLOSED)


async def _end(cart_id: str, run_id: str, request: EndCart, update_id: str) -> EndOutcome:
    client = await _client()
    # The run the page showed: a shopper's fresh cart under the same id is never ended by a re-sent form.
    handle = client.get_workflow_handle(cart_workflow_id(cart_id), run_id=run_id, result_type=CartView)
    description = await _describe(handle, cart_id)
    # Temporal answers a re-sent update from its first outcome even after the run closed, which would
    # read as ending the cart again: a closed run is answered from its result instead.
    if description.status != WorkflowExecutionStatus.RUNNING:
        return await _closed_run(handle)
    try:
        view = await handle.execute_update(CartUpdates.END, request, id=update_id, result_type=CartView,
                                           rpc_timeout=UPDATE_TIMEOUT)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError):
            raise EndRefused(cause.message, cause.type or "") from None
        raise EndRefused(str(cause or error)) from None
    except WorkflowUpdateRPCTimeoutOrCancelledError as error:
        logger.warning("carts: ending %s not confirmed in time: %s", cart_id, error)
        raise CartsUnavailable("The cart did not confirm it has ended; it may still end. Send the form again "
                               "to make sure (it applies once).") from error
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:  # the run closed meanwhile
            return await _closed_run(handle)
        raise _unavailable(error, "end") from error
    # The run finishes right after the update completes (one more workflow task): wait for that
    # briefly, so the pages staff see next no longer list the cart as running.
    with contextlib.suppress(TimeoutError, RPCError, WorkflowFailureError):
        await asyncio.wait_for(handle.result(follow_runs=False), timeout=RUN_CLOSE_SECONDS)
    return EndOutcome(view, applied=True)


def end_cart(cart_id: str, run_id: str, actor: str, reason: str, action_id: str) -> EndOutcome:
    """End the cart's run `run_id`: release its holds and close it. `action_id` is the update id, so a
    form sent twice ends the cart once (`applied` False the second time).
    Raises CartNotFound, EndRefused, CartsUnavailable."""
    cart_id = _valid_cart_id(cart_id)
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
        raise CartNotFound("That cart's run is not known; reload its page.")
    if not isinstance(action_id, str) or not _ACTION_ID.fullmatch(action_id):
        raise EndRefused("That form has expired; please reload the page.", CartErrors.INVALID_REQUEST)
    actor, reason = (actor or "").strip(), (reason or "").strip()
    if not actor or len(actor) > MAX_ACTOR_LENGTH:
        raise EndRefused("Say who is ending the cart.", CartErrors.INVALID_REQUEST)
    if not reason or len(reason) > MAX_END_REASON_LENGTH:
        raise EndRefused(f"Give a reason of at most {MAX_END_REASON_LENGTH} characters.",
                         CartErrors.INVALID_REQUEST)
    return async_to_sync(_end)(cart_id, run_id, EndCart(actor, reason), f"end-{action_id}")
