"""The order's status rules (orders/transitions.py): the one transition table, a reason for every
refusal, and what the supplier orders' stages add up to."""

import pytest

from orders.contracts import ORDER_TRANSITIONS, OrderStatus, SupplierOrderStage
from orders.transitions import IllegalTransition, can_move, check_move, refusal, status_of_shipments

S = OrderStatus
STAGE = SupplierOrderStage


@pytest.mark.parametrize("from_status,to_status", [
    (S.PLACED, S.AWAITING_APPROVAL), (S.PLACED, S.PROCESSING), (S.PLACED, S.CANCELLED),
    (S.AWAITING_APPROVAL, S.PROCESSING), (S.AWAITING_APPROVAL, S.CANCELLED),
    (S.PROCESSING, S.PARTIALLY_SHIPPED), (S.PROCESSING, S.SHIPPED), (S.PROCESSING, S.CANCELLED),
    (S.PARTIALLY_SHIPPED, S.SHIPPED), (S.SHIPPED, S.DELIVERED), (S.SHIPPED, S.REFUNDED), (S.DELIVERED, S.REFUNDED),
])
def test_the_table_allows_each_legal_move(from_status, to_status):
    assert can_move(from_status, to_status)
    check_move(from_status, to_status)


def test_every_move_outside_the_table_is_refused_with_a_reason():
    for from_status in S.ALL:
        for to_status in S.ALL:
            if to_status in ORDER_TRANSITIONS[from_status]:
                continue
            assert not can_move(from_status, to_status)
            with pytest.raises(IllegalTransition) as refused:
                check_move(from_status, to_status)
            assert (refused.value.from_status, refused.value.to_status) == (from_status, to_status)
            assert str(refused.value) == refusal(from_status, to_status) and str(refused.value).endswith(".")


def test_the_reasons_say_why_in_words_staff_read():
    assert refusal(S.PROCESSING, S.PROCESSING) == "The order is already processing."
    assert refusal(S.CANCELLED, S.PROCESSING) == "The order is cancelled: it cannot change any more."
    assert refusal(S.REFUNDED, S.DELIVERED) == "The order is refunded: it cannot change any more."
    assert refusal(S.SHIPPED, S.CANCELLED) == ("An order that is shipped cannot become cancelled "
                                               "(only: delivered, refunded).")
    assert refusal(S.PARTIALLY_SHIPPED, S.REFUNDED) == ("An order that is partially shipped cannot become "
                                                        "refunded (only: shipped).")
    assert refusal(S.PROCESSING, "lost") == "'lost' is not an order status."


def test_unknown_statuses_are_never_a_legal_move():
    assert not can_move("lost", S.PROCESSING) and not can_move(S.PROCESSING, "lost")
    with pytest.raises(IllegalTransition):
        check_move("", S.PLACED)


@pytest.mark.parametrize("stages,status", [
    ((), None),
    ((STAGE.PENDING, STAGE.ACCEPTED), None),
    ((STAGE.PACKED,), None),
    ((STAGE.SHIPPED, STAGE.PACKED), S.PARTIALLY_SHIPPED),
    ((STAGE.DELIVERED, STAGE.PENDING), S.PARTIALLY_SHIPPED),
    ((STAGE.SHIPPED, STAGE.SHIPPED), S.SHIPPED),
    ((STAGE.DELIVERED, STAGE.SHIPPED), S.SHIPPED),
    ((STAGE.DELIVERED, STAGE.DELIVERED), S.DELIVERED),
    ((STAGE.DELIVERED, STAGE.CANCELLED), S.DELIVERED),
    ((STAGE.SHIPPED, STAGE.CANCELLED), S.SHIPPED),
    ((STAGE.CANCELLED, STAGE.CANCELLED), None),
])
def test_the_supplier_orders_stages_add_up_to_the_orders_status(stages, status):
    assert status_of_shipments(stages) == status
    assert status_of_shipments(iter(stages)) == status  # any iterable, read once
