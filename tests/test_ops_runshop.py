"""The real `manage.py runshop`: its worker process killed with -9 is reaped, logged and restarted; its
web runs in WEB_PROCESSES processes whose metrics add up at /metrics, and which die with it."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from commerce.management.commands.runshop import METRICS_DIR_PREFIX, web_metrics_dir
from commerce.probe import ProbeInput, ProbeResult, ProbeWorkflow

MANAGE = Path(__file__).resolve().parent.parent / "manage.py"


class Output:
    """The merged output of a process, read by a thread so a test can wait for a line with a deadline."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float = 90.0) -> re.Match[str]:
        """The first line from now on matching `pattern`; the timeout only bounds a failing test."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(self.lines)) from None
            if line is None:
                raise AssertionError(f"output ended before {pattern!r}:\n" + "\n".join(self.lines))
            self.lines.append(line)
            match = re.search(pattern, line)
            if match:
                return match

    def rest(self, timeout: float = 90.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
        return "\n".join(self.lines)


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().split(") ", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return found


def web_processes(runshop_pid: int) -> list[int]:
    """runshop's uvicorn processes (spawned by multiprocessing), not its workers child."""
    def spawned(pid: int) -> bool:
        try:
            return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            return False
    return [pid for pid in children(runshop_pid) if spawned(pid)]


def environment_of(pid: int) -> dict[str, str]:
    pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(pair.decode().split("=", 1) for pair in pairs if b"=" in pair)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` with these labels, in Prometheus' text format."""
    total = 0.0
    for line in text.splitlines():
        found = re.match(rf"^{re.escape(name)}\{{(.*)\}} (\S+)$", line)
        if found and all(f'{key}="{value}"' in found.group(1) for key, value in labels.items()):
            total += float(found.group(2))
    return total


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def is_gone(pid: int) -> bool:
    """The process exited and was reaped (no zombie left)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] == "X"
    except FileNotFoundError:
        return True


@pytest.fixture
def shop_env(tmp_path, cassandra_schema) -> dict[str, str]:
    """runshop's environment: the test keyspace and namespace, an SQL database of its own, a short drain."""
    env = {
        **os.environ,
        "COMMERCE_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "TEMPORAL_GRACEFUL_SHUTDOWN_SECONDS": "2",
        "PYTHONUNBUFFERED": "1",
        # A port of its own: another shop on this machine may hold the default one.
        "WORKER_METRICS_PORT": str(free_port()),
        "WEB_PROCESSES": "2",
    }
    migrate = subprocess.run([sys.executable, str(MANAGE), "migrate", "--noinput", "-v", "0"],
                             env=env, capture_output=True, text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr
    return env


@pytest.fixture
def runshop(shop_env) -> Iterator[tuple[subprocess.Popen, Output]]:
    process = subprocess.Popen(
        [sys.executable, str(MANAGE), "runshop", "--port", str(free_port())],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=shop_env,
    )
    yield process, Output(process)
    if process.poll() is None:
        process.kill()  # its worker child gets SIGTERM from the kernel (die_with_parent)
        process.wait()


async def test_runshop_restarts_its_worker_process_after_a_kill_9_and_says_so(runshop, temporal_client):
    process, output = runshop
    first = int(output.wait_for(r"Workers: pid (\d+)").group(1))
    output.wait_for(r"Shop: http://127\.0\.0\.1:\d+/")
    metrics_dir = Path(environment_of(web_processes(process.pid)[0])["PROMETHEUS_MULTIPROC_DIR"])
    assert metrics_dir.is_dir()
    # The URL comes last, once the six workers poll, so `make run` ends with it.
    assert sum("worker started on task queue" in line for line in output.lines) == 6, output.lines

    os.kill(first, signal.SIGKILL)

    output.wait_for(rf"workers \(pid {first}\) died: killed by SIGKILL after \d+s; restarting in 1s \(restart 1\)")
    second = int(output.wait_for(r"workers restarted \(pid (\d+)\)").group(1))
    assert second != first
    assert is_gone(first), "the killed worker process was left a zombie"
    for _ in range(6):
        output.wait_for(r"worker started on task queue")
    # The new worker process serves: a probe's activity runs in it.
    result = await temporal_client.execute_workflow(
        ProbeWorkflow.run, ProbeInput(), id=f"probe-runshop-{uuid.uuid4()}", task_queue="identity",
        result_type=ProbeResult,
    )
    assert result.worker_pid == second

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=90) == 0
    assert "workers stopped (drained)" in output.rest()
    assert is_gone(second)
    assert not metrics_dir.exists(), "this run's metrics files were left behind"


async def test_runshop_serves_from_several_web_processes_whose_metrics_add_up_and_which_die_with_it(
        runshop, shop_env, temporal_client):
    process, output = runshop
    workers = int(output.wait_for(r"Workers: pid (\d+)").group(1))
    output.wait_for(r"Web: 2 process\(es\)")
    port = int(output.wait_for(r"Shop: http://127\.0\.0\.1:(\d+)/").group(1))
    web = web_processes(process.pid)
    assert len(web) == 2, web
    shop = f"http://127.0.0.1:{port}"

    with urllib.request.urlopen(f"{shop}/", timeout=10) as home:
        assert home.headers.get("server") is None  # no server software named, nor its version
    before = get(f"{shop}/metrics")[1]
    statuses = [get(f"{shop}/healthz")[0] for _ in range(30)]  # a new connection each: both processes serve
    # Whichever process answers a scrape reports every process's requests.
    for _ in range(5):
        after = get(f"{shop}/metrics")[1]
        for status in set(statuses):
            labels = {"view": "healthz", "method": "GET", "status": str(status)}
            assert sample(after, "commerce_http_requests_total", **labels) - sample(
                before, "commerce_http_requests_total", **labels) == statuses.count(status)

    # The workers' process serves the SDK's metrics on its own port.
    await temporal_client.execute_workflow(
        ProbeWorkflow.run, ProbeInput(), id=f"probe-runshop-{uuid.uuid4()}", task_queue="identity",
        result_type=ProbeResult,
    )
    worker_metrics = f"http://127.0.0.1:{shop_env['WORKER_METRICS_PORT']}/metrics"
    deadline = time.monotonic() + 10
    while not sample(get(worker_metrics)[1], "temporal_workflow_completed", workflow_type="Probe"):
        assert time.monotonic() < deadline, get(worker_metrics)[1]
        time.sleep(0.2)

    # Killed outright, runshop leaves no web process (nor its workers) serving orphaned.
    process.kill()
    process.wait()
    deadline = time.monotonic() + 30
    while not all(is_gone(pid) for pid in [*web, workers]):
        assert time.monotonic() < deadline, [pid for pid in [*web, workers] if not is_gone(pid)]
        time.sleep(0.2)


def test_each_run_gets_a_fresh_metrics_directory_and_clears_those_of_runs_killed_before():
    dead_pid = subprocess.Popen([sys.executable, "-c", "pass"])  # a run that is gone
    dead_pid.wait()
    leftover = Path(tempfile.mkdtemp(prefix=f"{METRICS_DIR_PREFIX}{dead_pid.pid}-"))
    (leftover / "counter_1.db").write_bytes(b"stale")

    with web_metrics_dir() as directory:
        assert directory.is_dir() and not any(directory.iterdir())
        assert not leftover.exists()

    assert not directory.exists()
