"""What a team running the shop watches: Prometheus metrics, OpenTelemetry traces, structured logs.

- `metrics`: the web tier's request metrics and its `/metrics` page, correct across several web
  processes (prometheus_client's multiprocess mode; runshop prepares the directory).
- `worker_metrics`: the Temporal SDK's own Prometheus exporter for the workers' process.
- `tracing`: OpenTelemetry spans for requests and, through the SDK's TracingInterceptor, for the
  workflows and activities they start (off unless OTEL_TRACING is on).
- `logs`: a JSON log format whose lines carry the workflow id of the workflow or activity they concern.
"""
