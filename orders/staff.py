"""What staff tools call for orders (the admin, and `manage.py orders`): the order as its workflow
sees it, the order list from the `orders` index, and the staff actions, returning contracts.

Every function here is synchronous (the admin's views and the command are); each runs its Temporal
calls through `async_to_sync` on the shared client of the running event loop
(`commerce.temporal.get_client`). Errors are a small hierarchy, each with a message staff can read:

- `OrderNotFound`: no order under that number (or not an order number at all);
- `ActionRefused(message, error_type)`: the order said no (the workflow's reason and its
  `OrderErrors`/`FulfillmentErrors` type), or the request was refused here before it was sent
  (`OrderErrors.INVALID_REQUEST`), or the order's workflow has ended (`ORDER_CLOSED`), or the order
  changed since the version the action was decided on (`OrderErrors.STALE`, with its status now);
- `OrdersUnavailable`: Temporal, the OMS worker, Cassandra or Elasticsearch did not answer. For an
  action this means "not confirmed": it may still apply.

Exactly once: every action is a workflow update whose id is the action's idempotency key. Pass the
same `action_id` to send an action again (a form's nonce, a command's retry after a timeout): the
order applies it once and answers the first result again (`ActionResult.applied` is False when an
earlier send had applied it). Without an `action_id` each call is a new action.

An order whose workflow has ended is read from the last record in the workflow's history (its notes
and payments too) while Temporal keeps it, else from Cassandra; either way `closed`, with no actions.
"""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TextIO

