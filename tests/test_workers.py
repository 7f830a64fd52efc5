import os
import uuid

import pytest
from temporalio.worker import Replayer

from commerce.probe import ProbeInput, ProbeResult, ProbeWorkflow
from commerce.workers import worker_specs
from tests.histories import record

pytestmark = pytest.mark.usefixtures("running_workers")

QUEUES = ["cart", "checkout", "oms", "fulfillment", "inventory", "identity"]


def test_there_is_one_worker_per_domain_queue():
    assert sorted(spec.task_queue for spec in worker_specs()) == sorted(QUEUES)


def test_a_subset_of_queues_can_be_chosen_and_unknown_ones_are_refused():
    assert [spec.task_queue for spec in worker_specs(["cart", "oms"])] == ["cart", "oms"]
    with pytest.raises(ValueError, match="unknown task queue"):
        worker_specs(["cart", "payments"])


@pytest.mark.parametrize("queue", QUEUES)
async def test_each_queue_has_a_worker_that_runs_workflows_and_activities(temporal_client, queue):
    result = await temporal_client.execute_workflow(
        ProbeWorkflow.run,
        ProbeInput(),
        id=f"probe-{queue}-{uuid.uuid4()}",
        task_queue=queue,
        result_type=ProbeResult,
    )

    assert result.task_queue == queue
    # The activity ran in this process's thread pool, where run_workers started the worker.
    assert result.worker_pid == os.getpid()


async def test_a_probe_history_replays_without_nondeterminism(temporal_client):
    handle = await temporal_client.start_workflow(
        ProbeWorkflow.run, ProbeInput(delay_seconds=1), id=f"probe-replay-{uuid.uuid4()}", task_queue="cart"
    )
    await handle.result()

    history = await record(handle, "probe")

    replay = await Replayer(workflows=[ProbeWorkflow]).replay_workflow(history, raise_on_replay_failure=False)
    assert replay.replay_failure is None
