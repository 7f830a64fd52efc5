"""What views and admin call for fulfillment: a supplier order's state (the child workflow's query) and
staff's manual steps (its updates), returning contracts and domain exceptions.

Refusals are `FulfillmentRefusal`, a kind of `orders.staff.ActionRefused`, so staff tools handle the
order's and the supplier order's refusals alike. Each call comes in two forms: `async def a<name>` for
async callers, and the plain `<name>` for sync views and admin (it runs the async one to completion).
The update id of a manual step is the caller's `action_id` (a form's nonce) or a fresh one: the same
id sent twice applies once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta

from asgiref.sync import async_to_sync
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from commerce.temporal import get_client
from fulfillment.contracts import (
    FulfillmentQueries,
    FulfillmentUpdates,
    ManualStepRequest,
    SupplierOrderView,
    supplier_order_workflow_id,
)
from orders.contracts import MAX_ACTOR_LENGTH, MAX_TRACKING_LENGTH, SupplierOrderStage
from orders.numbers import is_order_number
from orders.staff import ActionRefused, OrdersUnavailable

logger = logging.getLogger(__name__)

# mark_shipped asks the order and commits the stock inside the update: a few seconds at most.
UPDATE_TIMEOUT = timedelta(seconds=30)
QUERY_TIMEOUT = timedelta(seconds=10)
# Right after an order is placed its fulfillment may not have started yet: wait this long for it.
START_WAIT_SECONDS = 10.0
MAX_SUPPLIER_ORDERS = 1_000
MAX_ACTION_ID_LENGTH = 200

NOT_FOUND = "SupplierOrderNotFound"
ENDED = "SupplierOrderEnded"


class FulfillmentRefusal(ActionRefused):
    """The supplier order said no: `str()` is the workflow's message, for staff; `error_type` its
    FulfillmentErrors type. One of the staff actions' refusals (orders.staff.ActionRefused)."""

    def __init__(self, message: str, error_type: str = "") -> None:
        super().__init__(message, error_type)
        self.message = message


class FulfillmentUnavailable(OrdersUnavailable):
    """Temporal or the fulfillment worker did not answer in time: the step may still apply (sending
    it again with the same action id applies it once)."""


def _workflow_id(order_number: str, index: int) -> str:
    if not is_order_number(order_number):
        raise FulfillmentRefusal(f"{str(order_number)[:40]!r} is not an order number.", NOT_FOUND)
    if isinstance(index, bool) or not isinstance(index, int) or not 1 <= index <= MAX_SUPPLIER_ORDERS:
        raise FulfillmentRefusal(f"A supplier order is numbered 1 to {MAX_SUPPLIER_ORDERS}.", NOT_FOUND)
    return supplier_order_workflow_id(order_number, index)


async def _client():
    try:
        return await get_client()
    except RuntimeError as error:  # the connection to Temporal could not be made
        logger.warning("fulfillment: Temporal unreachable: %s", error)
        raise FulfillmentUnavailable("Fulfillment is not answering just now.") from error


async def _query(workflow_id: str) -> SupplierOrderView | None:
    client = await _client()
    try:
        return await client.get_workflow_handle(workflow_id).query(
            FulfillmentQueries.GET, result_type=SupplierOrderView, rpc_timeout=QUERY_TIMEOUT)
    except WorkflowQueryFailedError:
        return None
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise FulfillmentUnavailable("Fulfillment is not answering just now.") from error


async def asupplier_order(order_number: str, index: int) -> SupplierOrderView | None:
    """The supplier order's state as its workflow holds it (also after it ended), or None."""
    try:
        workflow_id = _workflow_id(order_number, index)
    except FulfillmentRefusal:
        return None
    return await _query(workflow_id)


async def _status(workflow_id: str) -> WorkflowExecutionStatus | None:
    """The workflow's status, None when there is no such workflow (yet)."""
    client = await _client()
    try:
        description = await client.get_workflow_handle(workflow_id).describe(rpc_timeout=QUERY_TIMEOUT)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise FulfillmentUnavailable("Fulfillment is not answering just now.") from error
    return description.status


async def _not_running(workflow_id: str, what: str) -> FulfillmentRefusal:
    """Why a step cannot be applied to a supplier order whose workflow has ended."""
    view = await _query(workflow_id)
    if view is not None:
        label = SupplierOrderStage.LABELS.get(view.stage, view.stage).lower()
        return FulfillmentRefusal(f"Supplier order {view.supplier_order_id} is no longer being fulfilled (it is "
                                  f"{label}): it cannot be marked {what}.", ENDED)
    return FulfillmentRefusal(f"Supplier order {workflow_id} is no longer being fulfilled: it cannot be marked "
                              f"{what}.", ENDED)


