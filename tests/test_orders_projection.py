"""The order workflow's record against the real Cassandra and Elasticsearch: history, status columns,
shipments and both indices written, idempotent, never moved back by an older version, and rebuilt
from Cassandra by `reindex`."""

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from elasticsearch import NotFoundError

from commerce.cassandra import session, table
from commerce.search import es, index_name
from orders import history, projection, store
from orders.contracts import (
    FulfillmentStrategy,
    OrderDetail,
    OrderRecord,
    OrderStatus,
    PaymentEntry,
    SupplierOrderPlan,
    SupplierOrderStage,
    SupplierOrderState,
    Transition,
    supplier_order_id,
)
from tests.test_orders_store import make_order, random_order_number

pytestmark = pytest.mark.usefixtures("cassandra_schema", "search_indices")

PLACED_AT = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)


def _at(minutes: int) -> str:
    return (PLACED_AT + timedelta(minutes=minutes)).isoformat()


def _plans(order) -> tuple[SupplierOrderPlan, ...]:
    number, total = order.order_number, order.totals.total_cents
    return (SupplierOrderPlan(supplier_order_id(number, 1), 1, "heron-warehouse", "Heron Warehouse",
                              FulfillmentStrategy.SIMULATED, (0,), total - 1250),
            SupplierOrderPlan(supplier_order_id(number, 2), 2, "saltmarsh-workshop", "Saltmarsh Workshop",
                              FulfillmentStrategy.MANUAL, (1,), 1250))


def placed(email: str = "Ada.Shopper@Example.com"):
    order = make_order(email=email, placed_at=PLACED_AT)
    store.write_order(order)
    return order


def detail_at(order, version: int, status: str, stages: tuple[str, str], captured: int = 0, hold: str = "",
              history_rows: tuple[Transition, ...] = ()) -> OrderDetail:
    states = tuple(
        SupplierOrderState(plan=plan, stage=stage, updated_at=_at(version),
                           tracking_number=f"HRN{version:012d}" if stage == SupplierOrderStage.SHIPPED else "",
                           carrier="Heron Post" if stage == SupplierOrderStage.SHIPPED else "")
        for plan, stage in zip(_plans(order), stages, strict=True))
    return OrderDetail(order=order, status=status, supplier_orders=states, captured_cents=captured,
                       authorized_cents=order.totals.total_cents, authorization_key=order.payment_authorization_key,
                       payments=(PaymentEntry("capture", "k", order.payment_authorization_key, captured, "captured",
                                              _at(version)),) if captured else (),
                       payment_hold_reason=hold, history=history_rows, version=version)


def _transition(seq: int, from_status: str, to_status: str, actor: str = "system", reason: str = "") -> Transition:
    return Transition(seq, _at(seq), from_status, to_status, actor, reason)


def _doc(alias: str, doc_id: str) -> dict:
    es().indices.refresh(index=index_name(alias))
    found = es().get(index=index_name(alias), id=doc_id)
    return {**found["_source"], "_version": found["_version"]}


def _customer_row(order) -> dict:
    return session().execute(
        f"SELECT status, status_version FROM {table('orders_by_customer')} WHERE email = %s AND placed_at = %s"
        " AND order_number = %s", [store.normalize_email(order.email), store.placed_at_datetime(order.placed_at),
                                    order.order_number]).one()


def _status_version(order) -> int | None:
    return session().execute(f"SELECT status_version FROM {table('orders')} WHERE order_number = %s",
                             [order.order_number]).one()["status_version"]


