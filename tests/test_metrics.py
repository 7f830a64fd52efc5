"""Prometheus metrics: /metrics counts the web tier's requests by view, method and status (adding up
every web process's samples in multiprocess mode), and the workers' process serves the Temporal SDK's
own metrics, workflow and activity counts included, on WORKER_METRICS_PORT."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from temporalio.worker import Worker

from commerce.observability.worker_metrics import runtime_with_metrics
from commerce.probe import ProbeInput, ProbeResult, ProbeWorkflow, probe_worker
from commerce.temporal import connect

REPO = Path(__file__).resolve().parent.parent


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 when absent), whatever its label order."""
    total = 0.0
    for line in text.splitlines():
        found = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
        if not found:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', found.group(1) or ""))
        if all(have.get(key) == value for key, value in labels.items()):
            total += float(found.group(2))
    return total


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db
async def test_metrics_counts_a_request_under_its_view_name_method_and_status(async_client):
    before = (await async_client.get("/metrics")).content.decode()

    status = (await async_client.get("/healthz")).status_code

    response = await async_client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    after = response.content.decode()
    labels = {"view": "healthz", "method": "GET", "status": str(status)}
    assert sample(after, "commerce_http_requests_total", **labels) == sample(
        before, "commerce_http_requests_total", **labels) + 1
    assert sample(after, "commerce_http_request_duration_seconds_count", view="healthz", method="GET") >= 1
    # The scrapes themselves are not counted, and no label holds a path.
    assert 'view="metrics"' not in after
    assert 'view="/' not in after


@pytest.mark.django_db
async def test_an_unknown_path_is_counted_as_unmatched_not_under_its_own_label(async_client):
    path = f"/no-such-page-{uuid.uuid4().hex}/"

    await async_client.get(path)

    text = (await async_client.get("/metrics")).content.decode()
    assert sample(text, "commerce_http_requests_total", view="unmatched", method="GET", status="404") >= 1
    assert path not in text


def _in_a_web_process(code: str, metrics_dir: Path) -> str:
    """Run `code` in a fresh process that writes its samples to `metrics_dir`, as each runshop web
    process does; returns what it prints."""
    setup = "import django, json\ndjango.setup()\nfrom commerce.observability import metrics\n"
    result = subprocess.run(
        [sys.executable, "-c", setup + code], cwd=REPO, capture_output=True, text=True, timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "commerce.settings", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_several_web_processes_add_up_in_one_scrape_and_a_dead_ones_requests_in_progress_drop_out(tmp_path):
    count = "metrics.REQUESTS.labels('inventory:search', 'GET', '200').inc({n})\n"
    _in_a_web_process(count.format(n=3), tmp_path)
    # This one dies in the middle of a request, killed: it never cleans up after itself.
    _in_a_web_process(count.format(n=2) + "metrics.IN_PROGRESS.inc()\nimport os\nos._exit(0)\n", tmp_path)
    # A scrape reaches one process, which reports them all.
    text = _in_a_web_process("print(json.dumps(metrics.exposition().decode()))", tmp_path)

    scraped = json.loads(text)
    assert sample(scraped, "commerce_http_requests_total", view="inventory:search", method="GET", status="200") == 5
    assert sample(scraped, "commerce_http_requests_in_progress") == 0


async def test_the_workers_runtime_serves_the_sdks_workflow_and_activity_metrics(local_stack):
    address = f"127.0.0.1:{free_port()}"
    runtime = runtime_with_metrics(address)
    assert runtime is not None
    client = await connect(runtime=runtime)
    queue = f"metrics-{uuid.uuid4().hex[:8]}"

    with ThreadPoolExecutor(max_workers=1) as threads:
        async with Worker(client, task_queue=queue, workflows=[ProbeWorkflow], activities=[probe_worker],
                          activity_executor=threads):
            await client.execute_workflow(ProbeWorkflow.run, ProbeInput(), id=f"probe-{queue}", task_queue=queue,
                                          result_type=ProbeResult)
            text = await _scrape_until(address, "temporal_workflow_completed", task_queue=queue)

    assert sample(text, "temporal_workflow_completed", task_queue=queue, workflow_type="Probe") == 1
    assert sample(text, "temporal_activity_execution_latency_count", task_queue=queue,
                  activity_type="probe_worker") == 1
    assert sample(text, "temporal_workflow_task_execution_latency_count", task_queue=queue) >= 1


async def _scrape_until(address: str, name: str, **labels: str) -> str:
    """The workers' metrics page once `name` shows (the SDK records it as the task completes)."""
    for _ in range(50):
        text = await asyncio.to_thread(lambda: urllib.request.urlopen(f"http://{address}/metrics", timeout=5)
                                       .read().decode())
        if sample(text, name, **labels):
            return text
        await asyncio.sleep(0.1)
    return text


def test_a_taken_worker_metrics_port_leaves_the_workers_running_without_metrics_and_says_so(caplog):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"

        assert runtime_with_metrics(address) is None

    assert f"worker metrics are not served on {address}" in caplog.text


def test_worker_metrics_are_off_with_port_zero(settings):
    settings.WORKER_METRICS_PORT = 0

    assert runtime_with_metrics() is None