async def _step(order_number: str, index: int, update: str, what: str, request: ManualStepRequest,
                action_id: str | None) -> SupplierOrderView:
    workflow_id = _workflow_id(order_number, index)
    if action_id is not None and (not isinstance(action_id, str) or not 1 <= len(action_id) <= MAX_ACTION_ID_LENGTH
                                  or not action_id.isprintable()):
        raise FulfillmentRefusal("That form has expired; please reload the page.", "InvalidActionId")
    update_id = action_id or uuid.uuid4().hex
    client = await _client()
    handle = client.get_workflow_handle(workflow_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_WAIT_SECONDS
    while True:
        try:
            return await handle.execute_update(update, request, id=update_id, result_type=SupplierOrderView,
                                               rpc_timeout=UPDATE_TIMEOUT)
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            if isinstance(cause, ApplicationError):
                raise FulfillmentRefusal(cause.message, cause.type or "") from None
            raise FulfillmentUnavailable("The supplier order could not be changed just now.") from error
        except WorkflowUpdateRPCTimeoutOrCancelledError as error:
            raise FulfillmentUnavailable("Fulfillment did not confirm the step in time; sending it again applies it "
                                         "once.") from error
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                logger.warning("fulfillment update %s on %s failed: %s", update, workflow_id, error)
                raise FulfillmentUnavailable("Fulfillment is not answering just now.") from error
            status = await _status(workflow_id)
            if status is not None and status != WorkflowExecutionStatus.RUNNING:
                raise await _not_running(workflow_id, what) from None
            if loop.time() >= deadline:
                raise FulfillmentRefusal(f"Order {order_number} has no supplier order {index} being fulfilled "
                                         "(yet).", NOT_FOUND) from None
            # Not started yet (the order is still planning its fulfillment), or started just now.
            await asyncio.sleep(0.25)


def _actor(actor: str) -> str:
    if not isinstance(actor, str) or not actor.strip() or len(actor) > MAX_ACTOR_LENGTH:
        raise FulfillmentRefusal(f"Say who acted (1 to {MAX_ACTOR_LENGTH} characters).", "InvalidActor")
    return actor.strip()


async def amark_packed(order_number: str, index: int, actor: str, action_id: str | None = None) -> SupplierOrderView:
    return await _step(order_number, index, FulfillmentUpdates.MARK_PACKED, "packed",
                       ManualStepRequest(_actor(actor)), action_id)


async def amark_shipped(order_number: str, index: int, actor: str, tracking_number: str, carrier: str = "",
                        action_id: str | None = None) -> SupplierOrderView:
    """The goods left: the order is asked first (refused once it was cancelled) and the stock committed.
    The tracking number is 4 to 64 letters, digits or dashes (the workflow says so when it is not)."""
    tracking = tracking_number.strip()[:MAX_TRACKING_LENGTH + 1] if isinstance(tracking_number, str) else ""
    carrier = carrier.strip()[:200] if isinstance(carrier, str) else ""
    return await _step(order_number, index, FulfillmentUpdates.MARK_SHIPPED, "shipped",
                       ManualStepRequest(_actor(actor), tracking, carrier), action_id)


async def amark_delivered(order_number: str, index: int, actor: str,
                          action_id: str | None = None) -> SupplierOrderView:
    return await _step(order_number, index, FulfillmentUpdates.MARK_DELIVERED, "delivered",
                       ManualStepRequest(_actor(actor)), action_id)


def supplier_order(order_number: str, index: int) -> SupplierOrderView | None:
    return async_to_sync(asupplier_order)(order_number, index)


def mark_packed(order_number: str, index: int, actor: str, action_id: str | None = None) -> SupplierOrderView:
    return async_to_sync(amark_packed)(order_number, index, actor, action_id)


def mark_shipped(order_number: str, index: int, actor: str, tracking_number: str, carrier: str = "",
                 action_id: str | None = None) -> SupplierOrderView:
    return async_to_sync(amark_shipped)(order_number, index, actor, tracking_number, carrier, action_id)


def mark_delivered(order_number: str, index: int, actor: str, action_id: str | None = None) -> SupplierOrderView:
    return async_to_sync(amark_delivered)(order_number, index, actor, action_id)
