import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from commerce.probe import ProbeInput, ProbeResult, ProbeWorkflow, probe_worker
from commerce.temporal import binary_path


async def test_a_three_day_timer_fires_under_the_time_skipping_server():
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(binary_path("temporal-test-server"))
    ) as env:
        with ThreadPoolExecutor(max_workers=2) as executor:
            async with Worker(
                env.client,
                task_queue="timers",
                workflows=[ProbeWorkflow],
                activities=[probe_worker],
                activity_executor=executor,
            ):
                result = await env.client.execute_workflow(
                    ProbeWorkflow.run,
                    ProbeInput(delay_seconds=3 * 24 * 3600),
                    id=f"probe-timer-{uuid.uuid4()}",
                    task_queue="timers",
                    result_type=ProbeResult,
                )

    assert result.finished_at - result.started_at >= timedelta(days=3)
