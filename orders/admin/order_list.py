"""The order list of the staff console (`admin:orders_order_changelist`), read from the `orders` index
through `orders.listing`; bulk approve of the orders awaiting approval; the orders' dashboard tiles.

Looking needs `orders.view_order` (ConsoleAdmin checks it); approving needs `orders.approve_order`.
Query parameters are staff's typing: each bad one is named in a message and left out, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django import forms
from django.apps import apps
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from commerce.console import (
    ActionForm,
    Tile,
    first_confirmation,
    first_error,
    log_action,
    new_action_id,
    page_context,
    require,
)
from commerce.instants import parse_instant
from orders import listing, staff
from orders.contracts import OrderStatus
from orders.numbers import MAX_INPUT_LENGTH, normalize_order_number

VIEW_PERMISSION = "orders.view_order"
APPROVE_PERMISSION = "orders.approve_order"
PAGE_SIZE = 50
MAX_BULK = 100
APPROVED_BULK = "Approved (bulk)"
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)  # bounds, so no day overflows a datetime
SORT_LABELS = {"-placed": "newest first", "placed": "oldest first", "-total": "largest total first",
               "total": "smallest total first"}


# -- the list's query string ---------------------------------------------------------------------

def _day_field(label: str) -> forms.DateField:
    return forms.DateField(required=False, label=label, input_formats=["%Y-%m-%d"],
                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                           error_messages={"invalid": "Enter a date as YYYY-MM-DD."})


class OrderListForm(forms.Form):
    """The list's GET parameters; the supplier choices are those the index knows."""

    q = forms.CharField(required=False, max_length=listing.MAX_QUERY_LENGTH, label="Search",
                        widget=forms.TextInput(attrs={"placeholder": "Order number, email or name", "size": 32}))
    status = forms.ChoiceField(required=False, label="Status",
                               choices=[("", "Any status"), *((s, OrderStatus.LABELS[s]) for s in OrderStatus.ALL)],
                               error_messages={"invalid_choice": "There is no such status."})
    placed_from = _day_field("Placed from")
    placed_to = _day_field("Placed to")
    supplier = forms.ChoiceField(required=False, label="Supplier",
                                 error_messages={"invalid_choice": "No order has a supplier by that id."})
    needs_approval = forms.ChoiceField(required=False, label="Needs approval",
                                       choices=[("", "Any"), ("1", "Yes"), ("0", "No")],
                                       error_messages={"invalid_choice": "Choose yes or no."})
    sort = forms.ChoiceField(required=False, label="Sort", choices=list(SORT_LABELS.items()),
                             error_messages={"invalid_choice": "Sort by placed date or total."})
    page = forms.RegexField(required=False, regex=r"^0*[1-9][0-9]{0,5}$", max_length=8, label="Page",
                            error_messages={"invalid": "Pages are numbered 1, 2, 3…"})

    def __init__(self, *args, suppliers: tuple[str, ...] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supplier"].choices = [("", "Any supplier"), *((s, s) for s in suppliers)]

    def _clean_day(self, name: str) -> date | None:
        day = self.cleaned_data.get(name)
        if day and not FIRST_DAY <= day <= LAST_DAY:
            raise forms.ValidationError(f"Enter a date between {FIRST_DAY} and {LAST_DAY}.")
        return day

    def clean_placed_from(self):
        return self._clean_day("placed_from")

    def clean_placed_to(self):
        return self._clean_day("placed_to")

    def clean(self):
        data = super().clean()
        first, last = data.get("placed_from"), data.get("placed_to")
        if first and last and first > last:
            del data["placed_from"], data["placed_to"]
            raise forms.ValidationError("The “placed from” date is after the “placed to” date.")
        return data


def _valid_params(request, suppliers: tuple[str, ...]) -> dict:
    """The valid GET parameters (cleaned); a warning names each one left out."""
    form = OrderListForm(request.GET, suppliers=suppliers)
    form.is_valid()
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else "Dates"
        messages.warning(request, f"{label}: {errors[0]} It is ignored.")
    return {name: value for name, value in form.cleaned_data.items() if value not in ("", None)}


def _start_of(day: date) -> datetime:
    """Midnight at the start of `day` in the site's time zone."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _filters(params: dict) -> listing.OrderFilters:
    approval = params.get("needs_approval")
    return listing.OrderFilters(
        query=params.get("q", ""), status=params.get("status", ""),
        placed_from=_start_of(params["placed_from"]) if "placed_from" in params else None,
        placed_before=_start_of(params["placed_to"] + timedelta(days=1)) if "placed_to" in params else None,
        supplier=params.get("supplier", ""), needs_approval=None if approval is None else approval == "1")


def _query_string(params: dict, **changes) -> str:
    values = {name: value.isoformat() if isinstance(value, date) else value for name, value in params.items()}
    values.pop("page", None)
    values.update({name: value for name, value in changes.items() if value})
    return "?" + urlencode(values)


# -- the page --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    order: listing.OrderSummary
    placed: datetime | None
    url: str
    status_label: str
    selectable: bool  # offered for bulk approve



def _rows(page: listing.OrderPage, can_approve: bool) -> list[Row]:
    return [Row(order, parse_instant(order.placed_at), reverse("admin:orders_order_change", args=[order.order_number]),
                OrderStatus.LABELS.get(order.status, order.status), can_approve and order.needs_approval)
            for order in page.rows]


def _page_links(params: dict, page: listing.OrderPage) -> list[tuple[int | str, str]]:
    """(page number, its query string) around the current page; ("…", "") where pages are left out."""
    numbers = Paginator(range(page.pages), 1).get_elided_page_range(page.page, on_each_side=2, on_ends=1)
    return [(n, "" if n == Paginator.ELLIPSIS else _query_string(params, page=n)) for n in numbers]


def _list_page(request) -> tuple[dict, listing.OrderPage | None, tuple[str, ...]]:
    try:
        suppliers = listing.supplier_ids()
    except listing.OrderListUnavailable as error:
        messages.error(request, str(error))
        return {}, None, ()
    params = _valid_params(request, suppliers)
    wanted = int(params.get("page", 1))
    try:
        page = listing.search_orders(_filters(params), params.get("sort", listing.DEFAULT_SORT), wanted, PAGE_SIZE)
    except listing.OrderListUnavailable as error:
        messages.error(request, str(error))
        return params, None, suppliers
    if page.page != wanted:
        messages.warning(request, f"There is no page {wanted} of this list: showing page {page.page}.")
    params["page"] = page.page
    return params, page, suppliers


def changelist_view(request):
    if request.method == "POST":
        return _bulk_approve(request)
    params, page, suppliers = _list_page(request)
    can_approve = request.user.has_perm(APPROVE_PERMISSION)
    rows = _rows(page, can_approve) if page else []
    sort = params.get("sort", listing.DEFAULT_SORT)
    context = page_context(
        request, "Orders", page=page, rows=rows, params=params, sort=sort,
        form=OrderListForm(initial=params, suppliers=suppliers),
        placed_sort_url=_query_string(params, sort="placed" if sort == "-placed" else "-placed"),
        total_sort_url=_query_string(params, sort="total" if sort == "-total" else "-total"),
        page_links=_page_links(params, page) if page else [], sort_label=SORT_LABELS[sort],
        shown_limit=page.pages * page.page_size if page else 0,
        bulk=any(row.selectable for row in rows), action_id=new_action_id(), max_bulk=MAX_BULK,
        filtered=any(name in params for name in ("q", "status", "placed_from", "placed_to", "supplier",
                                                 "needs_approval")))
    return TemplateResponse(request, "orders/admin/changelist.html", context)


# -- bulk approve --------------------------------------------------------------------------------

class OrderNumbersField(forms.Field):
    """The order numbers ticked on the list: 1 to MAX_BULK of them, each as the shop writes it."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[str]:
        values = value if isinstance(value, list | tuple) else []
        if not values:
            raise forms.ValidationError("Tick the orders to approve first.")
        if len(values) > MAX_BULK:
            raise forms.ValidationError(f"Approve at most {MAX_BULK} orders at a time ({len(values)} were ticked).")
        numbers = []
        for text in values:
            number = normalize_order_number(text)
            if number is None:
                raise forms.ValidationError(f"{text[:MAX_INPUT_LENGTH]!r} is not an order number.")
            numbers.append(number)
        return list(dict.fromkeys(numbers))


class BulkApproveForm(ActionForm):
    orders = OrderNumbersField(label="Orders")


def _bulk_approve(request):
    require(request, APPROVE_PERMISSION)
    back = request.get_full_path()
    form = BulkApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Nothing was approved. {first_error(form)}")
        return redirect(back)
    action_id, actor = form.cleaned_data["action_id"], request.user.get_username()
    model = apps.get_model("orders", "Order")
    approved, unconfirmed, refused, repeated = [], [], [], False
    for number in form.cleaned_data["orders"]:
        try:
            # One update id per order, from the form's action id: a second submit applies nothing twice.
            result = staff.approve(number, actor, action_id=f"{action_id}-{number}")
        except staff.OrdersUnavailable as error:
            unconfirmed.append(f"{number} ({error})")
            continue
        except staff.StaffError as error:
            refused.append(f"{number} ({error})")
            continue
        approved.append(number)
        if result.applied and first_confirmation(f"{action_id}-{number}"):
            log_action(request, model, number, number, APPROVED_BULK)
        else:
            repeated = True
    _report(request, approved, unconfirmed, refused, repeated)
    return redirect(back)


def _report(request, approved: list[str], unconfirmed: list[str], refused: list[str], repeated: bool) -> None:
    """One message for the whole batch: its level is the worst outcome in it."""
    parts = []
    if approved:
        parts.append(f"Approved {len(approved)} order{'s' if len(approved) != 1 else ''}: {', '.join(approved)}."
                     + (" (This form had been sent before: each order was approved once.)" if repeated else ""))
    if unconfirmed:
        parts.append("Not confirmed, may still apply (send the form again): " + "; ".join(unconfirmed) + ".")
    if refused:
        parts.append("Not approved: " + "; ".join(refused))
    text = " ".join(parts)
    if not (unconfirmed or refused):
        messages.success(request, text)
    elif approved or (unconfirmed and not refused):
        messages.warning(request, text)
    else:
        messages.error(request, text)


# -- dashboard -----------------------------------------------------------------------------------

def dashboard_tiles(request) -> list[Tile]:
    """Orders placed today (since midnight in the site's time zone) and orders awaiting approval."""
    if not request.user.has_perm(VIEW_PERMISSION):
        return []
    today = timezone.localdate()
    try:
        counts = listing.order_counts(_start_of(today))
    except listing.OrderListUnavailable:
        counts = None
    url = reverse("admin:orders_order_changelist")
    return [
        Tile("Orders today", counts and counts.placed_since,
             url + _query_string({"placed_from": today, "placed_to": today})),
        Tile("Awaiting approval", counts and counts.awaiting_approval,
             url + _query_string({"status": OrderStatus.AWAITING_APPROVAL})),
    ]