from asgiref.sync import async_to_sync
from cassandra import DriverException
from cassandra.cluster import NoHostAvailable
from elasticsearch import ApiError, TransportError
from temporalio.client import (
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import QueryRejectCondition
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from commerce.money import MAX_CENTS
from commerce.search import es
from commerce.temporal import get_client
from fulfillment.contracts import (
    FulfillmentQueries,
    FulfillmentUpdates,
    ManualStepRequest,
    SupplierOrderView,
    supplier_order_workflow_id,
)
from orders import history, listing, projection, store
from orders.contracts import (
    MAX_ACTOR_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_REASON_LENGTH,
    ActionResult,
    FulfillmentStrategy,
    NoteRequest,
    OrderActivities,
    OrderDetail,
    OrderErrors,
    OrderQueries,
    OrderRecord,
    OrderStatus,
    OrderUpdates,
    RefundRequest,
    StaffAction,
    SupplierOrderStage,
    SupplierOrderState,
    order_workflow_id,
)
from orders.documents import OrderDocument
from orders.listing import OrderFilters, OrderListUnavailable, OrderSummary, search_orders
from orders.numbers import normalize_order_number

logger = logging.getLogger(__name__)

QUERY_TIMEOUT = timedelta(seconds=10)
# An update waits for its handler, and cancel and refund run payment activities inside it.
UPDATE_TIMEOUT = timedelta(seconds=30)
MAX_LISTED = listing.MAX_PAGE_SIZE
MAX_ACTION_ID_LENGTH = 100
MAX_SKUS = 100
MAX_SKU_LENGTH = 64
MAX_VERSION = 10**9
ORDER_CLOSED = "OrderClosed"
NOTHING_TO_ADVANCE = "NothingToAdvance"
MANUAL_CARRIER = "Heron Post"
_ACTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")

# The manual step after each stage a supplier order's child reports.
NEXT_MANUAL_STEP = {
    SupplierOrderStage.PENDING: FulfillmentUpdates.MARK_PACKED,
    SupplierOrderStage.ACCEPTED: FulfillmentUpdates.MARK_PACKED,
    SupplierOrderStage.PACKED: FulfillmentUpdates.MARK_SHIPPED,
    SupplierOrderStage.SHIPPED: FulfillmentUpdates.MARK_DELIVERED,
}
# The manual step that leads into each stage.
_STEP_INTO = {
    SupplierOrderStage.PACKED: FulfillmentUpdates.MARK_PACKED,
    SupplierOrderStage.SHIPPED: FulfillmentUpdates.MARK_SHIPPED,
    SupplierOrderStage.DELIVERED: FulfillmentUpdates.MARK_DELIVERED,
}
_DONE = (SupplierOrderStage.DELIVERED, SupplierOrderStage.CANCELLED)


class StaffError(Exception):
    """Base of what staff functions raise: `str()` is the message for staff."""


class OrderNotFound(StaffError):
    pass


class ActionRefused(StaffError):
    def __init__(self, message: str, error_type: str = "") -> None:
        super().__init__(message)
        self.error_type = error_type


class OrdersUnavailable(StaffError):
    pass


@dataclass(frozen=True)
class AdvanceStep:
    """One manual supplier order moved (or refused) by `advance`."""

    supplier_order_id: str
    action: str  # the FulfillmentUpdates name sent
    stage: str  # the supplier order's stage after it (before it, when refused)
    tracking_number: str = ""
    refused: str = ""  # the fulfillment's reason when it said no


# -- helpers ------------------------------------------------------------------------------------

def _number(text: str) -> str:
    number = normalize_order_number(text) if isinstance(text, str) else None
    if number is None:
        shown = text[:40] if isinstance(text, str) else text
        raise OrderNotFound(f"{shown!r} is not an order number (they look like HC-7K3M9Q2XTA)")
    return number


def _text(value: str, what: str, limit: int, required: bool = True) -> str:
    if not isinstance(value, str):
        raise ActionRefused(f"The {what} must be text.", OrderErrors.INVALID_REQUEST)
    value = value.strip()
    if required and not value:
        raise ActionRefused(f"The {what} is required.", OrderErrors.INVALID_REQUEST)
    if len(value) > limit:
        raise ActionRefused(f"The {what} is too long (at most {limit} characters).", OrderErrors.INVALID_REQUEST)
    return value


def _action_id(action_id: str | None) -> str:
    if action_id is None or action_id == "":
        return uuid.uuid4().hex
    if (not isinstance(action_id, str) or len(action_id) > MAX_ACTION_ID_LENGTH
            or not _ACTION_ID.fullmatch(action_id)):
        raise ActionRefused(f"An action id is 1 to {MAX_ACTION_ID_LENGTH} letters, digits and . _ : -",
                            OrderErrors.INVALID_REQUEST)
    return action_id


def _cassandra(call, *args):
    try:
        return call(*args)
    except (NoHostAvailable, DriverException) as error:
        logger.warning("orders: cassandra unavailable: %s", error)
        raise OrdersUnavailable("The order store (Cassandra) is not answering just now.") from error


async def _client():
    try:
        return await get_client()
    except RuntimeError as error:  # the connection to Temporal could not be made
        logger.warning("orders: Temporal unreachable: %s", error)
        raise OrdersUnavailable("The order service (Temporal) is not answering just now.") from error


_TIMED_OUT = (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED)


def _unavailable(error: Exception, what: str) -> OrdersUnavailable:
    logger.warning("orders: %s failed: %s", what, error)
    return OrdersUnavailable(f"The order service did not answer ({what}); try again in a moment.")


def _raise_unavailable(error: RPCError, what: str):
    """Temporal answered, but the workflow did not in time (its worker is down or busy): say so, and
    do not chain the RPC error, which would read as Temporal itself being away. Anything else (Temporal
    unreachable) keeps its cause, so an operator command names the store."""
    if error.status in _TIMED_OUT:
        logger.warning("orders: %s timed out: %s", what, error)
        raise OrdersUnavailable(f"The order's workflow did not answer in time ({what}): is the OMS worker"
                                " (`manage.py runworkers`) running?") from None
    raise _unavailable(error, what) from error


class _Closed(Exception):
    """The workflow is not running (ended, or never started): answered from Cassandra instead."""


# -- the order ----------------------------------------------------------------------------------

async def _live_detail(number: str) -> OrderDetail:
    handle = (await _client()).get_workflow_handle(order_workflow_id(number))
    try:
        return await handle.query(OrderQueries.GET, result_type=OrderDetail, rpc_timeout=QUERY_TIMEOUT,
                                  reject_condition=QueryRejectCondition.NOT_OPEN)
    except WorkflowQueryRejectedError:
        raise _Closed() from None
    except WorkflowQueryFailedError as error:
        raise _unavailable(error, "query") from error
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise _Closed() from None
        _raise_unavailable(error, "query")


def _indexed_money(number: str) -> dict:
    """What only the workflow and the index know of a closed order (its payments); {} if unknown."""
    try:
        return es().get(index=OrderDocument._index._name, id=number,
                        _source=["captured_cents", "refunded_cents"])["_source"]
    except (TransportError, ApiError) as error:  # not indexed, or Elasticsearch down: show without
        logger.info("orders: %s not read from the orders index: %s", number, error)
        return {}


async def _last_record(number: str) -> OrderDetail | None:
    """The detail the ended workflow recorded last (the input of its last `order_record`, in its
    history): the notes and payments Cassandra does not keep. None when Temporal no longer has it
    (past the namespace's retention) or does not answer: Cassandra's copy is shown then."""
    client = await _client()
    handle = client.get_workflow_handle(order_workflow_id(number))
    last = None
    try:
        async for event in handle.fetch_history_events(rpc_timeout=QUERY_TIMEOUT):
            if event.HasField("activity_task_scheduled_event_attributes"):
                scheduled = event.activity_task_scheduled_event_attributes
                if scheduled.activity_type.name == OrderActivities.RECORD:
                    last = scheduled.input
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            logger.info("orders: the history of %s not read: %s", number, error)
        return None
    if last is None or not last.payloads:
        return None
    try:
        (record,) = await client.data_converter.decode(last.payloads, [OrderRecord])
    except Exception as error:  # noqa: BLE001 - an unreadable old record: Cassandra's copy will do
        logger.warning("orders: the last record of %s not decoded: %s", number, error)
        return None
    return record.detail if isinstance(record, OrderRecord) else None


def _stored_detail(number: str) -> OrderDetail | None:
    """The order as Cassandra (and the ended workflow's history) keeps it: no action is possible."""
    stored = _cassandra(store.read_stored_order, number)
    if stored is None:
        return None
    try:
        recorded = async_to_sync(_last_record)(number)
    except OrdersUnavailable:
        recorded = None
    if recorded is not None and recorded.order.order_number == number:
        return replace(recorded, allowed_actions=(), closed=True, supplier_orders=tuple(
            replace(state, manual_actions=()) for state in recorded.supplier_orders))
    money = _indexed_money(number)
    return OrderDetail(
        order=stored.order, status=stored.status,
        supplier_orders=_cassandra(history.read_shipments, number),
        history=_cassandra(history.read_history, number),
        # What the checkout authorized (a later re-authorization is kept by the workflow only).
        authorization_key=stored.order.payment_authorization_key,
        authorized_cents=stored.order.totals.total_cents,
        captured_cents=int(money.get("captured_cents") or 0), refunded_cents=int(money.get("refunded_cents") or 0),
        allowed_actions=(), version=stored.status_version, closed=True)


def order_detail(number: str) -> OrderDetail | None:
    """The order as its workflow sees it now (with the actions allowed now); for an order whose
    workflow has ended (or is gone), what Cassandra keeps of it, with no allowed actions. None when
    there is no such order. Raises OrdersUnavailable."""
    try:
        number = _number(number)
    except OrderNotFound:
        return None
    try:
        return async_to_sync(_live_detail)(number)
    except _Closed:
        return _stored_detail(number)


def find_order(number: str) -> OrderDetail:
    """As order_detail, but raises OrderNotFound (its message for staff) for a malformed or unknown
    number, and OrdersUnavailable when a store does not answer."""
    number = _number(number)
    detail = order_detail(number)
    if detail is None:
        raise OrderNotFound(f"There is no order {number}.")
    return detail


def refundable_cents(detail: OrderDetail) -> int:
    """What a refund may return now: captured and not yet refunded."""
    return max(detail.captured_cents - detail.refunded_cents, 0)


def refundable_skus(detail: OrderDetail) -> tuple[str, ...]:
    """The SKUs whose lines can be refunded whole now: every line of it shipped, none refunded before."""
    shipped = {index for state in detail.supplier_orders
               if state.stage in (SupplierOrderStage.SHIPPED, SupplierOrderStage.DELIVERED)
               for index in state.plan.line_indexes}
    skus: list[str] = []
    for line in detail.order.lines:
        if line.sku in skus or line.sku in detail.refunded_skus:
            continue
        if all(i in shipped for i, other in enumerate(detail.order.lines) if other.sku == line.sku):
            skus.append(line.sku)
    return tuple(skus)


def list_orders(status: str | None = None, query: str | None = None, limit: int = 50) -> list[OrderSummary]:
    """Orders from the `orders` index, newest first: of one status, and/or matching `query` (an order
    number or its beginning, an email address, or words of the customer's name). At most `limit`
    (1..200). ValueError for an unknown status; OrdersUnavailable when Elasticsearch does not answer."""
    try:
        page = search_orders(OrderFilters(query=query or "", status=status or ""), page_size=limit)
    except OrderListUnavailable as error:
        raise OrdersUnavailable(str(error)) from error
    return list(page.rows)


# -- actions --------------------------------------------------------------------------------------

async def _execute(number: str, update: str, request, update_id: str) -> ActionResult:
    handle = (await _client()).get_workflow_handle(order_workflow_id(number))
    try:
        return await handle.execute_update(update, request, id=update_id, result_type=ActionResult,
                                           rpc_timeout=UPDATE_TIMEOUT)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError):
            raise ActionRefused(cause.message, cause.type or "") from None
        raise ActionRefused(str(cause or error)) from None
    except WorkflowUpdateRPCTimeoutOrCancelledError as error:
        logger.warning("orders: %s on %s not confirmed in time: %s", update, number, error)
        raise OrdersUnavailable(f"The order did not confirm the {update} in time; it may still apply. Send it again "
                                f"with action id {update_id} to make sure (it applies once).") from error
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise _Closed() from None
        _raise_unavailable(error, update)


