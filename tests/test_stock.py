"""Stock and reservations against the real Cassandra: every operation idempotent, nothing oversold."""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from inventory import stock
from inventory.contracts import ReservationStatus
from tests.stock_helpers import fresh_sku, levels

pytestmark = pytest.mark.usefixtures("cassandra_schema")


def _later(minutes: int = 15) -> datetime:
    return datetime.now(timezone.utc) + timedelta(minutes=minutes)


def test_a_hold_reserves_units_and_repeating_it_changes_nothing():
    sku = fresh_sku(7)

    stock.hold(f"{sku}-1", sku, 3, _later())
    stock.hold(f"{sku}-1", sku, 3, _later())

    assert levels(sku) == (7, 3, {f"{sku}-1": 3})


def test_a_hold_can_grow_and_shrink():
    sku = fresh_sku(7)
    stock.hold(f"{sku}-1", sku, 2, _later())

    stock.hold(f"{sku}-1", sku, 6, _later())
    assert levels(sku)[1] == 6
    stock.hold(f"{sku}-1", sku, 1, _later())
    assert levels(sku) == (7, 1, {f"{sku}-1": 1})


def test_a_hold_beyond_what_is_left_is_refused_and_changes_nothing():
    sku = fresh_sku(5)
    stock.hold(f"{sku}-1", sku, 4, _later())

    with pytest.raises(stock.OutOfStock, match="only 1 left") as refusal:
        stock.hold(f"{sku}-2", sku, 2, _later())

    assert refusal.value.available == 1
    assert levels(sku) == (5, 4, {f"{sku}-1": 4})


def test_an_unknown_sku_is_refused():
    with pytest.raises(stock.UnknownSku):
        stock.hold("r-x", "NO-SUCH-SKU-123", 1, _later())


def test_release_gives_units_back_once():
    sku = fresh_sku(3)
    stock.hold(f"{sku}-1", sku, 2, _later())

    assert stock.release(f"{sku}-1") is True
    assert stock.release(f"{sku}-1") is False
    assert levels(sku) == (3, 0, {})


def test_confirm_then_commit_takes_units_off_the_shelf_once():
    sku = fresh_sku(5)
    stock.hold(f"{sku}-1", sku, 2, _later())

    stock.confirm(f"{sku}-1")
    stock.confirm(f"{sku}-1")
    stock.commit(f"{sku}-1")
    stock.commit(f"{sku}-1")

    assert levels(sku) == (3, 0, {})
    assert stock.reservation(f"{sku}-1")["status"] == ReservationStatus.COMMITTED


def test_a_released_hold_cannot_be_confirmed():
    sku = fresh_sku(5)
    stock.hold(f"{sku}-1", sku, 2, _later())
    stock.release(f"{sku}-1")

    with pytest.raises(stock.HoldNotActive, match="released"):
        stock.confirm(f"{sku}-1")
    assert levels(sku) == (5, 0, {})


def test_a_confirmed_hold_does_not_expire():
    sku = fresh_sku(5)
    stock.hold(f"{sku}-1", sku, 2, _later(-1))
    stock.confirm(f"{sku}-1")

    stock.sweep_expired(datetime.now(timezone.utc))

    assert levels(sku) == (5, 2, {f"{sku}-1": 2})


def test_the_sweep_releases_expired_holds_and_keeps_live_ones():
    sku = fresh_sku(10)
    now = datetime.now(timezone.utc)
    stock.hold(f"{sku}-old", sku, 3, now - timedelta(seconds=1))
    stock.hold(f"{sku}-new", sku, 2, now + timedelta(minutes=10))

    changed = stock.sweep_expired(now)

    assert sku in changed
    assert levels(sku) == (10, 2, {f"{sku}-new": 2})
    assert stock.reservation(f"{sku}-old")["status"] == ReservationStatus.RELEASED


def test_renewing_moves_the_expiry_and_is_refused_once_released():
    sku = fresh_sku(4)
    now = datetime.now(timezone.utc)
    stock.hold(f"{sku}-1", sku, 1, now + timedelta(seconds=1))

    stock.renew(f"{sku}-1", now + timedelta(hours=1))
    stock.sweep_expired(now + timedelta(minutes=5))
    assert levels(sku)[1] == 1

    stock.release(f"{sku}-1")
    with pytest.raises(stock.HoldNotActive):
        stock.renew(f"{sku}-1", now + timedelta(hours=2))


def test_restock_adds_units_and_never_drops_below_what_is_reserved():
    sku = fresh_sku(2)
    stock.hold(f"{sku}-1", sku, 2, _later())

    stock.restock(sku, "heron-warehouse", 5)
    assert levels(sku)[0] == 7
    with pytest.raises(stock.OutOfStock):
        stock.restock(sku, "heron-warehouse", -6)
    assert levels(sku)[0] == 7


@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_threads_racing_for_scarce_stock_never_oversell(attempt):
    sku = fresh_sku(7)

    def take(index: int) -> bool:
        try:
            stock.hold(f"{sku}-{index}", sku, 1, _later())
            return True
        except stock.OutOfStock:
            return False

    with ThreadPoolExecutor(max_workers=25) as pool:
        outcomes = list(pool.map(take, range(50)))

    on_hand, reserved, holds = levels(sku)
    assert outcomes.count(True) == 7 and outcomes.count(False) == 43
    assert (on_hand, reserved, len(holds)) == (7, 7, 7)
