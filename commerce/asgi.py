import os

from django.core.asgi import get_asgi_application

from commerce.supervisor import die_with_parent

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings")

# A web process of `runshop` stops when runshop dies, even by kill -9, instead of serving orphaned;
# a no-op for any other server.
die_with_parent()

django_application = get_asgi_application()

# Connected before the first request: a cqlengine model query that came first on two threads at once
# could find the lazily made connection half set up ("cluster is not configured", a 500).
from commerce.cassandra import open_cassandra  # noqa: E402

open_cassandra()

# Imported once Django is set up: it reads the settings.
from commerce.observability import tracing  # noqa: E402

# With OTEL_TRACING on, each request gets a server span around everything Django does for it.
application = tracing.instrument(django_application)
