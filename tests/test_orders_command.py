"""`manage.py orders` against the real stores: the list as a table, an order as a block, and bad input
refused with a clear message, changing nothing."""

import asyncio
import io
import socket
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from django.core.management import CommandError, call_command

from commerce.search import es, index_name
from commerce.temporal import connect
from orders import history, projection, staff
from orders import store as order_store
from orders.contracts import (
    FulfillmentStrategy,
    Note,
    OrderDetail,
    OrderRecord,
    OrderStatus,
    OrderWorkflows,
    PaymentEntry,
    SupplierOrderPlan,
    SupplierOrderStage,
    SupplierOrderState,
    Transition,
    order_workflow_id,
    supplier_order_id,
)
from orders.numbers import new_order_number
from tests.stock_helpers import fresh_sku
from tests.test_ops_store_down import address_env, manage, one_line_naming
from tests.test_orders_staff import start_order, until
from tests.test_orders_store import make_order

pytestmark = pytest.mark.usefixtures("cassandra_schema", "search_indices")


def run(*args) -> str:
    out = io.StringIO()
    call_command("orders", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def unknown_number() -> str:
    return new_order_number(uuid.uuid4().int >> 78)


@pytest.fixture
def recorded():
    """An order placed and recorded as shipped, its workflow gone: what Cassandra and the index keep."""
    order = make_order(email=f"Cmd.{uuid.uuid4().hex[:8]}@Example.com")
    order_store.write_order(order)
    number, at = order.order_number, datetime.now(UTC)
    plan = SupplierOrderPlan(supplier_order_id(number, 1), 1, "heron-warehouse", "Heron Warehouse",
                             FulfillmentStrategy.SIMULATED, (0, 1), order.totals.total_cents)
    transitions = (Transition(1, at.isoformat(), "", OrderStatus.PLACED, "checkout"),
                   Transition(2, (at + timedelta(seconds=1)).isoformat(), OrderStatus.PLACED, OrderStatus.PROCESSING,
                              "system"),
                   Transition(3, (at + timedelta(seconds=2)).isoformat(), OrderStatus.PROCESSING, OrderStatus.SHIPPED,
                              "system"))
    detail = OrderDetail(
        order=order, status=OrderStatus.SHIPPED,
        supplier_orders=(SupplierOrderState(plan, SupplierOrderStage.SHIPPED, "HRN000000000042", "Heron Post",
                                            transitions[-1].at),),
        payments=(PaymentEntry("capture", "c-1", order.payment_authorization_key, order.totals.total_cents,
                               "captured", transitions[-1].at, plan.supplier_order_id),),
        captured_cents=order.totals.total_cents, notes=(Note(at.isoformat(), "staff:ada", "Gift wrap"),),
        history=transitions, version=3)
    for transition in transitions:
        projection.record(OrderRecord(detail, transition))
    es().indices.refresh(index=index_name("orders"))
    return order


def test_list_prints_a_table_of_the_newest_orders(recorded):
    out = run("list", "--query", recorded.email, "--limit", "5")

    header, row, count = out.splitlines()
    assert header.split()[:4] == ["NUMBER", "PLACED", "STATUS", "TOTAL"]
    assert row.startswith(recorded.order_number) and "Shipped" in row and "$72.45" in row and "Ada Shopper" in row
    assert count == "1 order"
    assert run("list", "--status", "cancelled", "--query", recorded.email).strip() == "No orders match."


def test_show_prints_the_order_block_from_cassandra_when_its_workflow_is_gone(recorded):
    out = run("show", recorded.order_number.lower())

    assert out.startswith(f"Order {recorded.order_number}  Shipped  (version 3)")
    for expected in ("Linen shirt", "SKU-A", "total $72.45", "Heron Warehouse", "HRN000000000042", "Supplier orders",
                     "Processing -> Shipped by system", "Payments", "History", "Allowed actions: none"):
        assert expected in out, expected
    assert "captured $72.45" in out  # the payment totals the index kept


@pytest.mark.parametrize("args, message", [
    (["show", "HC-123"], "not an order number"),
    (["show", "'; DROP TABLE orders; --"], "not an order number"),
    (["approve", "nonsense"], "not an order number"),
    (["list", "--status", "lost"], "invalid choice"),
    (["list", "--limit", "0"], "--limit"),
    (["list", "--limit", "10000000"], "--limit"),
    (["list", "--limit", "-3"], "--limit"),
    (["frobnicate", "HC-0000000000"], "invalid choice"),
    ([], "ACTION"),
])
def test_bad_input_is_refused_with_a_clear_message(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_an_unknown_number_is_not_found_by_any_action_and_nothing_is_written():
    number = unknown_number()

    for args in (["show", number], ["approve", number], ["cancel", number, "--reason", "typo"],
                 ["advance", number]):
        with pytest.raises(CommandError, match="no order"):
            run(*args)

    assert order_store.read_order(number) is None and history.read_history(number) == ()


def test_a_cancel_without_a_reason_or_with_a_long_actor_is_refused_before_it_is_sent(recorded):
    with pytest.raises(CommandError, match="--reason"):
        run("cancel", recorded.order_number)
    with pytest.raises(CommandError, match="--actor"):
        run("cancel", recorded.order_number, "--reason", "why", "--actor", "a" * 151)
    with pytest.raises(CommandError, match="action id"):
        run("approve", recorded.order_number, "--action-id", "no spaces allowed")

    assert order_store.read_order(recorded.order_number).status == OrderStatus.SHIPPED
    assert len(history.read_history(recorded.order_number)) == 3


def test_an_action_on_an_order_whose_workflow_has_ended_is_refused_as_closed(recorded):
    with pytest.raises(CommandError, match="closed"):
        run("cancel", recorded.order_number, "--reason", "Too late")

    assert order_store.read_order(recorded.order_number).status == OrderStatus.SHIPPED


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound once, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(("args", "store"), [(["list"], "elasticsearch"), (["show", "HC-0000000000"], "temporal"),
                                             (["approve", "HC-0000000000"], "temporal"),
                                             (["show", "HC-0000000000"], "cassandra")])
def test_a_store_that_is_down_is_named_in_one_line(args, store, closed_port):
    result = manage("orders", *args, env=address_env(store, closed_port))

    assert result.returncode == 1 and result.stdout == ""
    assert one_line_naming(store, closed_port).fullmatch(result.stderr.rstrip("\n")), result.stderr


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("catalog", "running_workers")
async def test_staff_show_and_approve_a_running_order_from_the_command_line(temporal_client, catalog, settings):
    settings.ORDER_APPROVAL_THRESHOLD_CENTS = 1
    settings.FULFILLMENT_MANUAL = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sku = catalog.variants[1900].sku
    await sync_to_async(fresh_sku)(10, sku=sku)
    order, _ = await start_order(temporal_client, sku)
    number = order.order_number
    await until(number, lambda d: d.status == OrderStatus.AWAITING_APPROVAL, "awaited approval")

    shown = await sync_to_async(run)("show", number)
    approved = await sync_to_async(run)("approve", number, "--actor", "staff:lin", "--action-id", "desk-1")
    again = await sync_to_async(run)("approve", number, "--actor", "staff:lin", "--action-id", "desk-1")

    assert "Awaiting approval" in shown.splitlines()[0] and "Approve by" in shown
    assert "Allowed actions: " in shown and "approve" in shown.split("Allowed actions: ")[1]
    assert approved.splitlines()[0] == f"{number} approved: now Processing"
    assert "already done with this action id" in again or again == approved
    transitions = await sync_to_async(history.read_history)(number)
    assert [(t.to_status, t.actor) for t in transitions if t.from_status == OrderStatus.AWAITING_APPROVAL] == [
        (OrderStatus.PROCESSING, "staff:lin")]


def test_an_order_whose_worker_does_not_answer_says_so_instead_of_blaming_temporal(monkeypatch):
    number = unknown_number()
    monkeypatch.setattr(staff, "QUERY_TIMEOUT", timedelta(seconds=1))

    async def start():
        client = await connect()
        # An order workflow on a queue no worker polls: Temporal is up, the order cannot answer.
        return await client.start_workflow(OrderWorkflows.ORDER, id=order_workflow_id(number),
                                           task_queue=f"nobody-{uuid.uuid4().hex}",
                                           execution_timeout=timedelta(minutes=5))

    handle = asyncio.run(start())
    try:
        with pytest.raises(CommandError, match="did not answer in time.*runworkers"):
            run("show", number)
    finally:
        asyncio.run(_terminate(handle.id))


async def _terminate(workflow_id: str) -> None:
    await (await connect()).get_workflow_handle(workflow_id).terminate("test over")
