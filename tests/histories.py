"""Recorded workflow histories: replayed by the tests so a code change that breaks determinism fails.

Run the tests with RECORD_HISTORIES=1 to (re)write the files under tests/histories/ from real runs.
"""

from __future__ import annotations

import os
from pathlib import Path

from temporalio.client import WorkflowHandle, WorkflowHistory

HISTORY_DIR = Path(__file__).parent / "histories"


async def record(handle: WorkflowHandle, name: str) -> WorkflowHistory:
    """The handle's history; also saved as `name` when recording is asked for."""
    history = await handle.fetch_history()
    if os.environ.get("RECORD_HISTORIES") == "1":
        (HISTORY_DIR / f"{name}.json").write_text(history.to_json())
    return history


def recorded() -> list[tuple[str, WorkflowHistory]]:
    return [
        (path.stem, WorkflowHistory.from_json(path.stem, path.read_text()))
        for path in sorted(HISTORY_DIR.glob("*.json"))
    ]
