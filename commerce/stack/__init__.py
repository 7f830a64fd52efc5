"""Start, check and stop the local stack (Temporal, Cassandra, Elasticsearch).

`python -m commerce.stack up|status|down [service ...]`, also `manage.py stack ...`.
One module per service (temporal.py, cassandra.py, elasticsearch.py); what they share is in base.py.
"""

from __future__ import annotations

import time

from commerce.stack.base import Out, Service, ServiceError
from commerce.stack.cassandra import Cassandra
from commerce.stack.elasticsearch import Elasticsearch
from commerce.stack.temporal import Temporal

__all__ = ["Service", "ServiceError", "all_services", "service", "up", "status", "down"]


def all_services() -> list[Service]:
    return [Temporal(), Cassandra(), Elasticsearch()]


def service(name: str) -> Service:
    """One service by name (`temporal`, `cassandra`, `elasticsearch`), configured from the environment."""
    return _select([name])[0]


def _select(names: list[str] | None) -> list[Service]:
    services = all_services()
    if not names:
        return services
    known = {service.name: service for service in services}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ServiceError(f"unknown service {', '.join(unknown)}; choose from {', '.join(known)}")
    return [known[name] for name in names]


def up(names: list[str] | None = None, out: Out = print) -> list[str]:
    """Start what is not running, reuse what is healthy, wait for all. Returns the names it started."""
    services = _select(names)
    started: list[str] = []
    began = time.monotonic()
    for service in services:
        health = service.check()
        if health.up:
            out(f"{service.name:<14} already up at {service.where()} ({health.detail})")
            continue
        if service.pid() is None:
            service.spawn(out)
            started.append(service.name)
            out(f"{service.name:<14} starting (pid {service.pid()}), log {service.log_file}")
        else:
            out(f"{service.name:<14} process {service.pid()} is starting, waiting")
    failures = []
    for service in services:
        try:
            # The deadline counts from the first spawn: the services start in parallel.
            health = service.wait_healthy(began + service.start_timeout, out)
        except ServiceError as exc:
            failures.append(str(exc))
            continue
        if service.name in started:
            out(f"{service.name:<14} up at {service.where()} in {time.monotonic() - began:.1f}s ({health.detail})")
    if failures:
        raise ServiceError("\n".join(failures))
    return started


def status(names: list[str] | None = None, out: Out = print) -> bool:
    all_up = True
    for service in _select(names):
        health = service.check()
        pid = service.pid()
        state = "up" if health.up else "down"
        all_up = all_up and health.up
        owner = f"pid {pid}" if pid else "not started by this stack"
        out(f"{service.name:<14} {state:<5} {service.where()}  {owner}  {health.detail}  log {service.log_file}")
    return all_up


def down(names: list[str] | None = None, out: Out = print) -> None:
    # Stop in reverse so clients (none here yet) go before what they use.
    for service in reversed(_select(names)):
        if service.stop():
            out(f"{service.name:<14} stopped")
        else:
            out(f"{service.name:<14} was not running")
