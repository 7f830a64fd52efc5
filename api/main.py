"""The partner API, version 1: the NinjaAPI, its error handlers and its URLs (mounted at /api/v1/).

Why django-ninja rather than DRF + drf-spectacular: the shop's views are async and so are its
services' Temporal and cache calls; ninja runs async operations natively (DRF's views are sync, so
every request would cross a thread), builds the OpenAPI schema from the same type hints that validate
requests (no separate serializer and schema annotations to keep in step), and serves its Swagger UI
from its own static files with no inline script, which the shop's Content-Security-Policy requires.
"""

from __future__ import annotations

import logging
from functools import wraps
from inspect import iscoroutinefunction

from django.conf import settings
from django.http import Http404, JsonResponse
from django.urls import path, re_path
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger

from api import catalog, orders
from api.auth import MISSING, BearerToken
from api.errors import ApiError

logger = logging.getLogger(__name__)

class ShopSwagger(Swagger):
    """Swagger UI from ninja's own static files (no CDN, no inline script); its stylesheet draws icons
    from data: URLs, so this one page also allows data: images."""

    def render_page(self, request, api, **kwargs):
        response = super().render_page(request, api, **kwargs)
        response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY.replace(
            "img-src 'self'", "img-src 'self' data:")
        return response


api = NinjaAPI(
    title=f"{settings.SHOP_NAME} partner API",
    version="1",
    description="Products, availability and orders of the shop. Authenticate with `Authorization: Bearer <token>` "
                "(tokens are made at /accounts/tokens/, with scopes catalog:read, orders:read and, for staff, "
                "orders:write). Errors are JSON `{\"detail\": ...}`. Each token may make API_REQUESTS_PER_MINUTE "
                "requests a minute (429 with Retry-After past it).",
    auth=BearerToken(),
    urls_namespace="api-v1",
    docs=ShopSwagger(settings={"persistAuthorization": False}),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api.add_router("", catalog.router)
api.add_router("", orders.router)


def _error(request, detail, status: int, headers: dict[str, str] | None = None, **extra):
    response = api.create_response(request, {"detail": detail, **extra}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@api.exception_handler(ApiError)
def api_error(request, error: ApiError):
    return _error(request, error.detail, error.status, error.headers)


@api.exception_handler(ValidationError)
def validation_error(request, error: ValidationError):
    """400 naming each field: `detail` says the first, `errors` lists them all."""
    errors = []
    for item in error.errors:
        location = [str(part) for part in item.get("loc", ()) if part not in ("query", "path", "body", "header")]
        # ninja nests a Query/Body schema's fields under the parameter's own name: drop it.
        if len(location) > 1 and location[0] in ("filters", "paging", "body"):
            location = location[1:]
        # A missing or non-object JSON body has no field of its own: it is named "body".
        whole = "body" if tuple(item.get("loc", ()))[:1] == ("body",) else "request"
        errors.append({"field": ".".join(location) or whole, "message": str(item.get("msg", "is invalid"))})
    if not errors:
        errors = [{"field": "request", "message": "is invalid"}]
    first = errors[0]
    return _error(request, f"{first['field']}: {first['message']}", 400, errors=errors)


@api.exception_handler(AuthenticationError)
def not_authenticated(request, error: AuthenticationError):
    return _error(request, MISSING, 401, {"WWW-Authenticate": 'Bearer realm="api"'})


@api.exception_handler(HttpError)
def http_error(request, error: HttpError):
    return _error(request, str(error), error.status_code)


@api.exception_handler(Exception)
def unexpected(request, error: Exception):
    """A bug, not a refusal: logged with its traceback, answered as JSON like every other error."""
    logger.exception("api: %s %s failed", request.method, request.path)
    return _error(request, "The shop could not answer this request; it has been logged.", 500)


@api.exception_handler(Http404)
def not_found(request, error: Http404):
    return _error(request, "Not found.", 404)


def _json_not_allowed(response):
    if response.status_code != 405:
        return response
    answer = JsonResponse({"detail": f"Method not allowed here; allowed: {response['Allow']}."}, status=405)
    answer["Allow"] = response["Allow"]
    return answer


def _with_json_405(view):
    """ninja answers a wrong method with a plain-text 405: the same in JSON."""
    if iscoroutinefunction(view):
        async def wrapped(request, *args, **kwargs):
            return _json_not_allowed(await view(request, *args, **kwargs))
    else:
        def wrapped(request, *args, **kwargs):
            return _json_not_allowed(view(request, *args, **kwargs))
    return wraps(view)(wrapped)


def unknown_path(request, rest: str = ""):
    """Anything else under /api/v1/: a JSON 404, never the shop's HTML page."""
    return JsonResponse({"detail": "There is no such API path; see /api/v1/docs."}, status=404)


_patterns, _app_name, _namespace = api.urls
for _pattern in _patterns:
    _pattern.callback = _with_json_405(_pattern.callback)

urlpatterns = [
    path("", (_patterns, _app_name, _namespace)),
    re_path(r"^(?P<rest>.*)$", unknown_path),
]