def test_a_record_writes_the_transition_status_shipments_and_both_documents():
    order = placed(email=f"Ada.{random_order_number()[3:]}@Example.com")
    first = _transition(1, "", OrderStatus.PLACED, "checkout")
    moved = _transition(2, OrderStatus.PLACED, OrderStatus.PROCESSING)
    projection.record(OrderRecord(detail_at(order, 1, OrderStatus.PLACED, ("pending", "pending")), first))
    detail = detail_at(order, 2, OrderStatus.PROCESSING, (SupplierOrderStage.ACCEPTED, SupplierOrderStage.ACCEPTED),
                       history_rows=(first, moved))

    projection.record(OrderRecord(detail, moved))

    number = order.order_number
    assert [(t.seq, t.from_status, t.to_status, t.actor) for t in history.read_history(number)] == [
        (1, "", OrderStatus.PLACED, "checkout"), (2, OrderStatus.PLACED, OrderStatus.PROCESSING, "system")]
    assert store.read_order(number).status == OrderStatus.PROCESSING and _status_version(order) == 2
    assert _customer_row(order) == {"status": OrderStatus.PROCESSING, "status_version": 2}
    assert [o.status for o in store.orders_for_email(order.email.upper())] == [OrderStatus.PROCESSING]
    shipments = history.read_shipments(number)
    assert [(s.plan.supplier_order_id, s.stage, s.plan.amount_cents) for s in shipments] == [
        (p.supplier_order_id, SupplierOrderStage.ACCEPTED, p.amount_cents) for p in _plans(order)]

    doc = _doc("orders", number)
    assert doc["_version"] == 2 and doc["version"] == 2
    assert doc == {**projection.order_source(detail), "_version": 2}
    assert (doc["status"], doc["email"], doc["customer_name"]) == (OrderStatus.PROCESSING, order.email.lower(),
                                                                   "Ada Shopper")
    assert (doc["total_cents"], doc["item_count"]) == (order.totals.total_cents, 3)
    assert doc["suppliers"] == ["heron-warehouse", "saltmarsh-workshop"]
    assert doc["supplier_order_stages"] == [SupplierOrderStage.ACCEPTED, SupplierOrderStage.ACCEPTED]
    assert doc["needs_approval"] is False and doc["payment_hold"] is False
    assert datetime.fromisoformat(doc["placed_at"]) == PLACED_AT
    assert datetime.fromisoformat(doc["updated_at"]) == PLACED_AT + timedelta(minutes=2)
    for plan in _plans(order):
        so = _doc("supplier_orders", plan.supplier_order_id)
        assert (so["order_number"], so["supplier_id"], so["strategy"], so["stage"], so["amount_cents"], so["version"]) \
            == (number, plan.supplier_id, plan.strategy, SupplierOrderStage.ACCEPTED, plan.amount_cents, 2)


def test_the_same_record_twice_writes_the_same_state_once():
    order = placed()
    transition = _transition(1, "", OrderStatus.PLACED, "checkout")
    record = OrderRecord(detail_at(order, 1, OrderStatus.PLACED, ("pending", "pending")), transition)

    projection.record(record)
    projection.record(record)  # the activity retried

    assert len(history.read_history(order.order_number)) == 1
    assert _doc("orders", order.order_number)["_version"] == 1
    assert store.read_order(order.order_number).status == OrderStatus.PLACED


def test_an_older_record_that_arrives_late_never_overwrites_a_newer_one():
    order = placed()
    number = order.order_number
    older = detail_at(order, 3, OrderStatus.PROCESSING, (SupplierOrderStage.PACKED, SupplierOrderStage.ACCEPTED))
    newer = detail_at(order, 4, OrderStatus.PARTIALLY_SHIPPED,
                      (SupplierOrderStage.SHIPPED, SupplierOrderStage.ACCEPTED),
                      captured=order.totals.total_cents - 1250)

    projection.record(OrderRecord(newer, _transition(3, OrderStatus.PROCESSING, OrderStatus.PARTIALLY_SHIPPED)))
    projection.record(OrderRecord(older))  # a retry of version 3 that woke up after version 4

    assert store.read_order(number).status == OrderStatus.PARTIALLY_SHIPPED and _status_version(order) == 4
    assert _customer_row(order) == {"status": OrderStatus.PARTIALLY_SHIPPED, "status_version": 4}
    assert [s.stage for s in history.read_shipments(number)] == [SupplierOrderStage.SHIPPED,
                                                                 SupplierOrderStage.ACCEPTED]
    doc = _doc("orders", number)
    assert (doc["status"], doc["version"], doc["_version"]) == (OrderStatus.PARTIALLY_SHIPPED, 4, 4)
    assert doc["captured_cents"] == order.totals.total_cents - 1250
    first = _doc("supplier_orders", supplier_order_id(number, 1))
    assert (first["stage"], first["tracking_number"], first["version"]) == (SupplierOrderStage.SHIPPED,
                                                                            f"HRN{4:012d}", 4)


def test_a_status_is_never_written_to_an_order_that_was_not_placed():
    order = make_order()  # never written

    assert store.set_status(order.order_number, OrderStatus.PROCESSING, 2, email=order.email,
                            placed_at=order.placed_at) is False

    assert store.read_order(order.order_number) is None
    assert _customer_row(order) is None
    with pytest.raises(ValueError):
        store.set_status(order.order_number, "lost", 2, email=order.email, placed_at=order.placed_at)


