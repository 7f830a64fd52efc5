"""With OTEL_TRACING on, a web request's trace goes on into the workflow it starts: the request's server
span (the ASGI instrumentation around the shop's real ASGI application) is the ancestor of the Temporal
client span the view makes and of the workers' spans for that workflow, all under one trace id.

The spans are kept in memory (no collector, no network); the workers run in this process with a
client that carries the tracing interceptor, as runworkers builds them with tracing on.
"""

import asyncio
import secrets
import uuid
from urllib.parse import urlencode

import pytest
from django.core.asgi import get_asgi_application
from django.test import override_settings
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from commerce.observability import tracing
from commerce.temporal import connect
from commerce.workers import run_workers
from tests.stock_helpers import fresh_sku

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog")]

# What the Temporal SDK's TracingInterceptor names its spans: the client's call, then the worker's side.
CLIENT_SPANS = ("StartWorkflow:", "StartUpdateWithStartWorkflow:", "StartWorkflowUpdate:", "SignalWorkflow:",
                "SignalWithStartWorkflow:")
WORKFLOW_SPANS = ("RunWorkflow:", "HandleUpdate:", "ValidateUpdate:", "HandleSignal:")


@pytest.fixture(scope="module")
def spans():
    """Tracing on for this module, every finished span kept in memory."""
    exporter = InMemorySpanExporter()
    with override_settings(OTEL_TRACING=True, OTEL_TRACES_EXPORTER="none", CART_CREATIONS_PER_MINUTE=1000):
        tracing.configure("tests", exporter=exporter)
        yield exporter


@pytest.fixture(scope="module")
async def traced_workers(spans):
    """All six workers on a client built with tracing on (it carries the SDK's TracingInterceptor)."""
    client = await connect()
    assert client.config()["interceptors"], "a client made with tracing on has no tracing interceptor"
    stop = asyncio.Event()
    task = asyncio.create_task(run_workers(client, None, stop))
    yield
    stop.set()
    await task


async def call(application, method: str, path: str, body: bytes = b"", headers: tuple = ()) -> int:
    """One request through the ASGI application as uvicorn would make it; returns the status code."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "http",
        "method": method, "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-length", str(len(body)).encode()), *headers],
        "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000),
    }
    received = False

    async def receive():
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client stays connected; Django cancels this once it answered

    messages = []

    async def send(message):
        messages.append(message)

    await application(scope, receive, send)
    return next(message["status"] for message in messages if message["type"] == "http.response.start")


async def post_form(application, path: str, form: dict) -> int:
    csrf = secrets.token_hex(16)  # 32 characters: a CSRF secret the cookie and the header both carry
    return await call(application, "POST", path, urlencode(form).encode(), (
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"cookie", f"csrftoken={csrf}".encode()), (b"x-csrftoken", csrf.encode())))


def ancestors(span, by_id: dict) -> list:
    chain = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        chain.append(span)
    return chain


async def wait_for_workflow_spans(exporter, trace_id: int) -> list:
    """The worker's spans of the trace: they end when its workflow task completes, just after the answer."""
    for _ in range(50):
        found = [span for span in exporter.get_finished_spans()
                 if span.context.trace_id == trace_id and span.name.startswith(WORKFLOW_SPANS)]
        if found:
            return found
        await asyncio.sleep(0.1)
    return []


async def test_an_add_to_cart_request_is_the_parent_of_the_workflow_spans_it_causes(spans, traced_workers,
                                                                                  catalog):
    application = tracing.instrument(get_asgi_application())
    variant = catalog.variants[1500]
    fresh_sku(20, sku=variant.sku)

    status = await post_form(application, "/cart/add/",
                             {"sku": variant.sku, "quantity": 1, "nonce": uuid.uuid4().hex})

    assert status == 302
    requests = [span for span in spans.get_finished_spans()
                if span.kind == SpanKind.SERVER and span.name == "POST /cart/add/"]
    assert len(requests) == 1, [span.name for span in spans.get_finished_spans()]
    request = requests[0]
    assert request.attributes["http.route"] == "/cart/add/"
    trace_id = request.context.trace_id
    worker_side = await wait_for_workflow_spans(spans, trace_id)
    assert worker_side, f"no workflow span in the request's trace: {[s.name for s in spans.get_finished_spans()]}"
    in_trace = [span for span in spans.get_finished_spans() if span.context.trace_id == trace_id]
    by_id = {span.context.span_id: span for span in in_trace}
    client_side = [span for span in in_trace if span.name.startswith(CLIENT_SPANS)]
    assert client_side, [span.name for span in in_trace]
    for span in client_side + worker_side:
        assert request in ancestors(span, by_id), f"{span.name} does not descend from the request's span"
    # The worker's spans hang under the client call that carried the trace in the workflow's headers.
    assert any(set(ancestors(span, by_id)) & set(client_side) for span in worker_side)


async def test_health_probes_and_metric_scrapes_are_not_traced(spans):
    application = tracing.instrument(get_asgi_application())
    spans.clear()

    assert await call(application, "GET", "/metrics") == 200

    # Only request spans count: a workflow of an earlier test may still be ending its spans meanwhile.
    assert [span.name for span in spans.get_finished_spans() if span.kind == SpanKind.SERVER] == []
