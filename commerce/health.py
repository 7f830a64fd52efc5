"""Dependency checks for /healthz: each store answers a trivial request within a time limit."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.db import connections

from commerce.cassandra import session as cassandra_session
from commerce.search import es
from commerce.temporal import get_client

CHECK_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class DependencyHealth:
    name: str
    up: bool
    latency_ms: float
    error: str = ""

    def as_json(self) -> dict:
        data = asdict(self)
        data["latency_ms"] = round(self.latency_ms, 1)
        data["status"] = "up" if self.up else "down"
        if not self.error:
            del data["error"]
        return data


def _ping_sql() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")


def _ping_cassandra() -> None:
    cassandra_session().execute("SELECT release_version FROM system.local", timeout=CHECK_TIMEOUT_SECONDS)


def _ping_elasticsearch() -> None:
    health = es().options(request_timeout=CHECK_TIMEOUT_SECONDS).cluster.health()
    if health["status"] not in ("green", "yellow"):
        raise RuntimeError(f"cluster status {health['status']}")


async def _ping_temporal() -> None:
    client = await get_client()
    await client.service_client.check_health(timeout=timedelta(seconds=CHECK_TIMEOUT_SECONDS))


async def _measure(name: str, check) -> DependencyHealth:
    began = time.perf_counter()
    try:
        await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure of the dependency reads as "down", with its reason
        reason = str(exc) or type(exc).__name__
        return DependencyHealth(name, False, (time.perf_counter() - began) * 1000, reason[:300])
    return DependencyHealth(name, True, (time.perf_counter() - began) * 1000)


async def check_all() -> list[DependencyHealth]:
    checks = {
        "sql": sync_to_async(_ping_sql),
        "cassandra": sync_to_async(_ping_cassandra, thread_sensitive=False),
        "elasticsearch": sync_to_async(_ping_elasticsearch, thread_sensitive=False),
        "temporal": _ping_temporal,
    }
    return list(await asyncio.gather(*(_measure(name, check) for name, check in checks.items())))