def test_awaiting_approval_and_a_payment_hold_are_flags_of_the_document():
    order = placed()

    projection.record(OrderRecord(detail_at(order, 2, OrderStatus.AWAITING_APPROVAL, ("pending", "pending"),
                                            hold="The payment could not be re-authorized")))

    doc = _doc("orders", order.order_number)
    assert doc["needs_approval"] is True and doc["payment_hold"] is True


def test_rebuild_orders_rebuilds_both_indices_from_cassandra_and_keeps_the_versions():
    order = placed(email=f"Rebuild.{random_order_number()[3:]}@Example.com")
    number = order.order_number
    detail = detail_at(order, 5, OrderStatus.SHIPPED, (SupplierOrderStage.SHIPPED, SupplierOrderStage.DELIVERED),
                       captured=order.totals.total_cents)
    projection.record(OrderRecord(detail, _transition(4, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED)))
    # An index that lost the order (or a fresh cluster): only Cassandra knows it now.
    es().delete(index=index_name("orders"), id=number, refresh=True)
    es().delete(index=index_name("supplier_orders"), id=supplier_order_id(number, 2), refresh=True)

    summaries = projection.rebuild_orders(io.StringIO())

    assert [s.alias for s in summaries] == [index_name("orders"), index_name("supplier_orders")]
    doc = _doc("orders", number)
    rebuilt = projection.order_source(replace(detail, captured_cents=0))
    assert {key: doc[key] for key in rebuilt if key != "updated_at"} == {
        key: value for key, value in rebuilt.items() if key != "updated_at"}
    assert doc["_version"] == 5
    second = _doc("supplier_orders", supplier_order_id(number, 2))
    assert (second["stage"], second["version"], second["_version"]) == (SupplierOrderStage.DELIVERED, 5, 5)
    assert datetime.fromisoformat(second["placed_at"]) == PLACED_AT

    # The rebuilt documents keep their versions: a late retry of an older record is still refused.
    projection.record(OrderRecord(detail_at(order, 3, OrderStatus.PROCESSING, ("packed", "accepted"))))
    assert _doc("orders", number)["status"] == OrderStatus.SHIPPED
    assert _doc("supplier_orders", supplier_order_id(number, 2))["stage"] == SupplierOrderStage.DELIVERED


def test_a_rebuild_carries_the_payment_totals_over_from_the_index_it_replaces():
    order = placed()
    detail = detail_at(order, 6, OrderStatus.SHIPPED, (SupplierOrderStage.SHIPPED, SupplierOrderStage.SHIPPED),
                       captured=order.totals.total_cents, hold="held")
    projection.record(OrderRecord(detail))

    projection.rebuild_orders(io.StringIO(), "orders")

    doc = _doc("orders", order.order_number)
    assert (doc["captured_cents"], doc["payment_hold"], doc["version"]) == (order.totals.total_cents, True, 6)


def test_reindex_rebuilds_the_order_indices_and_all_includes_them():
    order = placed()
    projection.record(OrderRecord(detail_at(order, 1, OrderStatus.PLACED, ("pending", "pending"))))
    es().delete(index=index_name("orders"), id=order.order_number, refresh=True)
    with pytest.raises(NotFoundError):
        es().get(index=index_name("orders"), id=order.order_number)
    out, err = io.StringIO(), io.StringIO()

    call_command("reindex", "orders", stdout=out, stderr=err)

    assert out.getvalue().startswith(f"{index_name('orders')}: ") and "documents in" in out.getvalue()
    assert f"indexing {index_name('orders')}" in err.getvalue()
    assert _doc("orders", order.order_number)["status"] == OrderStatus.PLACED

    out = io.StringIO()
    call_command("reindex", "supplier_orders", stdout=out, stderr=io.StringIO())
    assert [line.split(":")[0] for line in out.getvalue().splitlines()] == [index_name("supplier_orders")]


def test_reindex_all_rebuilds_the_catalog_and_the_orders(catalog):
    out = io.StringIO()

    call_command("reindex", stdout=out, stderr=io.StringIO())

    aliases = sorted(line.split(":")[0] for line in out.getvalue().splitlines())
    assert aliases == sorted(index_name(name) for name in ("collections", "products", "orders", "supplier_orders"))
