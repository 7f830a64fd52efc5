"""/healthz is the whole system (stores and a live worker on every task queue); /readyz is this web
process (its stores). Bodies name what is down, never why."""

import asyncio
import json

import pytest
from django.test import override_settings
from temporalio.testing import WorkflowEnvironment

from commerce.temporal import binary_path

pytestmark = pytest.mark.django_db(transaction=True)

STORES = ("sql", "cassandra", "elasticsearch", "temporal")
QUEUES = tuple(f"queue:{name}" for name in ("cart", "checkout", "oms", "fulfillment", "inventory", "identity"))


def _body(response) -> dict:
    body = json.loads(response.content)
    # Names and up/down only: no exception text, no hosts, no latencies to fingerprint.
    assert set(body) == {"status", "dependencies"}
    assert set(body["dependencies"].values()) <= {"up", "down"}
    return body


async def _healthz_once_workers_poll(async_client):
    # Workers were just started: give their first polls a moment to reach the server.
    for _ in range(100):
        response = await async_client.get("/healthz")
        if response.status_code == 200:
            return response
        await asyncio.sleep(0.2)
    return response


async def test_healthz_is_200_when_every_store_answers_and_every_queue_has_a_worker(
        async_client, cassandra_schema, running_workers):
    response = await _healthz_once_workers_poll(async_client)

    body = _body(response)
    assert response.status_code == 200, body
    assert body == {"status": "up", "dependencies": {name: "up" for name in STORES + QUEUES}}


async def test_healthz_is_503_naming_every_queue_no_worker_polls_while_readyz_stays_200(
        async_client, cassandra_schema):
    # A Temporal server of its own, where no worker ever polled; stopping it leaves the shared stack alone.
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(binary_path("temporal")),
        dev_server_extra_args=["--headless"],
    )
    address = env.client.service_client.config.target_host
    with override_settings(TEMPORAL_ADDRESS=address, TEMPORAL_NAMESPACE="default"):
        try:
            health = await async_client.get("/healthz")
            ready = await async_client.get("/readyz")
        finally:
            await env.shutdown()

        health_after = await async_client.get("/healthz")
        ready_after = await async_client.get("/readyz")

    body = _body(health)
    assert health.status_code == 503
    assert body["status"] == "down"
    assert body["dependencies"] == {**{name: "up" for name in STORES}, **{name: "down" for name in QUEUES}}
    assert ready.status_code == 200, ready.content
    assert _body(ready) == {"status": "up", "dependencies": {name: "up" for name in STORES}}

    assert health_after.status_code == 503
    assert _body(health_after)["dependencies"]["temporal"] == "down"
    assert ready_after.status_code == 503
    assert _body(ready_after)["dependencies"] == {"sql": "up", "cassandra": "up", "elasticsearch": "up",
                                                  "temporal": "down"}


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_status_pages_answer_get_and_head_only_and_are_never_cached(async_client, cassandra_schema, path):
    head = await async_client.head(path)
    post = await async_client.post(path)

    assert head.status_code in (200, 503)
    assert head.content == b""
    assert "no-cache" in head["Cache-Control"]
    assert post.status_code == 405
