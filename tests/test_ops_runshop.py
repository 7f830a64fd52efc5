"""The real `manage.py runshop`: its worker process killed with -9 is reaped, logged and restarted."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

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