def _closed(number: str) -> StaffError:
    stored = _cassandra(store.read_stored_order, number)
    if stored is None:
        return OrderNotFound(f"There is no order {number}.")
    label = OrderStatus.LABELS.get(stored.status, stored.status)
    return ActionRefused(f"Order {number} is closed ({label}): nothing can change it now.", ORDER_CLOSED)


def _act(number: str, update: str, request, action_id: str | None) -> ActionResult:
    number = _number(number)
    update_id = _action_id(action_id)
    try:
        return async_to_sync(_execute)(number, update, request, update_id)
    except _Closed:
        raise _closed(number) from None


def _version(expected_version: int) -> int:
    if isinstance(expected_version, bool) or not isinstance(expected_version, int) or \
            not 0 <= expected_version <= MAX_VERSION:
        raise ActionRefused("The order's version is a whole number, not negative.", OrderErrors.INVALID_REQUEST)
    return expected_version


def approve(number: str, actor: str, action_id: str | None = None, expected_version: int = 0) -> ActionResult:
    """Approve an order awaiting approval. With `expected_version` (the OrderDetail.version the
    decision was made on), refused with OrderErrors.STALE when the order has changed since."""
    request = StaffAction(_text(actor, "actor", MAX_ACTOR_LENGTH), expected_version=_version(expected_version))
    return _act(number, OrderUpdates.APPROVE, request, action_id)


