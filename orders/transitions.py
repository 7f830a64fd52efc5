"""The order's status rules, pure (the order workflow imports this): the one transition table
(orders.contracts.ORDER_TRANSITIONS) with a reason for every refusal, and the status an order's
supplier orders add up to."""

from __future__ import annotations

from collections.abc import Iterable

from orders.contracts import ORDER_TRANSITIONS, OrderStatus, SupplierOrderStage


class IllegalTransition(ValueError):
    """A move the transition table does not allow; the message says why, for staff."""

    def __init__(self, from_status: str, to_status: str) -> None:
        self.from_status, self.to_status = from_status, to_status
        super().__init__(refusal(from_status, to_status))


def refusal(from_status: str, to_status: str) -> str:
    label = OrderStatus.LABELS
    if to_status not in label:
        return f"{to_status!r} is not an order status."
    if from_status == to_status:
        return f"The order is already {label[to_status].lower()}."
    if from_status in OrderStatus.FINAL and not ORDER_TRANSITIONS.get(from_status):
        return f"The order is {label[from_status].lower()}: it cannot change any more."
    allowed = ORDER_TRANSITIONS.get(from_status, ())
    if not allowed:
        return f"An order that is {label.get(from_status, from_status)} cannot change any more."
    names = ", ".join(label[status].lower() for status in allowed)
    return (f"An order that is {label[from_status].lower()} cannot become {label[to_status].lower()}"
            f" (only: {names}).")


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in ORDER_TRANSITIONS.get(from_status, ())


def check_move(from_status: str, to_status: str) -> None:
    """Raise IllegalTransition unless the table allows `from_status` -> `to_status`."""
    if not can_move(from_status, to_status):
        raise IllegalTransition(from_status, to_status)


def status_of_shipments(stages: Iterable[str]) -> str | None:
    """What the supplier orders' stages add up to: all delivered -> delivered, all shipped (or
    beyond) -> shipped, some shipped -> partially shipped; None while nothing has shipped.
    Cancelled supplier orders are left out (a cancelled order never asks)."""
    live = [stage for stage in stages if stage != SupplierOrderStage.CANCELLED]
    if not live:
        return None
    shipped = [stage for stage in live if stage in (SupplierOrderStage.SHIPPED, SupplierOrderStage.DELIVERED)]
    if len(shipped) == len(live):
        if all(stage == SupplierOrderStage.DELIVERED for stage in live):
            return OrderStatus.DELIVERED
        return OrderStatus.SHIPPED
    return OrderStatus.PARTIALLY_SHIPPED if shipped else None
