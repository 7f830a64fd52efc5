"""Storefront pages of the catalog: thin, they call services.

The pages are async views whose blocking store calls run in a shared thread pool
(thread_sensitive=False): the middleware chain is async, and a sync view would cost each request a
thread of its own and a hop to it and back.
"""

import uuid
from functools import wraps

from asgiref.sync import sync_to_async
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from commerce.views import unavailable
from inventory import services
from inventory.catalog import images
from inventory.contracts import SearchParams, SortOrder
from inventory.forms import search_params

IMAGE_MAX_AGE = 365 * 24 * 3600


def _in_thread(service):
    """A blocking store call, awaited without holding the event loop or the shared sync thread."""
    return sync_to_async(service, thread_sensitive=False)


def _unavailable_is_503(view):
    """A store the page needs is down: the shop's 503 page naming what, not a generic 500."""
    @wraps(view)
    async def wrapper(request, *args, **kwargs):
        try:
            return await view(request, *args, **kwargs)
        except services.Unavailable as exc:
            return unavailable(request, exc.message)
    return wrapper


async def _listing(request, template: str, params: SearchParams, **context):
    results = await _in_thread(services.search)(params, with_collection_facet="collection" not in context)
    return render(request, template, {"results": results, "sort_orders": list(SortOrder), **context})


def _home_content() -> dict:
    departments: dict[str, list] = {}
    for collection in services.list_collections():
        departments.setdefault(collection.department, []).append(collection)
    return {"departments": departments, "featured": services.featured_products()}


@require_safe
@_unavailable_is_503
async def home(request):
    return render(request, "inventory/home.html", await _in_thread(_home_content)())


@require_safe
@_unavailable_is_503
async def search(request):
    return await _listing(request, "inventory/search.html", search_params(request.GET))


@require_safe
@_unavailable_is_503
async def collection_detail(request, slug):
    try:
        collection = await _in_thread(services.get_collection)(slug)
    except services.NotFound:
        raise Http404("No such collection") from None
    return await _listing(request, "inventory/search.html", search_params(request.GET, collection=slug),
                          collection=collection)


@require_safe
@_unavailable_is_503
async def product_detail(request, slug):
    sku = request.GET.get("variant", "").strip()[:80] or None
    try:
        page = await _in_thread(services.product_page)(slug, sku)
    except services.NotFound:
        raise Http404("No such product") from None
    # A fresh nonce per rendered form: the cart uses it as the update id, so a double submit adds once.
    return render(request, "inventory/product.html", {"product": page, "nonce": uuid.uuid4().hex})


@require_safe
def product_image(request, shape, colour):
    if not images.is_valid(shape, colour):
        raise Http404("No such picture")
    response = HttpResponse(images.render(shape, colour), content_type="image/svg+xml")
    # A picture never changes for a URL: cache it for a year.
    response["Cache-Control"] = f"public, max-age={IMAGE_MAX_AGE}, immutable"
    return response
