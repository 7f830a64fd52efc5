"""The web tier's Prometheus metrics: requests counted by view, method and status, their latency, and
the requests in progress; served at /metrics.

With PROMETHEUS_MULTIPROC_DIR set (runshop sets a fresh one per run for its web processes), each
process writes its samples to files there and /metrics adds up every process's files, so a scrape
that reaches any one process sees the whole tier. Without it (tests, a single `uvicorn`), /metrics
shows this process alone.

Labels are bounded: the view is the resolved URL name (`inventory:product`), never the path; an
unresolved path is `unmatched`, a static file `static`; a method outside the usual ones is `other`.
"""

from __future__ import annotations

import atexit
import os
import re
import time
from pathlib import Path

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from commerce.observability import tracing
from commerce.stack.base import pid_alive

# The URL name of the metrics page itself: its scrapes are not counted as shop traffic.
METRICS_VIEW = "metrics"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "commerce_http_requests", "HTTP requests answered, by view, method and status code.",
    ["view", "method", "status"],
)
LATENCY = Histogram(
    "commerce_http_request_duration_seconds", "Time from a request's arrival to its response, by view and method.",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0),
)
# Summed over the live processes only: the files of a dead one are dropped (see _forget_dead_processes).
IN_PROGRESS = Gauge(
    "commerce_http_requests_in_progress", "HTTP requests being answered now.", multiprocess_mode="livesum",
)


def view_label(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or match.route or "unnamed"
    if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    return "unmatched"


class RequestMetricsMiddleware:
    """First in MIDDLEWARE, so it times everything the shop does for a request. Sync and async: it
    adds no thread hop in front of async views."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        started = time.perf_counter()
        IN_PROGRESS.inc()
        try:
            response = self.get_response(request)
        finally:
            IN_PROGRESS.dec()
        self._record(request, response, started)
        return response

    async def _acall(self, request):
        started = time.perf_counter()
        IN_PROGRESS.inc()
        try:
            response = await self.get_response(request)
        finally:
            IN_PROGRESS.dec()
        self._record(request, response, started)
        return response

    @staticmethod
    def _record(request: HttpRequest, response: HttpResponse, started: float) -> None:
        view = view_label(request)
        tracing.name_request_span(request, view)
        if view == METRICS_VIEW:
            return
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(view, method, str(response.status_code)).inc()
        LATENCY.labels(view, method).observe(time.perf_counter() - started)


def multiprocess_dir() -> Path | None:
    directory = settings.PROMETHEUS_MULTIPROC_DIR
    return Path(directory) if directory else None


# The files of a gauge that sums live processes only: gauge_livesum_<pid>.db, gauge_liveall_<pid>.db...
_LIVE_GAUGE_FILE = re.compile(r"^gauge_live\w+_(\d+)\.db$")


def _forget_dead_processes(directory: Path) -> None:
    """Drop the live gauges of web processes that died without cleaning up (kill -9, a crash): uvicorn
    restarts them under a new pid, and their in-progress count must not linger in the sum."""
    for path in directory.iterdir():
        found = _LIVE_GAUGE_FILE.match(path.name)
        if found and not pid_alive(int(found.group(1))):
            multiprocess.mark_process_dead(int(found.group(1)), str(directory))


def exposition() -> bytes:
    """The text Prometheus scrapes: every web process's samples in multiprocess mode, else this one's."""
    directory = multiprocess_dir()
    if directory is None:
        return generate_latest(REGISTRY)
    _forget_dead_processes(directory)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))
    return generate_latest(registry)


async def metrics_view(request: HttpRequest) -> HttpResponse:
    # Reading the processes' files is disk I/O: off the event loop, and not on the shared sync thread.
    body = await sync_to_async(exposition, thread_sensitive=False)()
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


def _mark_this_process_dead() -> None:
    directory = multiprocess_dir()
    if directory is not None and directory.exists():
        multiprocess.mark_process_dead(os.getpid(), str(directory))


# A web process that stops cleanly takes its live gauges out of the sum itself.
atexit.register(_mark_this_process_dead)