def cancel(number: str, actor: str, reason: str, action_id: str | None = None, expected_version: int = 0
           ) -> ActionResult:
    """Cancel an order before any of it has shipped: voids the payment, releases the stock."""
    request = StaffAction(_text(actor, "actor", MAX_ACTOR_LENGTH), _text(reason, "reason", MAX_REASON_LENGTH),
                          expected_version=_version(expected_version))
    return _act(number, OrderUpdates.CANCEL, request, action_id)


def refund(number: str, actor: str, reason: str, amount_cents: int = 0, skus=(), action_id: str | None = None,
           expected_version: int = 0) -> ActionResult:
    """Refund a shipped order: an amount, or whole lines by SKU (their share of the total), not both."""
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or not 0 <= amount_cents <= MAX_CENTS:
        raise ActionRefused("The refund amount must be a whole number of cents, not negative.",
                            OrderErrors.INVALID_REQUEST)
    if isinstance(skus, str) or len(skus) > MAX_SKUS or any(
            not isinstance(sku, str) or not sku.strip() or len(sku) > MAX_SKU_LENGTH for sku in skus):
        raise ActionRefused(f"Name at most {MAX_SKUS} SKUs to refund.", OrderErrors.INVALID_REQUEST)
    request = RefundRequest(_text(actor, "actor", MAX_ACTOR_LENGTH), _text(reason, "reason", MAX_REASON_LENGTH),
                            amount_cents=amount_cents, skus=tuple(sku.strip() for sku in skus),
                            expected_version=_version(expected_version))
    return _act(number, OrderUpdates.REFUND, request, action_id)


def add_note(number: str, actor: str, text: str, action_id: str | None = None) -> ActionResult:
    request = NoteRequest(_text(actor, "actor", MAX_ACTOR_LENGTH), _text(text, "note", MAX_NOTE_LENGTH))
    return _act(number, OrderUpdates.ADD_NOTE, request, action_id)


