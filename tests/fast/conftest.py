"""What the fast tier's workflow tests share: a time-skipping test server of their own per test."""

import pytest
from temporalio.testing import WorkflowEnvironment

from commerce.temporal import binary_path


@pytest.fixture
async def env():
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(binary_path("temporal-test-server")))
    yield environment
    await environment.shutdown()
