"""Structured logs: one JSON object a line (LOG_FORMAT=json), with the workflow a line concerns as fields.

The Temporal SDK's `workflow.logger` and `activity.logger` put the workflow's (or activity's) details
in the record as `temporal_workflow` / `temporal_activity`; `WorkflowContextFilter` lifts them into
plain fields (`workflow_id`, `run_id`, `workflow_type`, `activity_type`...). A line logged with a
module logger from inside an activity or a workflow gets the same fields from the SDK's context, so
every line a worker writes about a workflow can be found by its id. Anything else a caller passes in
`extra` becomes a field too.
"""

from __future__ import annotations

import json
import logging
import traceback
from datetime import UTC, datetime

from temporalio import activity, workflow

# Attributes every LogRecord has: not extra fields of a line.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message", "asctime", "taskName",
    # uvicorn's coloured copy of the message
    "color_message",
    # lifted into fields by WorkflowContextFilter
    "temporal_workflow", "temporal_activity",
}
# Fields of the SDK's details, renamed where two of them mean the same thing.
_WORKFLOW_FIELDS = {"workflow_id": "workflow_id", "run_id": "run_id", "workflow_type": "workflow_type",
                    "task_queue": "task_queue", "namespace": "namespace", "attempt": "attempt",
                    "update_id": "update_id", "update_name": "update_name"}
_ACTIVITY_FIELDS = {"workflow_id": "workflow_id", "workflow_run_id": "run_id", "workflow_type": "workflow_type",
                    "activity_id": "activity_id", "activity_type": "activity_type", "task_queue": "task_queue",
                    "namespace": "namespace", "attempt": "attempt"}


def _lift(record: logging.LogRecord, details, fields: dict[str, str]) -> None:
    for source, name in fields.items():
        value = details.get(source)
        if value is not None and not hasattr(record, name):
            setattr(record, name, value)


def _activity_details() -> dict:
    info = activity.info()
    return {"workflow_id": info.workflow_id, "workflow_run_id": info.workflow_run_id,
            "workflow_type": info.workflow_type, "activity_id": info.activity_id,
            "activity_type": info.activity_type, "task_queue": info.task_queue,
            "namespace": info.workflow_namespace, "attempt": info.attempt}


def _workflow_details() -> dict:
    info = workflow.info()
    return {"workflow_id": info.workflow_id, "run_id": info.run_id, "workflow_type": info.workflow_type,
            "task_queue": info.task_queue, "namespace": info.namespace, "attempt": info.attempt}


class WorkflowContextFilter(logging.Filter):
    """Gives a record the workflow (and activity) it concerns as attributes; never drops a record."""

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        # The details are fields now: the SDK need not repeat them as a dict at the end of the message.
        workflow.logger.workflow_info_on_message = False
        activity.logger.activity_info_on_message = False

    def filter(self, record: logging.LogRecord) -> bool:
        lifted = False
        for key, fields in (("temporal_workflow", _WORKFLOW_FIELDS), ("temporal_activity", _ACTIVITY_FIELDS)):
            details = getattr(record, key, None)
            if isinstance(details, dict):
                _lift(record, details, fields)
                lifted = True
        if not lifted:
            # A module logger called from activity or workflow code: ask the SDK whose it is.
            if activity.in_activity():
                _lift(record, _activity_details(), _ACTIVITY_FIELDS)
            elif workflow.in_workflow():
                _lift(record, _workflow_details(), _WORKFLOW_FIELDS)
        return True


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "message", then the workflow fields and any extra, "exception"}."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, default=str, ensure_ascii=False)
