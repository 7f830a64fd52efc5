"""The catalog's staff console: products from the index, and the reindex workflow.

`/admin/inventory/product/` lists products from the `products` index (needs `view_product`), each
linked to its storefront page, and shows the latest reindex with its progress (refreshing itself
while one runs). "Reindex now" (`reindex_catalog`) starts the `CatalogReindex` workflow, or attaches
to the one running.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse

from commerce.console import (
    ActionForm,
    ConsoleAdmin,
    first_error,
    log_action,
    new_action_id,
    page_context,
    require,
    workflow_url,
)
from inventory import catalog_console
from inventory.catalog_console import MAX_PAGE, MAX_QUERY_LENGTH, PAGE_SIZE, ProductFilters, ProductRow
from inventory.contracts import REINDEX_WORKFLOW_ID

REINDEX_PERMISSION = "inventory.reindex_catalog"
REFRESH_SECONDS = 3
IN_STOCK = {"yes": True, "no": False}


def _product_model():
    return apps.get_model("inventory", "Product")


class ProductFilterForm(forms.Form):
    q = forms.CharField(max_length=MAX_QUERY_LENGTH, required=False, strip=True, label="Search")
    collection = forms.ChoiceField(required=False)
    department = forms.ChoiceField(required=False)
    in_stock = forms.ChoiceField(required=False, label="In stock",
                                 choices=[("", "Any"), ("yes", "In stock"), ("no", "Sold out")])
    # Text first (at most four digits), so no huge number is ever parsed.
    page = forms.RegexField(regex=r"^\d{1,4}$", required=False, error_messages={"invalid": "Enter a page number."})

    def __init__(self, data, choices: catalog_console.FilterChoices) -> None:
        super().__init__(data)
        self.fields["collection"].choices = [("", "All collections"), *choices.collections]
        self.fields["department"].choices = [("", "All departments"), *((d, d) for d in choices.departments)]

    def filters(self) -> ProductFilters:
        """What was valid of the request (a bad part is dropped; the page says which)."""
        data = self.cleaned_data
        return ProductFilters(query=data.get("q") or "", collection=data.get("collection") or "",
                              department=data.get("department") or "", in_stock=IN_STOCK.get(data.get("in_stock")),
                              page=min(max(1, int(data.get("page") or 1)), MAX_PAGE))


@dataclass(frozen=True)
class ListedProduct:
    row: ProductRow
    storefront_url: str  # "" for a slug the storefront cannot route


def _storefront_url(slug: str) -> str:
    try:
        return reverse("product", args=[slug])
    except NoReverseMatch:
        return ""


def catalog_view(request):
    choices = catalog_console.filter_choices()
    form = ProductFilterForm(request.GET, choices)
    if not form.is_valid():
        messages.warning(request, first_error(form))
    filters = form.filters()
    products, products_error = None, ""
    try:
        products = catalog_console.list_products(filters)
    except catalog_console.ConsoleError as error:
        products_error = str(error)
    reindex, reindex_error = None, ""
    try:
        reindex = catalog_console.latest_reindex()
    except catalog_console.ConsoleError as error:
        reindex_error = str(error)
    running = reindex is not None and reindex.running
    page_range = []
    if products is not None and products.pages > 1:
        page_range = Paginator(range(products.total), PAGE_SIZE).get_elided_page_range(products.page)
    context = page_context(
        request, "Products", form=form, filters=filters, products=products, products_error=products_error,
        listed=[ListedProduct(row, _storefront_url(row.slug)) for row in (products.rows if products else ())],
        page_range=page_range, ellipsis=Paginator.ELLIPSIS,
        reindex=reindex, reindex_error=reindex_error,
        reindex_url=workflow_url(REINDEX_WORKFLOW_ID, reindex.run_id) if reindex else "",
        refresh_seconds=REFRESH_SECONDS if running else 0,
        can_reindex=request.user.has_perm(REINDEX_PERMISSION) and not running and not reindex_error,
        action_id=new_action_id())
    return TemplateResponse(request, "inventory/admin_catalog.html", context)


def reindex_view(request):
    require(request, REINDEX_PERMISSION)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    back = redirect("admin:inventory_product_changelist")
    form = ActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return back
    try:
        start = catalog_console.start_reindex(form.cleaned_data["action_id"], request.user.get_username())
    except catalog_console.ConsoleError as error:
        messages.error(request, f"{error} No reindex was started.")
        return back
    if start.started:
        log_action(request, _product_model(), REINDEX_WORKFLOW_ID, "Catalog search index",
                   f"Started a reindex of the catalog (run {start.run_id}).")
        messages.success(request, "Reindex started: the storefront keeps searching the current index until the"
                                  " new one is complete.")
    elif start.repeated:
        messages.info(request, "That reindex was already started; this page shows it.")
    else:
        messages.info(request, "A reindex is already running; this page shows its progress.")
    return back


class CatalogAdmin(ConsoleAdmin):
    def console_urls(self):
        return [("", catalog_view, "changelist"), ("reindex/", reindex_view, "reindex")]


# The model names the pages and their permissions only: the data comes from the index and the workflow.
admin.site.register(_product_model(), CatalogAdmin)
