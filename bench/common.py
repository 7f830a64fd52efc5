"""Shared parts of the benchmarks: a web server of our own, locust runs, the Temporal floor.

Benchmarks only target 127.0.0.1, run for a bounded time, and never assert: they report.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
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
    """Run locust headless; return its per-request-name stats: count, rps, p50/p95/p99 (ms).

    Read from locust's final JSON (written once every user has stopped), not its CSV: the CSV is
    written every second while the run goes, so the requests of the last second were missing."""
    prefix = RESULTS / f"{label}-{users}u"
    run = subprocess.run(
        [PYTHON, "-m", "locust", "-f", str(locustfile), "--headless", "--host", host,
         "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--json-file", str(prefix),
         "--only-summary", "--stop-timeout", "5"],
        env=env, cwd=ROOT,
    )
    # Locust exits 1 when some requests failed: they are counted in the report, not fatal to the run.
    if run.returncode not in (0, 1):
        raise subprocess.CalledProcessError(run.returncode, run.args)
    entries = json.loads(Path(f"{prefix}.json").read_text())
    began = min((entry["start_time"] for entry in entries), default=0.0)
    ended = max((entry["last_request_timestamp"] or 0.0 for entry in entries), default=0.0)
    return {entry["name"]: _locust_figures(entry, ended - began) for entry in entries}


def _locust_figures(entry: dict, span: float) -> dict:
    """count, failures, rps over the whole run, p50/p95/p99 from locust's response-time histogram."""
    times = sorted((float(ms), count) for ms, count in entry["response_times"].items())
    total = sum(count for _, count in times)

    def at(fraction: float) -> float:
        seen = 0
        for ms, count in times:
            seen += count
            if seen >= fraction * total:
                return ms
        return 0.0

    return {"requests": entry["num_requests"], "failures": entry["num_failures"],
            "rps": entry["num_requests"] / span if span > 0 else 0.0,
            "p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99)}


def percentiles(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"count": len(ordered), "p50_ms": cut[49], "p95_ms": cut[94], "p99_ms": cut[98]}


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
