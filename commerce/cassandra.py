"""The Cassandra session shared with cqlengine, for the few places that need raw CQL
(bulk writes with prepared statements, lightweight transactions)."""

from __future__ import annotations

import logging
from functools import cache

from cassandra.cluster import Session
from cassandra.query import PreparedStatement
from django.conf import settings
from django.db import connections


def session() -> Session:
    return connections[settings.CASSANDRA_ALIAS].connection.session


def table(name: str) -> str:
    """A table name qualified with the configured keyspace."""
    return f"{settings.CASSANDRA_KEYSPACE}.{name}"


@cache
def _prepared(keyspace: str, cql: str) -> PreparedStatement:
    return session().prepare(cql)


def prepare(cql: str) -> PreparedStatement:
    """A prepared statement, prepared once per keyspace and text."""
    return _prepared(settings.CASSANDRA_KEYSPACE, cql)


def open_cassandra() -> bool:
    """Open the connection now, before the first activity or request. django-cassandra-engine opens it
    on first raw use, and a cqlengine model query that comes first fails ("setup() cqlengine"). A
    store that is down is not fatal here: the driver reconnects, and activities and pages retry."""
    try:
        session()
    except Exception as error:  # noqa: BLE001 - any failure means "not yet"; the log says which
        logging.getLogger(__name__).warning("Cassandra not reachable at start: %s", error)
        return False
    return True


def close_cassandra() -> None:
    """Shut the driver down at the end of a command, if it connected. Left to the driver's own exit
    hook, the process waits up to 5 s for the libev loop thread: scylla-driver 3.29 stops the loop's
    prepare watcher before shutting it down, so the timer of the last request stays armed."""
    wrapper = connections[settings.CASSANDRA_ALIAS]
    if not wrapper.connected:
        return
    cluster = wrapper.connection.cluster
    cluster.shutdown()
    if cluster.connection_class.__module__ != "cassandra.io.libevreactor":
        return
    from cassandra.io import libevreactor

    loop = libevreactor._global_loop
    thread = getattr(loop, "_thread", None)
    if thread is not None and thread.is_alive():
        loop._shutdown = True  # the loop disarms its timer and ends on its next turn
        loop.notify()
        thread.join(timeout=2)
