"""The inventory's stock console: every SKU's stock (searchable, low stock filtered), a SKU's page
with who holds its units and what changed, restock and adjust with a reason, and a dashboard tile.

Looking needs `view_inventorystock`, restocking and adjusting `change_inventorystock`. Each change
is a command with an id (rendered into its form), applied once by the inventory domain however
often the form is submitted.
"""

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from commerce.console import (
    ActionForm,
    ConsoleAdmin,
    Tile,
    first_error,
    log_action,
    new_action_id,
    page_context,
    require,
)
from inventory import services
from inventory.contracts import MAX_REASON_LENGTH, MAX_STOCK_DELTA, StockChange

VIEW_PERMISSION = "inventory.view_inventorystock"
CHANGE_PERMISSION = "inventory.change_inventorystock"
CHANGELIST = "admin:inventory_inventorystock_changelist"
SKU_PAGE = "admin:inventory_inventorystock_change"
# The cart console's page of a cart, linked from a hold when that console is installed.
CART_PAGE = "admin:cart_cartrecord_change"


def _stock_model():
    return apps.get_model("inventory", "InventoryStock")


class _StockChangeForm(ActionForm):
    supplier_id = forms.RegexField(regex=r"^[a-z0-9][a-z0-9-]{0,63}$", label="Supplier",
                                   error_messages={"invalid": "Choose one of this SKU's suppliers."})
    reason = forms.CharField(max_length=MAX_REASON_LENGTH, strip=True, label="Reason")

    # Units are checked as text first (a sign and at most six digits), so no huge number is parsed.
    def _units(self, name: str) -> int:
        units = int(self.cleaned_data[name])
        if units == 0:
            raise forms.ValidationError("A change of zero units changes nothing.")
        if abs(units) > MAX_STOCK_DELTA:
            raise forms.ValidationError(f"At most {MAX_STOCK_DELTA:,} units at a time.")
        return units


class RestockForm(_StockChangeForm):
    """Units received: only ever adds."""

    kind, verb = "restock", "Restock"
    units = forms.RegexField(regex=r"^\+?\d{1,6}$", max_length=7, strip=True, label="Units received",
                             error_messages={"invalid": "Enter a positive whole number of units."})

    def clean_units(self) -> int:
        return self._units("units")

    def units_changed(self) -> int:
        return self.cleaned_data["units"]


class AdjustForm(_StockChangeForm):
    """A correction of the count (found, damaged, miscounted): up or down."""

    kind, verb = "adjust", "Adjustment"
    delta = forms.RegexField(regex=r"^[+-]?\d{1,6}$", max_length=7, strip=True, label="Correction",
                             error_messages={"invalid": "Enter a whole number of units, with - to count down."})

    def clean_delta(self) -> int:
        return self._units("delta")

    def units_changed(self) -> int:
        return self.cleaned_data["delta"]


FORMS = {form.kind: form for form in (RestockForm, AdjustForm)}


def _threshold() -> int:
    return settings.INVENTORY_LOW_STOCK_UNITS


def stock_list(request):
    query = request.GET.get("q", "").strip()[:100]
    low = request.GET.get("low") == "1"
    filters = {key: value for key, value in (("q", query), ("low", "1" if low else "")) if value}
    context = page_context(request, "Low stock" if low else "Stock levels", query=query, low=low,
                           threshold=_threshold(), page=None, unavailable="")
    try:
        page = services.stock_list(query, low, after=request.GET.get("after", "")[:64],
                                   before=request.GET.get("before", "")[:64])
    except services.StockUnavailable as down:
        context["unavailable"] = str(down)
        context["sku_link"] = query.upper() if services.SKU_PATTERN.match(query) else ""
    else:
        context.update(
            page=page,
            first=page.start + 1,
            last=page.start + page.skus,
            next_url=f"?{urlencode({**filters, 'after': page.next_after})}" if page.next_after else "",
            previous_url=f"?{urlencode({**filters, 'before': page.previous_before})}" if page.previous_before else "",
            first_url=f"?{urlencode(filters)}" if page.start > 0 else "",
        )
    return TemplateResponse(request, "inventory/admin_stock.html", context)


