"""Admin pages of the inventory: stock levels per SKU, and restocking."""

from asgiref.sync import async_to_sync
from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from commerce.temporal import get_client
from inventory import services
from inventory.stock import StockError


class RestockForm(forms.Form):
    sku = forms.CharField(max_length=64)
    supplier_id = forms.CharField(max_length=64)
    quantity = forms.IntegerField(min_value=-100_000, max_value=100_000,
                                  help_text="Units to add; negative to correct a count down.")


async def _restock(sku: str, supplier_id: str, quantity: int):
    return await services.restock(await get_client(), sku, supplier_id, quantity)


def stock_view(request):
    query = request.GET.get("q", "").strip()[:100]
    if request.method == "POST":
        form = RestockForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                row = async_to_sync(_restock)(data["sku"], data["supplier_id"], data["quantity"])
            except StockError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, f"{row.sku} at {row.supplier_id}: {row.on_hand} on hand, "
                                          f"{row.available} available. The storefront updates shortly.")
        else:
            messages.error(request, "Restock needs a SKU, a supplier and a whole number of units.")
        return redirect(f"{request.path}?q={request.POST.get('sku', '')}")
    context = {
        **admin.site.each_context(request),
        "title": "Stock",
        "query": query,
        "rows": services.stock_levels(query) if query else [],
    }
    return TemplateResponse(request, "inventory/admin_stock.html", context)


admin.site.register_page("inventory/stock/", stock_view, "inventory-stock", "Stock levels and restocking")
