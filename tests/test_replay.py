"""Every history recorded under tests/histories/ replays against today's workflow code."""

import pytest
from temporalio.worker import Replayer

from commerce.probe import ProbeWorkflow
from tests.histories import recorded

WORKFLOWS = [ProbeWorkflow]


def test_there_are_recorded_histories_to_replay():
    assert recorded(), "no histories under tests/histories/: run the suite with RECORD_HISTORIES=1"


@pytest.mark.parametrize("name,history", recorded(), ids=[name for name, _ in recorded()])
async def test_a_recorded_history_replays(name, history):
    replay = await Replayer(workflows=WORKFLOWS).replay_workflow(history, raise_on_replay_failure=False)
    assert replay.replay_failure is None, f"{name}: {replay.replay_failure}"
