"""Shared parts of the benchmarks: a web server of our own, locust runs, the Temporal floor.

Benchmarks only target 127.0.0.1, run for a bounded time, and never assert: they report.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(*args: str, env: dict | None = None) -> float:
    """Run a manage.py command (its progress shows on the console); return the seconds it took."""
    began = time.monotonic()
    subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], check=True, env=env)
    return time.monotonic() - began


@contextmanager
def workers(env: dict, log_name: str):
    """`manage.py runworkers` with the bench's environment for the duration of the block."""
    log = open(RESULTS / log_name, "w")  # noqa: SIM115 - the workers write to it until they stop
    process = subprocess.Popen([PYTHON, str(ROOT / "manage.py"), "runworkers"], env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        time.sleep(3)  # connected and polling
        yield process
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()


@contextmanager
def web_server(env: dict, port: int):
    """uvicorn serving the shop on 127.0.0.1:port for the duration of the block."""
    log = open(RESULTS / f"web-{port}.log", "w")  # noqa: SIM115 - the server writes to it until it stops
    process = subprocess.Popen(
        [PYTHON, "-m", "uvicorn", "commerce.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--lifespan", "off"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def locust(locustfile: Path, host: str, users: int, seconds: int, label: str, env: dict) -> dict[str, dict]:
    """Run locust headless; return its per-request-name stats: count, rps, p50/p95/p99 (ms)."""
    prefix = RESULTS / f"{label}-{users}u"
    run = subprocess.run(
        [PYTHON, "-m", "locust", "-f", str(locustfile), "--headless", "--host", host,
         "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--csv", str(prefix),
         "--only-summary", "--stop-timeout", "5"],
        env=env, cwd=ROOT,
    )
    # Locust exits 1 when some requests failed: they are counted in the report, not fatal to the run.
    if run.returncode not in (0, 1):
        raise subprocess.CalledProcessError(run.returncode, run.args)
    stats = {}
    with open(f"{prefix}_stats.csv") as handle:
        for row in csv.DictReader(handle):
            stats[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50_ms": float(row["50%"]),
                "p95_ms": float(row["95%"]),
                "p99_ms": float(row["99%"]),
            }
    return stats


def percentiles(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"count": len(ordered), "p50_ms": cut[49], "p95_ms": cut[94], "p99_ms": cut[98]}


def temporal_probe_floor(rounds: int = 200, concurrency: int = 1) -> dict:
    """The bare Temporal round trip of the same run: start a probe workflow (one activity) and
    wait for its result, against the local dev server, with an in-process worker."""
    import django

    django.setup()
    from concurrent.futures import ThreadPoolExecutor

    from temporalio.worker import Worker

    from commerce.probe import ProbeInput, ProbeWorkflow, probe_worker
    from commerce.temporal import connect

    async def run() -> dict:
        client = await connect()
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        samples: list[float] = []
        with ThreadPoolExecutor(max_workers=8) as executor:
            async with Worker(client, task_queue=queue, workflows=[ProbeWorkflow], activities=[probe_worker],
                              activity_executor=executor):
                async def one(index: int) -> None:
                    began = time.perf_counter()
                    await client.execute_workflow(ProbeWorkflow.run, ProbeInput(), id=f"{queue}-{index}",
                                                  task_queue=queue)
                    samples.append((time.perf_counter() - began) * 1000)

                began = time.perf_counter()
                for start in range(0, rounds, concurrency):
                    await asyncio.gather(*(one(i) for i in range(start, min(rounds, start + concurrency))))
                elapsed = time.perf_counter() - began
        return {**percentiles(samples), "rps": rounds / elapsed}

    return asyncio.run(run())


def save(name: str, report: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{name}-{stamp}.json"
    path.write_text(json.dumps(report, indent=2))
    return path


def table(rows: list[tuple]) -> str:
    header = ("what", "clients", "requests", "fail", "rps", "p50 ms", "p95 ms", "p99 ms")
    lines = [header] + [tuple(str(cell) for cell in row) for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) for line in lines)


def bench_env(**overrides: str) -> dict:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings")
    env.update(overrides)
    return env
