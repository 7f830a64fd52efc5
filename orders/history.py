"""An order's status history and shipments in Cassandra (`order_status_history`, `order_shipments`):
written by the order workflow's record activity, read by the shopper's order page.

Both writes are idempotent: a history row is keyed by the transition's sequence number, and a
shipment row is changed only by a version no older than the one it holds (a retried record
activity that wakes up late cannot put a shipment back to an earlier stage).
"""

from __future__ import annotations

from datetime import UTC, datetime

from commerce.cassandra import prepare, session, table
from orders.contracts import SupplierOrderPlan, SupplierOrderState, Transition

MAX_HISTORY_ROWS = 500


def _instant(iso: str) -> datetime | None:
    if not iso:
        return None
    moment = datetime.fromisoformat(iso)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment).isoformat()


def write_transition(order_number: str, transition: Transition) -> None:
    statement = prepare(f"INSERT INTO {table('order_status_history')}"
                        " (order_number, seq, at, from_status, to_status, actor, reason) VALUES (?, ?, ?, ?, ?, ?, ?)")
    session().execute(statement, [order_number, transition.seq, _instant(transition.at), transition.from_status,
                                  transition.to_status, transition.actor, transition.reason])


def read_history(order_number: str) -> tuple[Transition, ...]:
    """The order's transitions, oldest first."""
    statement = prepare(f"SELECT seq, at, from_status, to_status, actor, reason FROM {table('order_status_history')}"
                        f" WHERE order_number = ? LIMIT {MAX_HISTORY_ROWS}")
    return tuple(Transition(row["seq"], _iso(row["at"]), row["from_status"] or "", row["to_status"] or "",
                            row["actor"] or "", row["reason"] or "")
                 for row in session().execute(statement, [order_number]))


def write_shipments(order_number: str, states: tuple[SupplierOrderState, ...], version: int) -> None:
    """Upsert each supplier order's row unless a newer version of the order already wrote it."""
    insert = prepare(
        f"INSERT INTO {table('order_shipments')} (order_number, supplier_order_id, supplier_index, supplier_id,"
        " supplier_name, strategy, line_indexes, amount_cents, stage, tracking_number, carrier, updated_at, version)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS")
    update = prepare(
        f"UPDATE {table('order_shipments')} SET stage = ?, tracking_number = ?, carrier = ?, updated_at = ?,"
        " version = ? WHERE order_number = ? AND supplier_order_id = ? IF version <= ?")
    for state in states:
        plan = state.plan
        updated_at = _instant(state.updated_at)
        inserted = session().execute(insert, [
            order_number, plan.supplier_order_id, plan.index, plan.supplier_id, plan.supplier_name, plan.strategy,
            list(plan.line_indexes), plan.amount_cents, state.stage, state.tracking_number, state.carrier,
            updated_at, version]).was_applied
        if not inserted:
            session().execute(update, [state.stage, state.tracking_number, state.carrier, updated_at, version,
                                       order_number, plan.supplier_order_id, version])


def read_shipments(order_number: str) -> tuple[SupplierOrderState, ...]:
    """The order's supplier orders, by index."""
    statement = prepare(
        "SELECT supplier_order_id, supplier_index, supplier_id, supplier_name, strategy, line_indexes, amount_cents,"
        f" stage, tracking_number, carrier, updated_at FROM {table('order_shipments')} WHERE order_number = ?")
    states = [
        SupplierOrderState(
            plan=SupplierOrderPlan(row["supplier_order_id"], row["supplier_index"] or 0, row["supplier_id"] or "",
                                   row["supplier_name"] or "", row["strategy"] or "",
                                   tuple(row["line_indexes"] or ()), row["amount_cents"] or 0),
            stage=row["stage"] or "", tracking_number=row["tracking_number"] or "", carrier=row["carrier"] or "",
            updated_at=_iso(row["updated_at"]))
        for row in session().execute(statement, [order_number])]
    return tuple(sorted(states, key=lambda state: state.plan.index))
