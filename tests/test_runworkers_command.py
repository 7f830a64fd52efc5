import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from commerce.probe import ProbeInput, ProbeResult, ProbeWorkflow

MANAGE = Path(__file__).resolve().parent.parent / "manage.py"


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(MANAGE), "runworkers", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ),  # the test namespace, as set by commerce.pytest_env
    )


def _read_until(process: subprocess.Popen, needle: str, count: int, timeout: float = 60) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline and sum(needle in line for line in lines) < count:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
    return lines


@pytest.fixture
def runworkers_process(local_stack):
    process = _start("--queues", "identity,fulfillment")
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


async def test_runworkers_serves_its_queues_and_drains_on_sigterm(runworkers_process, temporal_client):
    started = _read_until(runworkers_process, "worker started", 2)
    assert sum("worker started" in line for line in started) == 2, "".join(started)
    assert any("'identity'" in line for line in started) and any("'fulfillment'" in line for line in started)

    result = await temporal_client.execute_workflow(
        ProbeWorkflow.run,
        ProbeInput(),
        id=f"probe-cmd-{uuid.uuid4()}",
        task_queue="identity",
        result_type=ProbeResult,
    )
    assert result.worker_pid == runworkers_process.pid

    runworkers_process.send_signal(signal.SIGTERM)
    rest = runworkers_process.communicate(timeout=60)[0]
    assert runworkers_process.returncode == 0, rest
    assert "all workers stopped" in rest


def test_runworkers_refuses_an_unknown_queue(local_stack):
    process = _start("--queues", "cart,payments")
    output = process.communicate(timeout=60)[0]
    assert process.returncode != 0
    assert "unknown task queue(s) payments" in output
