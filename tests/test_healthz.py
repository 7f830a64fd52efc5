import json

import pytest
from django.test import override_settings
from temporalio.testing import WorkflowEnvironment

from commerce.temporal import binary_path

pytestmark = pytest.mark.django_db(transaction=True)


async def test_healthz_is_200_with_every_dependency_up(async_client, cassandra_schema):
    response = await async_client.get("/healthz")

    body = json.loads(response.content)
    assert response.status_code == 200, body
    assert body["status"] == "up"
    assert set(body["dependencies"]) == {"sql", "cassandra", "elasticsearch", "temporal"}
    for name, dependency in body["dependencies"].items():
        assert dependency["status"] == "up", name
        assert dependency["latency_ms"] >= 0


async def test_healthz_is_503_and_names_the_dependency_that_stopped(async_client, cassandra_schema):
    # A Temporal server of its own, so stopping it leaves the shared stack alone.
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(binary_path("temporal")),
        dev_server_extra_args=["--headless"],
    )
    address = env.client.service_client.config.target_host
    with override_settings(TEMPORAL_ADDRESS=address, TEMPORAL_NAMESPACE="default"):
        try:
            before = await async_client.get("/healthz")
            assert before.status_code == 200, before.content
        finally:
            await env.shutdown()

        after = await async_client.get("/healthz")

    body = json.loads(after.content)
    assert after.status_code == 503
    assert body["status"] == "down"
    assert body["dependencies"]["temporal"]["status"] == "down"
    assert body["dependencies"]["temporal"]["error"]
    for name in ("sql", "cassandra", "elasticsearch"):
        assert body["dependencies"][name]["status"] == "up", name


async def test_healthz_accepts_only_get(async_client):
    response = await async_client.post("/healthz")
    assert response.status_code == 405
