"""Structured logs (LOG_FORMAT=json): one JSON object a line, and every line a workflow or its activities
write carries the workflow's id, whether it was logged through the SDK's workflow/activity loggers or
a plain module logger; the settings switch the whole process, uvicorn's lines included."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import activity, workflow
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from commerce.observability.logs import JsonFormatter, WorkflowContextFilter

REPO = Path(__file__).resolve().parents[2]
module_logger = logging.getLogger("tests.fast.test_logging")


@activity.defn(name="reserve_for_logging_test")
def reserve(sku: str) -> str:
    activity.logger.info("reserving %s", sku)
    module_logger.warning("stock low for %s", sku)
    return sku


@workflow.defn(name="LoggingTest")
class LoggingWorkflow:
    @workflow.run
    async def run(self, sku: str) -> str:
        workflow.logger.warning("order for %s", sku)
        module_logger.warning("plain logger inside the workflow")
        return await workflow.execute_activity(reserve, sku, start_to_close_timeout=timedelta(seconds=10))


@pytest.fixture
def json_lines():
    """Every record of the root logger, as the JSON console handler writes it; the SDK loggers' own
    settings are put back after the test (the filter turns off their message suffix)."""
    saved = (workflow.logger.workflow_info_on_message, activity.logger.activity_info_on_message)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(WorkflowContextFilter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(previous_level)
    workflow.logger.workflow_info_on_message, activity.logger.activity_info_on_message = saved


async def test_every_line_a_workflow_and_its_activity_log_carries_the_workflow_id(env, json_lines):
    workflow_id = f"logging-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(max_workers=2) as threads:
        async with Worker(env.client, task_queue="logging-test", workflows=[LoggingWorkflow], activities=[reserve],
                          activity_executor=threads, workflow_runner=UnsandboxedWorkflowRunner()):
            await env.client.execute_workflow(LoggingWorkflow.run, "SKU-1", id=workflow_id,
                                              task_queue="logging-test")

    lines = {line["message"]: line for line in json_lines() if line.get("workflow_id") == workflow_id}
    assert set(lines) >= {"order for SKU-1", "plain logger inside the workflow", "reserving SKU-1",
                          "stock low for SKU-1"}, json_lines()
    assert lines["order for SKU-1"]["workflow_type"] == "LoggingTest"
    assert lines["order for SKU-1"]["run_id"]
    for message in ("reserving SKU-1", "stock low for SKU-1"):
        assert lines[message]["activity_type"] == "reserve_for_logging_test"
        assert lines[message]["run_id"] == lines["order for SKU-1"]["run_id"]
        assert lines[message]["level"] in ("INFO", "WARNING")
    # The details are fields, not a dict pasted at the end of the message.
    assert "temporal_workflow" not in lines["order for SKU-1"]


def test_a_json_line_holds_the_extra_fields_and_the_exception_of_its_record(json_lines):
    try:
        raise ValueError("card declined")
    except ValueError:
        module_logger.exception("payment failed", extra={"order_number": "HC-1001", "cents": 4200})

    (line,) = json_lines()
    assert line["message"] == "payment failed"
    assert line["level"] == "ERROR"
    assert line["logger"] == "tests.fast.test_logging"
    assert (line["order_number"], line["cents"]) == ("HC-1001", 4200)
    assert "ValueError: card declined" in line["exception"]
    assert line["time"].endswith("+00:00")
    assert "workflow_id" not in line  # not inside a workflow or an activity


def _log_in_a_fresh_process(**env: str) -> subprocess.CompletedProcess:
    code = ("import django, logging\n"
            "django.setup()\n"
            "logging.getLogger('commerce.example').warning('cart %s unavailable', 'c-1')\n"
            "logging.getLogger('uvicorn.error').info('Started server process')\n")
    ours = {key: value for key, value in os.environ.items() if key != "LOG_FORMAT"}
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**ours, "DJANGO_SETTINGS_MODULE": "commerce.settings", **env})


def test_log_format_json_makes_every_line_of_the_process_a_json_object():
    result = _log_in_a_fresh_process(LOG_FORMAT="json")

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("commerce.example", "cart c-1 unavailable"), ("uvicorn.error", "Started server process")]


def test_the_default_log_format_is_plain_text_for_people():
    result = _log_in_a_fresh_process()

    assert result.returncode == 0, result.stderr
    assert "WARNING commerce.example: cart c-1 unavailable" in result.stderr
    assert not result.stderr.lstrip().startswith("{")


def test_an_unknown_log_format_is_refused_by_name():
    result = _log_in_a_fresh_process(LOG_FORMAT="xml")

    assert result.returncode != 0
    assert "LOG_FORMAT must be plain or json, got 'xml'" in result.stderr
