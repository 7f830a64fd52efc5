"""The order workflow's read projections: what the record activity writes after every change, and
how the `orders` and `supplier_orders` indices are rebuilt from Cassandra.

`record` is called by the RECORD activity, which Temporal may run more than once and whose attempts
may arrive out of order (a retry after a timeout can wake up after a newer record). Every write is
idempotent and none moves an order back:

1. the transition (if any) goes to `order_status_history` under its sequence number (a retry
   rewrites the same row);
2. the status goes to `orders` and `orders_by_customer`, conditioned on the row's `status_version`
   (`orders.store.set_status`);
3. each supplier order goes to `order_shipments`, conditioned on its row's version
   (`orders.history.write_shipments`);
4. the order and each supplier order are indexed with the order's version as Elasticsearch's
   external version (`external_gte`): an older version is refused by Elasticsearch, which here
   means a newer state is indexed already, so the refusal is success.

Cassandra is written before Elasticsearch, so a rebuild from Cassandra never loses a recorded state.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TextIO

from cassandra.query import SimpleStatement
from elasticsearch import ConflictError, NotFoundError
from elasticsearch.helpers import scan

from commerce.cassandra import session, table
from commerce.search import RebuildSummary, concrete_indices, ensure_index, es, rebuild_from_actions
from orders import history, store
from orders.contracts import OrderDetail, OrderRecord, OrderStatus, SupplierOrderPlan, SupplierOrderState
from orders.documents import OrderDocument, SupplierOrderDocument

logger = logging.getLogger(__name__)

REBUILD_TARGETS = ("orders", "supplier_orders", "all")
FETCH_SIZE = 1000
# Fields of an order document that Cassandra does not keep (the workflow and this index hold them):
# a rebuild carries them over from the index it replaces.
CARRIED_OVER = ("captured_cents", "refunded_cents", "payment_hold")


def record(record: OrderRecord) -> None:
    """Write one recorded state of an order to its history, status columns, shipments and indices."""
    detail = record.detail
    number = detail.order.order_number
    if record.transition is not None:
        history.write_transition(number, record.transition)
    store.set_status(number, detail.status, detail.version, email=detail.order.email,
                     placed_at=detail.order.placed_at)
    history.write_shipments(number, detail.supplier_orders, detail.version)
    index_detail(detail)


def index_detail(detail: OrderDetail) -> None:
    """Index the order and its supplier orders as of `detail.version` (never over a newer one)."""
    _index(OrderDocument, order_source(detail), detail.version)
    for source in supplier_order_sources(detail):
        _index(SupplierOrderDocument, source, detail.version)


def _index(document, source: dict, version: int) -> None:
    alias = document._index._name
    for attempt in range(2):
        try:
            # require_alias: a missing index is never auto-created under the alias's name.
            es().index(index=alias, id=document.generate_id(source), document=source, version=version,
                       version_type="external_gte", require_alias=True)
            return
        except ConflictError:
            return  # a newer version of the order is indexed already: nothing to do
        except NotFoundError:
            if attempt:
                raise
            logger.warning("index %s is missing: creating it (run `manage.py create_indices` on deploy)", alias)
            ensure_index(document)


# -- documents ------------------------------------------------------------------------------------

def _instant(iso: str) -> datetime | None:
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _updated_at(detail: OrderDetail) -> datetime | None:
    """When the order last changed: the latest moment it knows of."""
    moments = [detail.order.placed_at, *(t.at for t in detail.history), *(s.updated_at for s in detail.supplier_orders),
               *(n.at for n in detail.notes), *(p.at for p in detail.payments)]
    found = [moment for moment in map(_instant, moments) if moment is not None]
    return max(found) if found else None


def _order_source(order_number: str, status: str, email: str, customer_name: str, placed_at: datetime | None,
                  updated_at: datetime | None, total_cents: int, item_count: int,
                  supplier_orders: list[tuple[int, str, str]], version: int, captured_cents: int = 0,
                  refunded_cents: int = 0, payment_hold: bool = False) -> dict:
    """supplier_orders: (index, supplier_id, stage) of each."""
    ordered = sorted(supplier_orders)
    return {
        "order_number": order_number,
        "status": status,
        "email": email.strip().lower(),
        "customer_name": customer_name,
        "placed_at": _iso(placed_at),
        "updated_at": _iso(updated_at or placed_at),
        "total_cents": total_cents,
        "item_count": item_count,
        "suppliers": list(dict.fromkeys(supplier_id for _, supplier_id, _ in ordered if supplier_id)),
        "supplier_order_stages": [stage for _, _, stage in ordered],
        "needs_approval": status == OrderStatus.AWAITING_APPROVAL,
        "payment_hold": bool(payment_hold),
        "captured_cents": captured_cents,
        "refunded_cents": refunded_cents,
        "version": version,
    }


def order_source(detail: OrderDetail) -> dict:
    """The `orders` document of an order as its workflow sees it."""
    order = detail.order
    return _order_source(
        order.order_number, detail.status, order.email, order.shipping_address.full_name,
        _instant(order.placed_at), _updated_at(detail), order.totals.total_cents,
        sum(line.quantity for line in order.lines),
        [(s.plan.index, s.plan.supplier_id, s.stage) for s in detail.supplier_orders], detail.version,
        captured_cents=detail.captured_cents, refunded_cents=detail.refunded_cents,
        payment_hold=bool(detail.payment_hold_reason))


def _supplier_order_source(order_number: str, state: SupplierOrderState, placed_at: datetime | None,
                           version: int) -> dict:
    plan = state.plan
    return {
        "supplier_order_id": plan.supplier_order_id,
        "order_number": order_number,
        "supplier_id": plan.supplier_id,
        "supplier_name": plan.supplier_name,
        "strategy": plan.strategy,
        "stage": state.stage,
        "tracking_number": state.tracking_number,
        "amount_cents": plan.amount_cents,
        "updated_at": _iso(_instant(state.updated_at) or placed_at),
        "placed_at": _iso(placed_at),
        "version": version,
    }


def supplier_order_sources(detail: OrderDetail) -> list[dict]:
    """The `supplier_orders` documents of an order as its workflow sees it."""
    placed_at = _instant(detail.order.placed_at)
    return [_supplier_order_source(detail.order.order_number, state, placed_at, detail.version)
            for state in detail.supplier_orders]


# -- rebuild from Cassandra ---------------------------------------------------------------------------

def _shipment_rows() -> dict[str, list[tuple[SupplierOrderState, int]]]:
    """Every supplier order, by order number: (state, the version that wrote it)."""
    statement = SimpleStatement(
        "SELECT order_number, supplier_order_id, supplier_index, supplier_id, supplier_name, strategy, line_indexes,"
        f" amount_cents, stage, tracking_number, carrier, updated_at, version FROM {table('order_shipments')}",
        fetch_size=FETCH_SIZE)
    found: dict[str, list[tuple[SupplierOrderState, int]]] = defaultdict(list)
    for row in session().execute(statement):
        plan = SupplierOrderPlan(row["supplier_order_id"], row["supplier_index"] or 0, row["supplier_id"] or "",
                                 row["supplier_name"] or "", row["strategy"] or "", tuple(row["line_indexes"] or ()),
                                 row["amount_cents"] or 0)
        updated_at = row["updated_at"]
        state = SupplierOrderState(plan=plan, stage=row["stage"] or "", tracking_number=row["tracking_number"] or "",
                                   carrier=row["carrier"] or "",
                                   updated_at=updated_at.replace(tzinfo=UTC).isoformat() if updated_at else "")
        found[row["order_number"]].append((state, row["version"] or 0))
    for states in found.values():
        states.sort(key=lambda item: item[0].plan.index)
    return found


def _indexed_orders() -> dict[str, dict]:
    """The carried-over fields of every order in the current `orders` index (none when it is missing)."""
    alias = OrderDocument._index._name
    if not concrete_indices(alias):
        return {}
    es().indices.refresh(index=alias)  # what was recorded a moment ago, too
    return {hit["_id"]: {key: hit["_source"].get(key) for key in CARRIED_OVER}
            for hit in scan(es(), index=alias, _source=list(CARRIED_OVER), size=FETCH_SIZE)}


def _orders_from_cassandra(shipments: dict, carried: dict[str, dict]) -> Iterator[tuple[dict, int]]:
    for stored in store.iter_stored_orders(FETCH_SIZE):
        order = stored.order
        placed_at = _instant(order.placed_at)
        states = shipments.get(order.order_number, [])
        version = max([stored.status_version, *(version for _, version in states)])
        updated = [moment for moment in (_instant(state.updated_at) for state, _ in states) if moment]
        extra = carried.get(order.order_number, {})
        source = _order_source(
            order.order_number, stored.status, order.email, order.shipping_address.full_name, placed_at,
            max([placed_at, *updated]) if placed_at else None, order.totals.total_cents,
            sum(line.quantity for line in order.lines),
            [(state.plan.index, state.plan.supplier_id, state.stage) for state, _ in states], version,
            captured_cents=int(extra.get("captured_cents") or 0), refunded_cents=int(extra.get("refunded_cents") or 0),
            payment_hold=bool(extra.get("payment_hold")))
        yield source, version


def _supplier_orders_from_cassandra(shipments: dict) -> Iterator[tuple[dict, int]]:
    statement = SimpleStatement(f"SELECT order_number, placed_at FROM {table('orders')}", fetch_size=FETCH_SIZE)
    placed = {row["order_number"]: row["placed_at"].replace(tzinfo=UTC) if row["placed_at"] else None
              for row in session().execute(statement)}
    for number, states in shipments.items():
        for state, version in states:
            yield _supplier_order_source(number, state, placed.get(number), version), version


def rebuild_versioned(document, sources: Iterable[tuple[dict, int]], total: int, stream: TextIO | None = None,
                      chunk_size: int = 500) -> RebuildSummary:
    """`commerce.search.rebuild`, with each document's external version kept: a record that arrives
    after the rebuild must still be refused when it is older than what was rebuilt."""
    def actions(index: str) -> Iterator[dict]:
        for source, version in sources:
            yield {"_index": index, "_id": document.generate_id(source), "_source": source,
                   "_version": version, "_version_type": "external_gte"}

    return rebuild_from_actions(document, actions, total, stream, chunk_size)


def rebuild_orders(stream: TextIO | None = None, target: str = "all") -> list[RebuildSummary]:
    """Rebuild the `orders` and/or `supplier_orders` index from Cassandra (`orders` and
    `order_shipments`), with a progress bar on `stream`. Cassandra keeps no money totals or payment
    hold: those are carried over from the `orders` index being replaced (zero when there is none);
    the next record of a live order writes them afresh."""
    if target not in REBUILD_TARGETS:
        raise ValueError(f"unknown target {target!r}; choose from {', '.join(REBUILD_TARGETS)}")
    shipments = _shipment_rows()
    summaries = []
    if target in ("orders", "all"):
        summaries.append(rebuild_versioned(OrderDocument, _orders_from_cassandra(shipments, _indexed_orders()),
                                           store.count_orders(), stream))
    if target in ("supplier_orders", "all"):
        total = sum(len(states) for states in shipments.values())
        summaries.append(rebuild_versioned(SupplierOrderDocument, _supplier_orders_from_cassandra(shipments), total,
                                           stream))
    return summaries
