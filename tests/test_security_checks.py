"""What a security reviewer tries first, over every route the URL resolver knows (so a route added
later is covered without editing this file): a POST without a CSRF token, and the headers."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

pytestmark = pytest.mark.django_db

# Sample values for the path converters, so every route can be requested.
CONVERTER_SAMPLES = {"int": "1", "slug": "sample", "str": "sample", "uuid": "00000000-0000-0000-0000-000000000000",
                     "path": "sample"}
# Routes that take no cookie-authenticated POST at all: the API authenticates by bearer token (a
# browser never sends one by itself), and the probes and metrics are read-only.
NOT_CSRF_PROTECTED = ("api/v1/", "healthz", "readyz", "metrics")


def _routes(patterns=None, prefix: str = "") -> list[str]:
    """Every path-style route as a requestable path; regex routes (the admin's app index) are left to
    the admin's own tests."""
    found = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if not isinstance(entry.pattern, RoutePattern):
            continue
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found += _routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            found.append(re.sub(r"<(?:(\w+):)?\w+>", lambda m: CONVERTER_SAMPLES.get(m.group(1) or "str", "sample"),
                                route))
    return sorted(set(found))


def _form_routes() -> list[str]:
    return [route for route in _routes() if not route.startswith(NOT_CSRF_PROTECTED)]


def test_the_route_list_covers_every_storefront_form():
    routes = _form_routes()

    for path in ("cart/add/", "cart/update/", "checkout/submit/", "checkout/payment/", "accounts/login/",
                 "accounts/tokens/sample/revoke/", "orders/sample/", "admin/login/"):
        assert path in routes, path


@pytest.mark.parametrize("route", _form_routes())
def test_a_post_without_a_csrf_token_is_refused_everywhere(route):
    client = Client(enforce_csrf_checks=True)

    response = client.post(f"/{route}", {"sku": "X", "quantity": "1"})

    assert response.status_code == 403, f"/{route} answered {response.status_code} to a POST without a token"


@pytest.mark.parametrize("route", ["cart/add/", "checkout/start/", "accounts/profile/", "admin/auth/user/add/"])
def test_a_signed_in_staff_members_post_without_a_token_is_refused_too(route):
    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.create_superuser("csrf-staff", password="not-used-here-1"))

    response = client.post(f"/{route}", {"sku": "X", "quantity": "1"})

    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/", "/cart/", "/no-such-page/", "/admin/login/", "/healthz"])
def test_no_response_names_the_software_behind_it(client, path):
    response = client.get(path)

    for header in ("Server", "X-Powered-By", "X-AspNet-Version", "Via"):
        assert header not in response.headers, f"{path} sends {header}: {response.headers.get(header)}"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"]
    assert response["X-Frame-Options"] == "DENY"
