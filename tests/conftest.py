"""Shared fixtures: the real local stack, a Temporal client, and the Cassandra/ES test schema.

The stack is started here when it is not running (and stopped again at the end unless
STACK_KEEP=1), so `pytest` alone works on a fresh machine. Tests under tests/fast/ (pure units,
and workflows with fake activities on the time-skipping server) need no store and never start
it: `make test-fast` runs them alone.
"""

from __future__ import annotations

import asyncio
import io
import os
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections

from commerce import stack
from commerce.search import concrete_indices, documents, ensure_index, es
from commerce.temporal import connect
from commerce.workers import run_workers
from inventory.catalog.generator import generate_catalog
from inventory.catalog.store import clear_catalog, write_catalog
from tests.outages import elasticsearch_unreachable

FAST_TESTS = Path(__file__).parent / "fast"


@pytest.fixture(autouse=True)
def _stack_unless_fast(request):
    if FAST_TESTS not in request.path.parents:
        request.getfixturevalue("local_stack")


@pytest.fixture(scope="session")
def local_stack():
    started = stack.up(out=lambda line: print(f"[stack] {line}"))
    yield
    if started and os.environ.get("STACK_KEEP") != "1":
        stack.down(started, out=lambda line: print(f"[stack] {line}"))


@pytest.fixture(scope="session")
def django_db_setup(local_stack, django_db_setup):
    """The test database needs the stack first: `migrate` also syncs the Cassandra keyspace, and
    pytest-django's autouse db fixture runs before `_stack_unless_fast` on a machine with no stack."""
    yield


@pytest.fixture
def elasticsearch_down():
    """Elasticsearch unreachable for this test (tests.outages)."""
    with elasticsearch_unreachable():
        yield


@pytest.fixture(scope="session")
def cassandra_schema(local_stack):
    """The test keyspace with every table, synced once per run."""
    assert settings.CASSANDRA_KEYSPACE.endswith("_test")
    call_command("sync_cassandra", database=settings.CASSANDRA_ALIAS, verbosity=0)
    yield
    # Close the driver's sessions before interpreter exit, or its reactor thread complains.
    connections[settings.CASSANDRA_ALIAS].connection.cluster.shutdown()


@pytest.fixture(scope="session")
def search_indices(local_stack):
    """Fresh test indices behind their aliases, created once per run."""
    assert settings.ELASTICSEARCH_INDEX_PREFIX
    for document in documents():
        for index in concrete_indices(document._index._name):
            es().indices.delete(index=index)
        ensure_index(document)


TEST_CATALOG_PRODUCTS = 400
TEST_CATALOG_SEED = 7


@pytest.fixture(scope="session")
def catalog(cassandra_schema, search_indices):
    """A small generated catalog, written to the test keyspace and indexed, once per run."""
    generated = generate_catalog(products=TEST_CATALOG_PRODUCTS, seed=TEST_CATALOG_SEED)
    clear_catalog()
    write_catalog(generated, io.StringIO())
    call_command("reindex", stdout=io.StringIO(), stderr=io.StringIO())
    return generated


@pytest.fixture(scope="session")
async def temporal_client(local_stack):
    return await connect()


@pytest.fixture(scope="module")
def workers_in_thread(local_stack):
    """All six workers on an event loop of their own, for sync tests: a sync view that waits for a
    workflow (through async_to_sync) needs workers that run while the test's own loop is idle."""
    ready, stop = threading.Event(), None
    loop = asyncio.new_event_loop()

    async def serve():
        nonlocal stop
        stop = asyncio.Event()
        client = await connect()
        ready.set()
        await run_workers(client, None, stop)

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), name="test-workers", daemon=True)
    thread.start()
    assert ready.wait(30), "workers did not connect to Temporal"
    yield
    loop.call_soon_threadsafe(stop.set)
    thread.join(60)


@pytest.fixture(scope="module")
async def running_workers(temporal_client):
    """All six workers, run exactly as `manage.py runworkers` runs them, for one test module."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_workers(temporal_client, None, stop))
    yield
    stop.set()
    await task