def retry_payment(number: str, actor: str, action_id: str | None = None, expected_version: int = 0) -> ActionResult:
    """Re-authorize and capture again an order held for its payment."""
    request = StaffAction(_text(actor, "actor", MAX_ACTOR_LENGTH), expected_version=_version(expected_version))
    return _act(number, OrderUpdates.RETRY_PAYMENT, request, action_id)


def _tracking_number() -> str:
    return f"MAN{secrets.randbelow(10**10):010d}"


async def _advance_one(number: str, state: SupplierOrderState, actor: str, update_id: str) -> AdvanceStep | None:
    """The next manual step of one supplier order; None when it has nothing left to do."""
    client = await _client()
    handle = client.get_workflow_handle(supplier_order_workflow_id(number, state.plan.index))
    # The child is the truth of its stage: the order hears of a step only when its signal arrives.
    try:
        view = await handle.query(FulfillmentQueries.GET, result_type=SupplierOrderView, rpc_timeout=QUERY_TIMEOUT,
                                  reject_condition=QueryRejectCondition.NOT_OPEN)
    except (WorkflowQueryRejectedError, RPCError) as error:
        if isinstance(error, RPCError) and error.status != RPCStatusCode.NOT_FOUND:
            _raise_unavailable(error, "fulfillment query")
        return AdvanceStep(state.plan.supplier_order_id, "", state.stage,
                           refused="Its fulfillment is not running (not started yet, or ended).")
    except WorkflowQueryFailedError as error:
        raise _unavailable(error, "fulfillment query") from error
    action = NEXT_MANUAL_STEP.get(view.stage)
    if action is None:
        return None
    tracking = _tracking_number() if action == FulfillmentUpdates.MARK_SHIPPED else ""
    request = ManualStepRequest(actor, tracking_number=tracking, carrier=MANUAL_CARRIER if tracking else "")
    try:
        after = await handle.execute_update(action, request, id=update_id, result_type=SupplierOrderView,
                                            rpc_timeout=UPDATE_TIMEOUT)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause or error)
        return AdvanceStep(view.supplier_order_id, action, view.stage, refused=message)
    except WorkflowUpdateRPCTimeoutOrCancelledError as error:
        raise OrdersUnavailable(f"Supplier order {view.supplier_order_id} did not confirm {action} in time;"
                                " it may still apply.") from error
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return AdvanceStep(view.supplier_order_id, action, view.stage, refused="Its fulfillment has ended.")
        _raise_unavailable(error, action)
    # A retried action id answers the first send's outcome: name the step that outcome was.
    done = _STEP_INTO.get(after.stage, action)
    return AdvanceStep(after.supplier_order_id, done, after.stage, tracking_number=after.tracking_number)


async def _advance(number: str, actor: str, action_id: str) -> tuple[AdvanceStep, ...]:
    try:
        detail = await _live_detail(number)
    except _Closed:
        raise _closed(number) from None
    manual = [state for state in detail.supplier_orders
              if state.plan.strategy == FulfillmentStrategy.MANUAL and state.stage not in _DONE]
    steps = []
    for state in manual:
        step = await _advance_one(number, state, actor, f"advance-{action_id}-{state.plan.index}")
        if step is not None:
            steps.append(step)
    if not steps:
        raise ActionRefused(f"Order {number} has no manual supplier order left to advance.", NOTHING_TO_ADVANCE)
    if all(step.refused for step in steps):
        raise ActionRefused("; ".join(f"{step.supplier_order_id}: {step.refused}" for step in steps),
                            "AdvanceRefused")
    return tuple(steps)


def advance(number: str, actor: str, action_id: str | None = None) -> tuple[AdvanceStep, ...]:
    """Move every manual supplier order of the order one stage on (packed, then shipped with a
    generated tracking number "MAN" + 10 digits, then delivered). Returns a step per supplier order
    (a refused one carries the fulfillment's reason); raises ActionRefused when none could move.
    With an `action_id`, sending it again moves nothing twice."""
    number = _number(number)
    actor = _text(actor, "actor", MAX_ACTOR_LENGTH)
    return async_to_sync(_advance)(number, actor, _action_id(action_id))


# -- operators ------------------------------------------------------------------------------------

def rebuild_search(target: str, progress: TextIO):
    """Rebuild the `orders` and/or `supplier_orders` index from Cassandra (`manage.py reindex`)."""
    return projection.rebuild_orders(progress, target)
