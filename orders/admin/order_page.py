"""The order page of the staff console: one order as its workflow sees it now (the live `get_order`
query, through orders.staff), or as it was kept once its workflow ended, with the staff actions allowed
now that the user has the permission for.

Every action is a POST to `<number>/act/<action>/`: its permission checked first (a forged POST is a
403), its form validated, then one call of orders.staff (or fulfillment.services for a manual step)
with the form's action id as the update id (sent twice, it applies once) and, for actions that depend on
the order's state, the version the page showed (an order that changed meanwhile refuses it). The
outcome is an admin message; a success is recorded in Django's admin log; then back to the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from commerce.console import (
    first_confirmation,
    first_error,
    log_action,
    new_action_id,
    page_context,
    require,
    workflow_url,
)
from commerce.money import format_cents
from fulfillment import services as fulfillment
from fulfillment.contracts import FulfillmentUpdates
from orders import forms, staff
from orders.contracts import (
    OrderDetail,
    OrderStatus,
    OrderUpdates,
    SupplierOrderStage,
    order_workflow_id,
)

TEMPLATE = "orders/admin/order.html"


@dataclass(frozen=True)
class Action:
    permission: str
    form: type
    run: Callable  # (request, detail-or-None, number, cleaned data) -> (message, applied)
    needs_detail: bool = False  # the form is bounded by the order as it is now (refund, manual steps)
    update: str = ""  # the OrderUpdates name the order must allow now ("" for manual steps)


# -- the page ---------------------------------------------------------------------------------------

def _changelist():
    return redirect(reverse("admin:orders_order_changelist"))


def order_view(request, number: str):
    try:
        detail = staff.find_order(number)
    except staff.OrderNotFound as error:
        messages.error(request, str(error))
        return _changelist()
    except staff.OrdersUnavailable as error:
        messages.error(request, f"Order {number[:40]} cannot be shown just now: {error}")
        context = page_context(request, f"Order {number[:40]}", detail=None)
        return TemplateResponse(request, TEMPLATE, context, status=503)
    return TemplateResponse(request, TEMPLATE, page_context(request, f"Order {detail.order.order_number}",
                                                            **_context(request, detail)))


def _can(request, detail: OrderDetail, update: str, permission: str) -> bool:
    """Render an action only when the order allows it now AND the user may send it."""
    return update in detail.allowed_actions and request.user.has_perm(permission)


def _context(request, detail: OrderDetail) -> dict:
    number = detail.order.order_number
    lines = detail.order.lines
    may_advance = not detail.closed and request.user.has_perm(ADVANCE)
    supplier_orders = [{
        "state": state,
        "stage_label": SupplierOrderStage.LABELS.get(state.stage, state.stage),
        "skus": [lines[i].sku for i in state.plan.line_indexes if 0 <= i < len(lines)],
        "step": _STEPS.get(state.manual_actions[0]) if may_advance and state.manual_actions else None,
        "action_id": new_action_id(),
    } for state in detail.supplier_orders]
    can = {name: _can(request, detail, action.update, action.permission)
           for name, action in ACTIONS.items() if action.update}
    return {
        "detail": detail,
        "number": number,
        "status_label": _label(detail.status),
        "lines": [(line, line.line_total_cents) for line in lines],
        "supplier_orders": supplier_orders,
        "history": [(t, _label(t.from_status) if t.from_status else "", _label(t.to_status)) for t in detail.history],
        "workflow_id": order_workflow_id(number),
        "workflow_url": workflow_url(order_workflow_id(number)),
        "changelist_url": reverse("admin:orders_order_changelist"),
        "can": can,
        "refundable_cents": staff.refundable_cents(detail),
        "refundable_skus": staff.refundable_skus(detail),
        "action_ids": {name: new_action_id() for name in ACTIONS},
        "any_action": any(can.values()) or any(row["step"] for row in supplier_orders),
    }


def _label(status: str) -> str:
    return OrderStatus.LABELS.get(status, status)


# -- the actions ------------------------------------------------------------------------------------

def action_view(request, number: str, action: str):
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404("No such action.")
    page = reverse("admin:orders_order_change", args=[number])
    if request.method != "POST":
        return redirect(page)
    require(request, spec.permission)
    detail = None
    kwargs = {}
    try:
        if spec.needs_detail:
            detail = staff.find_order(number)
            if detail.closed:
                messages.error(request, f"Order {detail.order.order_number} is closed "
                                        f"({_label(detail.status)}): nothing can change it now.")
                return redirect(page)
            if spec.form is forms.RefundForm:
                kwargs = {"refundable_cents": staff.refundable_cents(detail), "skus": staff.refundable_skus(detail)}
        form = spec.form(request.POST, **kwargs)
        if not form.is_valid():
            messages.error(request, f"Nothing was done: {first_error(form)}")
            return redirect(page)
        message, applied = spec.run(request, detail, number, form.cleaned_data)
    except staff.OrderNotFound as error:
        messages.error(request, str(error))
        return _changelist()
    except staff.ActionRefused as error:
        messages.error(request, f"Refused: {error}")
    except staff.OrdersUnavailable as error:
        messages.warning(request, f"Not confirmed: {error}")
    else:
        if applied and first_confirmation(form.cleaned_data["action_id"]):
            messages.success(request, message)
            log_action(request, apps.get_model("orders", "Order"), number, number, message)
        else:
            messages.info(request, f"Already done (the form was sent twice): {message}")
    return redirect(page)


def _actor(request) -> str:
    return request.user.get_username()


def _approve(request, detail, number, data):
    result = staff.approve(number, _actor(request), action_id=data["action_id"], expected_version=data["version"])
    return f"Approved order {number}. {result.message}", result.applied


def _cancel(request, detail, number, data):
    result = staff.cancel(number, _actor(request), data["reason"], action_id=data["action_id"],
                          expected_version=data["version"])
    return f"Cancelled order {number} ({data['reason']}). {result.message}", result.applied


def _refund(request, detail, number, data):
    result = staff.refund(number, _actor(request), data["reason"], amount_cents=data["amount"],
                          skus=tuple(data["skus"]), action_id=data["action_id"], expected_version=data["version"])
    what = f"the lines {', '.join(data['skus'])}" if data["skus"] else format_cents(data["amount"])
    return f"Refunded {what} of order {number} ({data['reason']}). {result.message}", result.applied


def _note(request, detail, number, data):
    result = staff.add_note(number, _actor(request), data["text"], action_id=data["action_id"])
    return f"Added a note to order {number}.", result.applied


def _retry(request, detail, number, data):
    result = staff.retry_payment(number, _actor(request), action_id=data["action_id"],
                                 expected_version=data["version"])
    return f"Retried the payment of order {number}. {result.message}", result.applied


def _supplier_order(detail: OrderDetail, index: int):
    for state in detail.supplier_orders:
        if state.plan.index == index:
            return state
    raise staff.ActionRefused(f"Order {detail.order.order_number} has no supplier order {index}.")


def _manual(step: str, mark: Callable, target: str):
    def run(request, detail, number, data):
        state = _supplier_order(detail, data["supplier_order"])
        extra = {}
        if step == FulfillmentUpdates.MARK_SHIPPED:
            extra = {"tracking_number": data["tracking_number"], "carrier": data["carrier"]}
        view = mark(detail.order.order_number, state.plan.index, _actor(request), action_id=data["action_id"],
                    **extra)
        label = SupplierOrderStage.LABELS.get(target, target).lower()
        message = f"Marked supplier order {view.supplier_order_id} {label}"
        if step == FulfillmentUpdates.MARK_SHIPPED:
            carrier = f" with {view.carrier}" if view.carrier else ""
            message += f" (tracking {view.tracking_number}{carrier})"
        return message + ".", True
    return run


APPROVE, CANCEL, REFUND = "orders.approve_order", "orders.cancel_order", "orders.refund_order"
NOTE, RETRY, ADVANCE = "orders.add_order_note", "orders.retry_order_payment", "orders.advance_order_fulfillment"

ACTIONS: dict[str, Action] = {
    "approve": Action(APPROVE, forms.ApproveForm, _approve, update=OrderUpdates.APPROVE),
    "cancel": Action(CANCEL, forms.CancelForm, _cancel, update=OrderUpdates.CANCEL),
    "refund": Action(REFUND, forms.RefundForm, _refund, needs_detail=True, update=OrderUpdates.REFUND),
    "note": Action(NOTE, forms.NoteForm, _note, update=OrderUpdates.ADD_NOTE),
    "retry_payment": Action(RETRY, forms.RetryPaymentForm, _retry, update=OrderUpdates.RETRY_PAYMENT),
    "mark_packed": Action(ADVANCE, forms.ManualStepForm, needs_detail=True,
                          run=_manual(FulfillmentUpdates.MARK_PACKED, fulfillment.mark_packed,
                                      SupplierOrderStage.PACKED)),
    "mark_shipped": Action(ADVANCE, forms.ShipForm, needs_detail=True,
                           run=_manual(FulfillmentUpdates.MARK_SHIPPED, fulfillment.mark_shipped,
                                       SupplierOrderStage.SHIPPED)),
    "mark_delivered": Action(ADVANCE, forms.ManualStepForm, needs_detail=True,
                             run=_manual(FulfillmentUpdates.MARK_DELIVERED, fulfillment.mark_delivered,
                                         SupplierOrderStage.DELIVERED)),
}
# The manual step each FulfillmentUpdates name is, on the page: (action, button label).
_STEPS = {FulfillmentUpdates.MARK_PACKED: ("mark_packed", "Mark packed"),
          FulfillmentUpdates.MARK_SHIPPED: ("mark_shipped", "Mark shipped"),
          FulfillmentUpdates.MARK_DELIVERED: ("mark_delivered", "Mark delivered")}


def console_urls():
    return [("<str:number>/change/", order_view, "change"),
            ("<str:number>/act/<slug:action>/", action_view, "action")]
