import os
import uuid
from datetime import timedelta

import pytest
from temporalio.worker import Replayer

from commerce.env import ConfigError
from commerce.probe import ProbeInput, ProbeResult, ProbeWorkflow
from commerce.temporal import connect
from commerce.workers import activity_executor, build_worker, worker_specs
from tests.histories import record

pytestmark = pytest.mark.usefixtures("running_workers")

QUEUES = ["cart", "checkout", "oms", "fulfillment", "inventory", "identity"]


@pytest.fixture
async def spare_client(local_stack):
    """A connection of its own: the SDK refuses a second worker for a queue on the running workers' client."""
    return await connect()


def test_there_is_one_worker_per_domain_queue():
    assert sorted(spec.task_queue for spec in worker_specs()) == sorted(QUEUES)


def test_a_subset_of_queues_can_be_chosen_and_unknown_ones_are_refused():
    assert [spec.task_queue for spec in worker_specs(["cart", "oms"])] == ["cart", "oms"]
    with pytest.raises(ValueError, match="unknown task queue"):
        worker_specs(["cart", "payments"])


async def test_each_worker_gets_its_own_bounded_thread_pool_sized_by_settings(settings, spare_client):
    settings.TEMPORAL_ACTIVITY_THREADS = 3
    settings.TEMPORAL_ACTIVITY_THREADS_BY_QUEUE = {"inventory": 5}
    specs = worker_specs()
    executors = [activity_executor(spec) for spec in specs]
    try:
        workers = [build_worker(spare_client, spec, pool) for spec, pool in zip(specs, executors, strict=True)]

        configs = {worker.task_queue: worker.config() for worker in workers}
        pools = [config["activity_executor"] for config in configs.values()]
        assert len({id(pool) for pool in pools}) == len(QUEUES), "workers share a thread pool"
        expected = {queue: 5 if queue == "inventory" else 3 for queue in QUEUES}
        # The SDK itself compares these two (it warns when the pool is smaller than the slots).
        assert {queue: config["activity_executor"]._max_workers for queue, config in configs.items()} == expected
        assert {queue: config["max_concurrent_activities"] for queue, config in configs.items()} == expected
    finally:
        for executor in executors:
            executor.shutdown()


async def test_workers_give_in_flight_activities_time_to_finish_when_they_stop(settings, spare_client):
    settings.TEMPORAL_GRACEFUL_SHUTDOWN_SECONDS = 20
    spec = worker_specs(["cart"])[0]
    with activity_executor(spec) as executor:
        worker = build_worker(spare_client, spec, executor)

        assert worker.config()["graceful_shutdown_timeout"] == timedelta(seconds=20)


def test_a_per_queue_thread_setting_that_names_no_queue_is_refused_by_name(settings):
    settings.TEMPORAL_ACTIVITY_THREADS_BY_QUEUE = {"invetory": 4}

    with pytest.raises(ConfigError, match="TEMPORAL_ACTIVITY_THREADS_INVETORY names no task queue"):
        worker_specs()


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
