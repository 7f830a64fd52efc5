"""Stores made unreachable for this test process only: connections pointed at a closed port while the
shared servers keep running."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from cassandra.cqlengine import connection as cqlengine
from django.conf import settings
from elasticsearch import Elasticsearch
from elasticsearch.dsl.connections import connections as es_connections

from inventory import services


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def cassandra_unreachable() -> Iterator[None]:
    """Both the models (cqlengine's default connection) and raw CQL (the Django alias) reach a closed
    port until the block ends."""
    saved = dict(cqlengine._connections)
    down = cqlengine.register_connection(
        "cassandra-unreachable", hosts=["127.0.0.1"], lazy_connect=True, retry_connect=True,
        cluster_options={"port": closed_port(), "connect_timeout": 1, "protocol_version": 5},
    )
    cqlengine._connections[settings.CASSANDRA_ALIAS] = down
    cqlengine._connections[cqlengine.DEFAULT_CONNECTION] = down
    try:
        yield
    finally:
        cqlengine._connections.clear()
        cqlengine._connections.update(saved)
        if down.cluster is not None:
            down.cluster.shutdown()


@contextmanager
def elasticsearch_unreachable() -> Iterator[None]:
    """The Elasticsearch client of the documents and of `commerce.search.es()` reaches a closed port
    until the block ends; the storefront's cached collections are dropped on both sides, or a good
    read cached before would hide the outage."""
    original = es_connections.get_connection("default")
    es_connections.add_connection(
        "default", Elasticsearch(f"http://127.0.0.1:{closed_port()}", request_timeout=2, max_retries=0))
    services._collections_cache = None
    try:
        yield
    finally:
        es_connections.add_connection("default", original)
        services._collections_cache = None
