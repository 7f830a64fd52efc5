"""Guest orders join a shopper's account after the email is verified (orders.store.link_guest_orders,
the `LinkGuestOrders` workflow), and a shopper's order list holds their orders only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.worker import Replayer

from orders import services, store
from orders.contracts import TASK_QUEUE, LinkOrdersRequest, OrderWorkflows, link_orders_workflow_id
from orders.workflows import LinkGuestOrdersWorkflow
from tests.histories import record
from tests.test_orders_store import make_order

pytestmark = [pytest.mark.usefixtures("cassandra_schema")]


def _email() -> str:
    return f"Link.{uuid.uuid4().hex[:10]}@Example.com"


def _placed(email: str, minutes_ago: int = 0, **changes):
    order = make_order(email=email, placed_at=datetime.now(UTC) - timedelta(minutes=minutes_ago), **changes)
    store.write_order(order)
    return order


def test_linking_takes_the_guest_orders_of_the_email_once_and_never_another_shoppers():
    email = _email()
    older, newer = _placed(email, minutes_ago=5), _placed(email.lower())
    someone_elses = _placed(email, minutes_ago=2, customer_id="other-shopper")
    other_email = _placed(_email())

    assert store.link_guest_orders("shopper-1", email) == 2
    assert store.link_guest_orders("shopper-1", email) == 0  # idempotent

    assert store.read_order(older.order_number).customer_id == "shopper-1"
    assert store.read_order(newer.order_number).customer_id == "shopper-1"
    assert store.read_order(someone_elses.order_number).customer_id == "other-shopper"
    assert store.read_order(other_email.order_number).customer_id == ""
    mine = services.shopper_orders("shopper-1", email)
    assert [order.order_number for order in mine] == [newer.order_number, older.order_number]
    assert all(services.owned_by(order, "shopper-1") for order in mine)
    assert not services.owned_by(store.read_order(someone_elses.order_number), "shopper-1")
    assert not services.owned_by(store.read_order(other_email.order_number), "")
    assert [o.order_number for o in services.shopper_orders("other-shopper", email)] == [someone_elses.order_number]
    assert services.shopper_orders("shopper-1", email, limit=1)[0].order_number == newer.order_number


def test_a_shopper_with_no_orders_or_no_email_gets_an_empty_list():
    assert services.shopper_orders("shopper-x", _email()) == []
    assert services.shopper_orders("", _email()) == []
    assert services.shopper_orders("shopper-x", "") == []


async def test_the_linking_workflow_links_and_a_second_run_is_harmless(temporal_client, running_workers):
    email = _email()
    order = _placed(email)
    request = LinkOrdersRequest(shopper_id=f"s-{uuid.uuid4().hex[:8]}", email=email.lower())

    async def run():
        handle = await temporal_client.start_workflow(
            OrderWorkflows.LINK_GUEST_ORDERS, request, id=link_orders_workflow_id(request.shopper_id),
            task_queue=TASK_QUEUE, result_type=int, id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
        return handle, await handle.result()

    handle, linked = await run()
    assert linked == 1
    assert (await run())[1] == 0
    assert store.read_order(order.order_number).customer_id == request.shopper_id
    # Its history replays against today's code (RECORD_HISTORIES=1 saves it for tests/test_replay.py).
    history = await record(handle, "link_guest_orders")
    replay = await Replayer(workflows=[LinkGuestOrdersWorkflow]).replay_workflow(history,
                                                                                  raise_on_replay_failure=False)
    assert replay.replay_failure is None
