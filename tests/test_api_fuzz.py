"""Schemathesis fuzzes every operation of the partner API, loaded from the app's own OpenAPI schema,
with a staff token holding every scope: no answer is a 500, and every answer (its status code, content
type, headers and body) is one the schema documents. Bounded: a few examples per operation."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from identity import tokens
from tests.console_helpers import PASSWORD
from tests.order_helpers import placed_order
from tests.stock_helpers import fresh_sku

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog")]

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


MAX_EXAMPLES = 8


def _operations():
    # Loaded from the app itself (its WSGI handler), as a partner's client would read it.
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    return [result.ok() for result in schema.get_all_operations()]


@pytest.fixture
def sku_for_fuzz(catalog):
    return fresh_sku(10, sku=catalog.variants[720].sku)


@pytest.fixture
def wsgi_requests():
    """As Django's test client does: a request through the WSGI handler must not close the test's
    database connections (close_old_connections on request_started/finished)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def staff_token(settings, wsgi_requests):
    settings.API_REQUESTS_PER_MINUTE = 100_000
    email = f"fuzz-{uuid.uuid4().hex[:8]}@example.com"
    user = get_user_model().objects.create_user(email, email=email, password=PASSWORD, is_staff=True,
                                                is_superuser=True)
    token_id, secret, text = tokens.new_token()
    now = datetime.now(UTC)
    tokens.write_token(token_id, str(user.pk), "fuzz", ("catalog:read", "orders:read", "orders:write"),
                       tokens.hash_secret(secret), now, now + timedelta(days=1))
    return text


def test_every_operation_answers_as_its_schema_says_and_never_500(staff_token):
    # One loop over the operations, not schemathesis' pytest plugin (its subtests do not run on pytest 9).
    operations = _operations()
    assert len(operations) == 9, [operation.label for operation in operations]
    headers = {"Authorization": f"Bearer {staff_token}"}
    failures, calls = [], {}
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            calls.setdefault(case.operation.label, []).append(response.status_code)

        try:
            fuzz()
        except Exception as error:  # noqa: BLE001 - every operation's failure is reported, not only the first
            failures.append(f"{operation.label}: {error}")
    assert not failures, "\n\n".join(failures)
    assert set(calls) == {operation.label for operation in operations}, "every operation was called"
    print({label: sorted(set(codes)) for label, codes in calls.items()})


def test_real_products_and_orders_answer_as_the_schema_says(staff_token, catalog, sku_for_fuzz):
    """Random slugs and numbers are 404s: a real product and a real order check the 200 bodies too."""
    order = placed_order(sku_for_fuzz, email=f"fuzz-{uuid.uuid4().hex[:8]}@example.com")
    by_label = {operation.label: operation for operation in _operations()}
    headers = {"Authorization": f"Bearer {staff_token}"}
    real = [("GET /api/v1/products/{slug}", {"slug": catalog.products[3].slug}),
            ("GET /api/v1/orders/{number}", {"number": order.order_number})]
    for label, parameters in real:
        response = by_label[label].Case(path_parameters=parameters).call_and_validate(headers=headers, checks=CHECKS)
        assert response.status_code == 200, (label, response.text)
    listed = by_label["GET /api/v1/products"].Case(query={"page_size": 5}).call_and_validate(
        headers=headers, checks=CHECKS)
    assert len(listed.json()["items"]) == 5
