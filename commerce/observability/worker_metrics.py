"""The workers' metrics: the Temporal SDK's own Prometheus exporter (workflow and activity task
counts and latencies, pollers, slots, sticky cache...), served by the SDK at
http://WORKER_METRICS_HOST:WORKER_METRICS_PORT/metrics from the process that runs the workers.

Its names are the SDK's: temporal_workflow_completed, temporal_workflow_task_execution_latency,
temporal_activity_execution_latency, temporal_activity_schedule_to_start_latency,
temporal_worker_task_slots_available... (durations in seconds).
"""

from __future__ import annotations

import logging

from django.conf import settings
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

logger = logging.getLogger("commerce.workers")


def metrics_address() -> str | None:
    port = settings.WORKER_METRICS_PORT
    return f"{settings.WORKER_METRICS_HOST}:{port}" if port else None


def runtime_with_metrics(address: str | None = None) -> Runtime | None:
    """A Temporal runtime that serves its metrics on `address` (default: the settings'); None when
    metrics are off, or when the port is taken: the workers then run without them, and say so."""
    address = address or metrics_address()
    if address is None:
        return None
    try:
        runtime = Runtime(telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=address, durations_as_seconds=True)))
    except ValueError as error:  # "Failed starting Prometheus exporter: Address already in use"
        logger.error("worker metrics are not served on %s: %s", address, error)
        return None
    return runtime