def sku_page(request, sku: str):
    if request.method == "POST":
        require(request, CHANGE_PERMISSION)
        return _change_stock(request, sku)
    try:
        stock = services.sku_stock(sku)
    except services.NotFound:
        messages.error(request, f"There is no stock of SKU “{sku[:64]}”.")
        return redirect(CHANGELIST)
    except services.StockUnavailable as down:
        messages.error(request, str(down))
        return TemplateResponse(request, "inventory/admin_stock_sku.html",
                                page_context(request, sku[:64], stock=None), status=503)
    can_change = request.user.has_perm(CHANGE_PERMISSION)
    holds = [(hold, _cart_url(hold.cart_id)) for hold in stock.holds]
    return TemplateResponse(request, "inventory/admin_stock_sku.html", page_context(
        request, f"Stock of {stock.sku}", stock=stock, holds=holds, can_change=can_change,
        threshold=_threshold(), max_delta=MAX_STOCK_DELTA, max_reason=MAX_REASON_LENGTH,
        restock_id=new_action_id(), adjust_id=new_action_id()))


def _cart_url(cart_id: str) -> str:
    """The cart's console page when there is one, so a hold links only to a route that exists."""
    if not cart_id:
        return ""
    try:
        return reverse(CART_PAGE, args=[cart_id])
    except NoReverseMatch:
        return ""


def _change_stock(request, sku: str):
    form_class = FORMS.get(request.POST.get("kind", ""))
    if form_class is None:
        messages.error(request, "Choose a restock or an adjustment.")
        return redirect(SKU_PAGE, sku=sku)
    if not services.SKU_PATTERN.match(sku):
        messages.error(request, f"There is no stock of SKU “{sku[:64]}”.")
        return redirect(CHANGELIST)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, f"{form.verb} not applied. {first_error(form)}")
        return redirect(SKU_PAGE, sku=sku)
    data, delta = form.cleaned_data, form.units_changed()
    change = StockChange(data["action_id"], sku, data["supplier_id"], delta, data["reason"],
                         actor=request.user.get_username())
    try:
        result = services.apply_stock_change(change)
    except services.StockChangeRefused as refusal:
        messages.error(request, f"{form.verb} refused: {refusal}")
    except services.StockChangePending as pending:
        messages.warning(request, str(pending))
    else:
        level = result.level
        figures = f"{level.on_hand} on hand, {level.reserved} reserved, {level.available} available"
        if result.applied:
            log_action(request, _stock_model(), sku, sku,
                       f"{form.verb} {delta:+d} at {level.supplier_id}: {data['reason']} ({level.on_hand} on hand)")
            messages.success(request, f"{form.verb} of {delta:+d} × {sku} at {level.supplier_id} applied: {figures}."
                                      " The list and the storefront show it within seconds.")
        else:
            messages.info(request, f"That {form.verb.lower()} was applied already (the form was sent twice);"
                                   f" nothing changed again: {figures}.")
    return redirect(SKU_PAGE, sku=sku)


def stock_tiles(request) -> list[Tile]:
    if not request.user.has_perm(VIEW_PERMISSION):
        return []
    return [Tile("Low stock", services.low_stock_count(), url=f"{reverse(CHANGELIST)}?low=1",
                 note=f"SKUs with {_threshold()} or fewer available")]


class StockAdmin(ConsoleAdmin):
    def console_urls(self):
        return [("", stock_list, "changelist"), ("<str:sku>/change/", sku_page, "change")]


# The model names the pages and their permissions only: the data comes from the inventory's services.
admin.site.register(_stock_model(), StockAdmin)
admin.site.register_tiles(stock_tiles)
