"""OpenTelemetry tracing, off unless OTEL_TRACING is on.

When on, every web request gets a server span (the ASGI instrumentation around the whole Django
application, named after the resolved route), and every Temporal client of the process carries the
SDK's TracingInterceptor: a workflow started or updated by a request carries the request's trace in
its headers, so the workers' spans (RunWorkflow, HandleUpdate, RunActivity...) join that trace as
its children. Spans go to OTLP (the standard OTEL_EXPORTER_OTLP_* variables say where), to the
console, or nowhere (OTEL_TRACES_EXPORTER=otlp|console|none); tests add an in-memory exporter.
"""

from __future__ import annotations

import threading

from django.conf import settings
from opentelemetry import trace

# Probes and scrapes are not traced: they would drown the shop's own requests.
UNTRACED_URLS = r"/healthz$,/readyz$,/metrics$,/static/"

_lock = threading.Lock()
_provider = None


def enabled() -> bool:
    return settings.OTEL_TRACING


def configure(role: str, exporter=None):
    """Install this process's tracer provider once (role: `web` or `workers`, its default service
    name); `exporter` adds one more (tests: an in-memory one). Returns the provider, or None if off."""
    global _provider
    if not enabled():
        return None
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    with _lock:
        if _provider is None:
            # The role's name wins over OTEL_SERVICE_NAME: web and workers stay apart in the traces.
            resource = Resource.create({SERVICE_NAME: f"{settings.OTEL_SERVICE_NAME_PREFIX}-{role}"})
            provider = TracerProvider(resource=resource)
            configured = _configured_exporter()
            if configured is not None:
                provider.add_span_processor(configured)
            trace.set_tracer_provider(provider)
            _provider = provider
        if exporter is not None:
            _provider.add_span_processor(SimpleSpanProcessor(exporter))
        return _provider


def _configured_exporter():
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    kind = settings.OTEL_TRACES_EXPORTER
    if kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # Batched, sent from a thread of its own: a slow collector never delays a request.
        return BatchSpanProcessor(OTLPSpanExporter())
    if kind == "console":
        return BatchSpanProcessor(ConsoleSpanExporter())
    return None


def shutdown() -> None:
    """Send the spans still batched (a process that ends with os._exit skips atexit)."""
    if _provider is not None:
        _provider.shutdown()


def client_interceptors() -> list:
    """The interceptors of every Temporal client (web and workers) when tracing is on."""
    if not enabled():
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


def instrument(application):
    """The ASGI application wrapped in the OpenTelemetry ASGI instrumentation, when tracing is on."""
    if configure("web") is None:
        return application
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return OpenTelemetryMiddleware(
        application,
        excluded_urls=UNTRACED_URLS,
        # Named by method alone until Django resolves the route (name_request_span): a path holds ids.
        default_span_details=lambda scope: (scope.get("method", "HTTP"), {}),
        # One span per request, not one more for each chunk of the body received or sent.
        exclude_spans=["receive", "send"],
    )


def name_request_span(request, view: str) -> None:
    """Name the request's server span after its route (`GET /product/<slug:slug>/`), as the HTTP
    conventions ask; a no-op when tracing is off."""
    if _provider is None:
        return
    span = trace.get_current_span()
    if not span.is_recording():
        return
    match = getattr(request, "resolver_match", None)
    route = f"/{match.route}" if match is not None else None  # the home page's route is "": "/"
    if route:
        span.set_attribute("http.route", route)
    span.set_attribute("commerce.view", view)
    span.update_name(f"{request.method} {route or view}")
