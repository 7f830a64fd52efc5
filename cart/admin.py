"""The carts' staff console: the running carts (from Temporal's visibility, with their live contents),
one cart's page, and ending an abandoned cart, which releases its holds.

Seeing needs `cart.view_cartrecord`, ending `cart.end_cart`. The pages are views over `cart.staff`;
the CartRecord model only names them and carries their permissions and admin log.
"""

from __future__ import annotations

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from cart import staff
from cart.contracts import MAX_END_REASON_LENGTH
from commerce.console import (
    ActionForm,
    ConsoleAdmin,
    Tile,
    first_confirmation,
    first_error,
    log_action,
    new_action_id,
    page_context,
    require,
    workflow_url,
)

VIEW_PERMISSION = "cart.view_cartrecord"
END_PERMISSION = "cart.end_cart"
CHANGELIST = "admin:cart_cartrecord_changelist"
CHANGE = "admin:cart_cartrecord_change"


def _model():
    return apps.get_model("cart", "CartRecord")


class EndCartForm(ActionForm):
    run_id = forms.RegexField(regex=r"^[A-Za-z0-9-]{1,64}$", widget=forms.HiddenInput,
                              error_messages={"invalid": "That form has expired; please reload the page."})
    reason = forms.CharField(max_length=MAX_END_REASON_LENGTH, strip=True,
                             help_text="Why the cart is ended (kept in the admin log).")


def carts_view(request):
    page = request.GET.get("page", "")[:staff.MAX_PAGE_TOKEN_LENGTH + 1]
    try:
        listed = staff.running_carts(page)
    except (staff.PageNotValid, staff.CartsUnavailable) as error:
        messages.error(request, str(error))
        listed = None
    rows = [(run, workflow_url(run.workflow_id, run.run_id)) for run in listed.carts] if listed else []
    return TemplateResponse(request, "cart/admin/carts.html", page_context(
        request, "Running carts", listed=listed, rows=rows, later_page=bool(page),
        page_size=staff.PAGE_SIZE))


def cart_view(request, cart_id: str):
    try:
        run = staff.cart_detail(cart_id)
    except staff.CartNotFound as missing:
        messages.error(request, str(missing))
        return redirect(CHANGELIST)
    except staff.CartsUnavailable as unavailable:
        messages.error(request, str(unavailable))
        return redirect(CHANGELIST)
    can_end = run.can_end and request.user.has_perm(END_PERMISSION)
    form = EndCartForm(initial={"action_id": new_action_id(), "run_id": run.run_id}) if can_end else None
    return TemplateResponse(request, "cart/admin/cart.html", page_context(
        request, f"Cart {run.cart_id}", run=run, cart=run.cart, form=form,
        web_url=workflow_url(run.workflow_id, run.run_id),
        end_url=reverse("admin:cart_cartrecord_end", args=[run.cart_id])))


@require_POST
def end_view(request, cart_id: str):
    require(request, END_PERMISSION)
    form = EndCartForm(request.POST)
    back = redirect(CHANGE, cart_id)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return back
    data = form.cleaned_data
    try:
        outcome = staff.end_cart(cart_id, data["run_id"], request.user.get_username(), data["reason"],
                                 data["action_id"])
    except staff.CartNotFound as missing:
        messages.error(request, str(missing))
        return redirect(CHANGELIST)
    except staff.EndRefused as refused:
        messages.error(request, f"The cart was not ended: {refused}")
        return back
    except staff.CartsUnavailable as unavailable:
        messages.warning(request, str(unavailable))
        return back
    if not (outcome.applied and first_confirmation(data["action_id"])):
        messages.info(request, f"This cart had already been ended. {outcome.cart.message}".strip())
        return back
    log_action(request, _model(), cart_id, cart_id, f"Ended: {data['reason']}")
    messages.success(request, f"Cart {cart_id} ended: its holds are released and the shopper's next change "
                              "starts a fresh cart.")
    return back


class CartsAdmin(ConsoleAdmin):
    def console_urls(self):
        return [
            ("", carts_view, "changelist"),
            ("<str:cart_id>/change/", cart_view, "change"),
            ("<str:cart_id>/end/", end_view, "end"),
        ]


def cart_tiles(request) -> list[Tile]:
    """"Carts running", for staff who may see the carts; None when Temporal does not answer."""
    if not request.user.has_perm(VIEW_PERMISSION):
        return []
    try:
        count = staff.running_count()
    except staff.CartsUnavailable:
        count = None
    return [Tile("Carts running", count, url=reverse(CHANGELIST))]


# The model names the pages and their permissions only: the carts come from Temporal.
admin.site.register(_model(), CartsAdmin)
admin.site.register_tiles(cart_tiles)
