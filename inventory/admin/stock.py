"""Admin pages of the inventory: stock levels per SKU, and stock changes with a reason.

Looking needs the `view_inventorystock` permission, changing needs `change_inventorystock`.
Every change is a command with an id (rendered into the form), applied once by the inventory
domain however often the form is submitted.
"""

from asgiref.sync import async_to_sync
from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.http import urlencode

from commerce.console import ConsoleAdmin
from inventory import services
from inventory.contracts import MAX_REASON_LENGTH, MAX_STOCK_DELTA, StockChange

VIEW_PERMISSION = "inventory.view_inventorystock"
CHANGE_PERMISSION = "inventory.change_inventorystock"


class StockChangeForm(forms.Form):
    command_id = forms.RegexField(regex=r"^[a-f0-9]{32}$", widget=forms.HiddenInput)
    sku = forms.RegexField(regex=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
    supplier_id = forms.RegexField(regex=r"^[a-z0-9][a-z0-9-]{0,63}$")
    # Checked as text first (a sign and at most six digits), so no huge number is ever parsed.
    delta = forms.RegexField(regex=r"^[+-]?\d{1,6}$", max_length=7, strip=True,
                             error_messages={"invalid": "Enter a whole number of units."},
                             help_text="Units to add; negative to correct a count down.")
    reason = forms.CharField(max_length=MAX_REASON_LENGTH, strip=True)

    def clean_delta(self) -> int:
        delta = int(self.cleaned_data["delta"])
        if delta == 0:
            raise forms.ValidationError("A change of zero units changes nothing.")
        if abs(delta) > MAX_STOCK_DELTA:
            raise forms.ValidationError(f"At most {MAX_STOCK_DELTA:,} units at a time.")
        return delta


def _first_error(form: forms.Form) -> str:
    field, errors = next(iter(form.errors.items()))
    return f"{field.replace('_', ' ').capitalize()}: {errors[0]}"


def stock_view(request):
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    can_change = request.user.has_perm(CHANGE_PERMISSION)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        return _change_stock(request)
    query = request.GET.get("q", "").strip()[:100]
    rows = services.stock_levels(query) if query else []
    context = {
        **admin.site.each_context(request),
        "title": "Stock",
        "query": query,
        "rows": rows,
        "can_change": can_change,
        "command_id": services.new_command_id(),
        "changes": services.stock_changes(rows[0].sku) if len({row.sku for row in rows}) == 1 else [],
    }
    return TemplateResponse(request, "inventory/admin_stock.html", context)


def _change_stock(request):
    form = StockChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect(f"{request.path}?{urlencode({'q': request.POST.get('sku', '')[:64]})}")
    data = form.cleaned_data
    change = StockChange(data["command_id"], data["sku"], data["supplier_id"], data["delta"], data["reason"],
                         actor=request.user.get_username())
    try:
        level = async_to_sync(services.change_stock)(change)
    except services.StockChangeRefused as refusal:
        messages.error(request, str(refusal))
    except services.StockChangePending as pending:
        messages.warning(request, str(pending))
    else:
        messages.success(request, f"{level.sku} at {level.supplier_id}: {level.on_hand} on hand, "
                                  f"{level.available} available. The storefront updates shortly.")
    return redirect(f"{request.path}?{urlencode({'q': data['sku']})}")


class StockAdmin(ConsoleAdmin):
    def console_urls(self):
        return [("", stock_view, "changelist")]


# The model names the pages and their permissions only: the data comes from the inventory's services.
admin.site.register(apps.get_model("inventory", "InventoryStock"), StockAdmin)
