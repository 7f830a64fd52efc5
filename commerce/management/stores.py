"""Operator commands that find a store down say so in one line, not a traceback.

Usage, in any management command that talks to Cassandra, Elasticsearch or Temporal::

    from django.core.management.base import BaseCommand

    from commerce.management.stores import needs_stores

    @needs_stores("cassandra", "elasticsearch")
    class Command(BaseCommand):
        def handle(self, *args, **options):
            ...  # use the stores as usual

What it does:

1. Before `handle`, each named store ("cassandra", "elasticsearch", "temporal") is probed with a
   plain TCP connect to its configured address (settings CASSANDRA_HOSTS/CASSANDRA_PORT,
   ELASTICSEARCH_URL, TEMPORAL_ADDRESS): quick, and without the drivers' retry logs and tracebacks.
2. While `handle` runs, a driver error that means "the store is not there" is turned into the same
   answer (see `unavailable_store`): Cassandra NoHostAvailable / OperationTimedOut, Elasticsearch
   ConnectionError / ConnectionTimeout / an HTTP 503, Temporal RPCError UNAVAILABLE /
   DEADLINE_EXCEEDED and a failed client connect. Other errors (a bad query, a missing index) are
   bugs or data problems and keep their traceback.
3. Either way the command raises `StoreUnavailable` (a `CommandError`). Run from the command line
   it prints one line on stderr and exits with status 1, e.g.

       Cassandra is not reachable at 127.0.0.1:9042; start it with `make stack` (log: .local/cassandra/logs/system.log)

   Through `call_command` the exception reaches the caller instead.
4. While the command runs, the drivers' connection-retry log records (each with a traceback) are
   dropped, so an outage reads as that one line; other driver records still pass.

`StoreUnavailable`, `probe(name)` and `unavailable_store(exc)` can be used on their own, e.g. by a
command that needs a store only for one of its options.

A command that needs no store at start but may reach one (e.g. the workers, whose activities use
Cassandra and Elasticsearch) names only what it cannot start without.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import cassandra
import cassandra.cluster
import elastic_transport
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from temporalio.service import RPCError, RPCStatusCode

from commerce import stack
from commerce.cassandra import close_cassandra
from commerce.env import REPO_ROOT

STORES = ("cassandra", "elasticsearch", "temporal")
PROBE_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Store:
    name: str  # as the local stack names it
    title: str
    host: str
    port: int

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def log_file(self) -> str:
        path = stack.service(self.name).error_log()
        try:
            return str(path.relative_to(REPO_ROOT))
        except ValueError:
            return str(path)

    def advice(self) -> str:
        """What to do about it: the local stack and its log, or (elsewhere) the service itself."""
        if self.host in ("127.0.0.1", "localhost", "::1"):
            return f"start it with `make stack` (log: {self.log_file()})"
        return "check that service and its log"


def store(name: str) -> Store:
    """A store as this process is configured to reach it."""
    if name == "cassandra":
        host = settings.CASSANDRA_HOSTS.split(",")[0].strip()
        return Store(name, "Cassandra", host, int(settings.CASSANDRA_PORT))
    if name == "elasticsearch":
        url = urlsplit(settings.ELASTICSEARCH_URL)
        default_port = 443 if url.scheme == "https" else 9200
        return Store(name, "Elasticsearch", url.hostname or "127.0.0.1", url.port or default_port)
    if name == "temporal":
        host, _, port = settings.TEMPORAL_ADDRESS.rpartition(":")
        return Store(name, "Temporal", host or "127.0.0.1", int(port))
    raise ValueError(f"unknown store {name!r}; choose from {', '.join(STORES)}")


class StoreUnavailable(CommandError):
    """A store a command needs is down: the message is one line naming it, where, and what to do."""

    def __init__(self, store: Store, reason: str = "is not reachable") -> None:
        self.store = store
        super().__init__(f"{store.title} {reason} at {store.where}; {store.advice()}", returncode=1)


def probe(name: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> None:
    """Raise StoreUnavailable unless the store accepts a TCP connection."""
    target = store(name)
    try:
        with socket.create_connection((target.host, target.port), timeout=timeout):
            return
    except OSError:
        raise StoreUnavailable(target) from None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what caused it (drivers and Django wrap each other's errors)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        # `raise ... from None` says the context is not the cause (a workflow that did not answer in
        # time is not Temporal being away): it is not followed.
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)


def _classify(exc: BaseException) -> tuple[str, str] | None:
    """(store, reason) when `exc` itself means a store is unavailable."""
    if isinstance(exc, cassandra.cluster.NoHostAvailable):
        return "cassandra", "is not reachable"
    if isinstance(exc, cassandra.OperationTimedOut):
        return "cassandra", "is not answering"
    if isinstance(exc, elastic_transport.ConnectionTimeout):
        return "elasticsearch", "is not answering"
    # Only connection failures: a SerializationError (also a TransportError) is our bug, not an outage.
    if isinstance(exc, elastic_transport.ConnectionError):
        return "elasticsearch", "is not reachable"
    if isinstance(exc, elastic_transport.ApiError) and getattr(exc.meta, "status", None) == 503:
        return "elasticsearch", "is not ready"
    if isinstance(exc, RPCError) and exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        return "temporal", "is not reachable"
    # Client.connect raises a plain RuntimeError when the server cannot be reached at all.
    if type(exc) is RuntimeError and str(exc).startswith("Failed client connect"):
        return "temporal", "is not reachable"
    return None


def unavailable_store(exc: BaseException) -> StoreUnavailable | None:
    """The StoreUnavailable that `exc` (or an error that caused it) stands for, else None."""
    for link in _chain(exc):
        if isinstance(link, StoreUnavailable):
            return link
        found = _classify(link)
        if found:
            name, reason = found
            return StoreUnavailable(store(name), reason)
    return None


class _ConnectionChatter(logging.Filter):
    """Drops the drivers' connection-retry records (each with a traceback) during an operator command.

    If the store stays away the command ends with the one line above; if it comes back nothing was
    lost. Other driver records (a bad query, a schema warning) pass.
    """

    CASSANDRA_LOGGERS = ("cassandra.cluster", "cassandra.cqlengine.connection", "cassandra.pool",
                         "cassandra.connection")
    LOGGERS = (*CASSANDRA_LOGGERS, "elastic_transport.transport", "elastic_transport.node_pool")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "elastic_transport.node_pool":
            return False  # "node has failed N times in a row" / "resurrected": connection state only
        message = record.getMessage()
        if record.name == "elastic_transport.transport":
            return not message.startswith("Retrying request after failure")
        return "connect" not in message.lower()

    @contextmanager
    def installed(self) -> Iterator[None]:
        loggers = [logging.getLogger(name) for name in self.LOGGERS]
        for logger in loggers:
            logger.addFilter(self)
        try:
            yield
        finally:
            for logger in loggers:
                logger.removeFilter(self)


def needs_stores(*names: str):
    """Class decorator for a BaseCommand: probe `names` first, report any store outage in one line."""
    unknown = [name for name in names if name not in STORES]
    if unknown:  # fails when the command is imported, not in front of an operator
        raise ValueError(f"unknown store(s) {', '.join(unknown)}; choose from {', '.join(STORES)}")

    def decorate(command_class: type[BaseCommand]) -> type[BaseCommand]:
        original_execute = command_class.execute
        original_run_from_argv = command_class.run_from_argv

        def execute(self, *args, **options):
            try:
                with _ConnectionChatter().installed():
                    for name in names:
                        probe(name)
                    return original_execute(self, *args, **options)
            except Exception as exc:
                unavailable = exc if isinstance(exc, StoreUnavailable) else unavailable_store(exc)
                if unavailable is None:
                    raise
                if getattr(self, "_from_command_line", False) and not options.get("traceback"):
                    self.stderr.write(str(unavailable))
                    self.stderr.flush()
                    # Not sys.exit: after a failed connection the drivers' native threads (Temporal's
                    # runtime, Cassandra's reactor) can abort interpreter teardown with a crash dump
                    # (temporalio/sdk-python#300), and there is nothing left to clean up.
                    os._exit(unavailable.returncode)
                if unavailable is exc:
                    raise
                raise unavailable from exc

        def run_from_argv(self, argv):
            self._from_command_line = True
            try:
                return original_run_from_argv(self, argv)
            finally:
                if "cassandra" in names:
                    try:
                        close_cassandra()  # else the process idles up to 5 s on its way out
                    except Exception:  # noqa: BLE001 - never hide the command's own outcome
                        logging.getLogger(__name__).exception("closing the Cassandra driver failed")

        command_class.execute = execute
        command_class.run_from_argv = run_from_argv
        command_class.stores = names
        return command_class

    return decorate
