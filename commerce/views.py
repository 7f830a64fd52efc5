from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from commerce.health import Status, readiness, system_health

# How long a shopper (or a crawler) should wait before trying a page whose store is down.
RETRY_AFTER_SECONDS = 30


def _status_response(status: Status) -> JsonResponse:
    return JsonResponse(status.as_json(), status=200 if status.up else 503)


@never_cache
@require_safe
async def healthz(request):
    return _status_response(await system_health())


@never_cache
@require_safe
async def readyz(request):
    return _status_response(await readiness())


# What crawlers may index: the catalog. A shopper's cart, checkout, orders and account, the admin and
# the API are disallowed (the checkout's pages also say `noindex`).
ROBOTS_DISALLOWED = ("/cart/", "/checkout/", "/orders/", "/accounts/", "/admin/", "/api/")


@require_safe
def robots_txt(request):
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in ROBOTS_DISALLOWED)]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


def unavailable(request, message: str) -> HttpResponse:
    """The shop's 503 page naming what is unavailable (a store the page needs does not answer)."""
    response = render(request, "503.html", {"message": message}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # Rendered without the request: the failure may have come from a context processor or the session.
    return HttpResponseServerError(loader.get_template("500.html").render())
