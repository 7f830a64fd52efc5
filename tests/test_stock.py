"""Stock and holds against the real Cassandra: every operation idempotent, nothing oversold,
a crash between the two writes of any operation recoverable, expired holds gone whole."""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from commerce.cassandra import session, table
from inventory import reservations, stock, sweeper
from inventory.contracts import ReservationStatus, StockChange
from tests.stock_helpers import SUPPLIER, fresh_sku, levels

pytestmark = pytest.mark.usefixtures("cassandra_schema")


def _now() -> datetime:
    return datetime.now(UTC)


def _later(minutes: int = 15) -> datetime:
    return _now() + timedelta(minutes=minutes)


def _change(sku: str, delta: int, command_id: str = "") -> StockChange:
    return StockChange(command_id or f"{time.time_ns():032x}"[-32:], sku, SUPPLIER, delta, "test")


def _index_row_exists(rid: str) -> bool:
    return session().execute(f"SELECT reservation_id FROM {table('inventory_reservations')}"
                             " WHERE reservation_id = %s", [rid]).one() is not None


def test_a_hold_reserves_units_and_repeating_it_changes_nothing():
    sku = fresh_sku(7)
    until = _later()

    stock.hold(f"{sku}-1", sku, 3, until)
    stock.hold(f"{sku}-1", sku, 3, until)

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
    assert not _index_row_exists(f"{sku}-2")


def test_an_unknown_sku_is_refused():
    with pytest.raises(stock.UnknownSku):
        stock.hold("r-x", "NO-SUCH-SKU-123", 1, _later())


def test_release_gives_units_back_once_and_leaves_no_row():
    sku = fresh_sku(3)
    stock.hold(f"{sku}-1", sku, 2, _later())

    assert stock.release(f"{sku}-1") is True
    assert stock.release(f"{sku}-1") is False
    assert levels(sku) == (3, 0, {})
    assert not _index_row_exists(f"{sku}-1")


def test_a_released_hold_can_be_held_again():
    sku = fresh_sku(3)
    stock.hold(f"{sku}-1", sku, 2, _later())
    stock.release(f"{sku}-1")

    stock.hold(f"{sku}-1", sku, 1, _later())

    assert levels(sku) == (3, 1, {f"{sku}-1": 1})


def test_confirm_then_commit_takes_units_off_the_shelf_once():
    sku = fresh_sku(5)
    stock.hold(f"{sku}-1", sku, 2, _later())

    stock.confirm(f"{sku}-1")
    stock.confirm(f"{sku}-1")
    assert reservations.lookup(f"{sku}-1").status == ReservationStatus.CONFIRMED
    stock.commit(f"{sku}-1", sku)
    stock.commit(f"{sku}-1", sku)

    assert levels(sku) == (3, 0, {})
    assert not _index_row_exists(f"{sku}-1")


def test_a_released_hold_cannot_be_confirmed_or_committed():
    sku = fresh_sku(5)
    stock.hold(f"{sku}-1", sku, 2, _later())
    stock.release(f"{sku}-1")

    with pytest.raises(stock.HoldNotActive, match="released"):
        stock.confirm(f"{sku}-1", sku)
    with pytest.raises(stock.HoldNotActive):
        stock.commit(f"{sku}-1", sku)
    assert levels(sku) == (5, 0, {})


def test_a_confirmed_hold_cannot_be_changed_by_a_hold():
    sku = fresh_sku(5)
    stock.hold(f"{sku}-1", sku, 2, _later())
    stock.confirm(f"{sku}-1")

    with pytest.raises(stock.HoldNotActive, match="confirmed"):
        stock.hold(f"{sku}-1", sku, 4, _later())
    assert levels(sku) == (5, 2, {f"{sku}-1": 2})


def test_a_confirmed_hold_does_not_expire():
    sku = fresh_sku(5)
    stock.hold(f"{sku}-1", sku, 2, _later(-1))
    stock.confirm(f"{sku}-1")

    sweeper.sweep_expired(_now())

    assert levels(sku) == (5, 2, {f"{sku}-1": 2})


def test_the_sweep_releases_expired_holds_and_keeps_live_ones():
    sku = fresh_sku(10)
    now = _now()
    stock.hold(f"{sku}-old", sku, 3, now - timedelta(seconds=1))
    stock.hold(f"{sku}-new", sku, 2, now + timedelta(minutes=10))

    changed = sweeper.sweep_expired(now)

    assert sku in changed
    assert levels(sku) == (10, 2, {f"{sku}-new": 2})
    assert not _index_row_exists(f"{sku}-old")


def test_renewing_moves_the_expiry_and_is_refused_once_released():
    sku = fresh_sku(4)
    now = _now()
    stock.hold(f"{sku}-1", sku, 1, now + timedelta(seconds=1))

    stock.renew(f"{sku}-1", now + timedelta(hours=1))
    sweeper.sweep_expired(now + timedelta(minutes=5))
    assert levels(sku)[1] == 1

    stock.release(f"{sku}-1")
    with pytest.raises(stock.HoldNotActive):
        stock.renew(f"{sku}-1", now + timedelta(hours=2), sku=sku)


# -- defect 3: expired index rows leave whole; the sweep pages through everything -----------

def test_an_index_row_nobody_deletes_disappears_whole_with_its_ttl():
    sku = fresh_sku(4)
    rid = f"{sku}-1"
    # An expiry so long ago that only two seconds of the index row's grace are left.
    expired = _now() - timedelta(seconds=reservations.INDEX_GRACE_SECONDS - 2)
    reservations.record(rid, sku, SUPPLIER, ReservationStatus.HELD, expired)
    assert _index_row_exists(rid)

    time.sleep(3.5)

    # Not a row of nulls with its key left behind: no row at all.
    assert not _index_row_exists(rid)
    assert session().execute(f"SELECT COUNT(*) AS n FROM {table('inventory_reservations')}"
                             " WHERE reservation_id = %s", [rid]).one()["n"] == 0


def test_the_sweep_pages_through_more_rows_than_one_page_holds():
    skus = [fresh_sku(2) for _ in range(4)]
    past = _now() - timedelta(minutes=1)
    rids = [f"{sku}-{n}" for sku in skus for n in range(9)]
    for rid in rids:
        sku = rid.rsplit("-", 1)[0]
        stock.hold(rid, sku, 1, past) if levels(sku)[1] < 2 else reservations.record(
            rid, sku, SUPPLIER, ReservationStatus.HELD, past)

    progress = sweeper.SweepProgress()
    pages = 0
    while not progress.done:
        sweeper.sweep_page(progress, _now(), page_size=5)
        pages += 1

    assert pages >= len(rids) // 5
    assert all(levels(sku)[1] == 0 for sku in skus)
    assert not any(_index_row_exists(rid) for rid in rids)


# -- defect 4: a stock change is a command applied once, on the whole row -------------------

def test_a_stock_change_applies_once_per_command_id():
    sku = fresh_sku(2)
    change = _change(sku, 5)

    _, first = stock.apply_change(change, _now())
    _, second = stock.apply_change(change, _now())

    assert (first, second) == (True, False)
    assert levels(sku)[0] == 7


def test_a_correction_never_goes_below_what_is_held():
    sku = fresh_sku(2)
    stock.hold(f"{sku}-1", sku, 2, _later())

    stock.apply_change(_change(sku, 5), _now())
    with pytest.raises(stock.InvalidStockChange, match="2 units are held"):
        stock.apply_change(_change(sku, -6), _now())
    assert levels(sku)[0] == 7


def test_a_correction_racing_holds_never_oversells():
    for _ in range(3):
        sku = fresh_sku(10)

        def take(index: int, sku: str = sku) -> str:
            try:
                stock.hold(f"{sku}-{index}", sku, 1, _later())
                return "held"
            except stock.OutOfStock:
                return "refused"

        def correct(sku: str = sku) -> str:
            try:
                stock.apply_change(_change(sku, -8), _now())
                return "corrected"
            except stock.InvalidStockChange:
                return "refused"

        with ThreadPoolExecutor(max_workers=12) as pool:
            holds = [pool.submit(take, n) for n in range(10)]
            correction = pool.submit(correct)
            outcomes = [h.result() for h in holds]

        on_hand, reserved, held = levels(sku)
        assert reserved <= on_hand
        assert reserved == outcomes.count("held") == len(held)
        assert on_hand == (2 if correction.result() == "corrected" else 10)


# -- defect 5: a crash between the two writes of an operation is recoverable ----------------

class Crash(Exception):
    pass


def test_a_crash_between_the_index_write_and_the_stock_write_loses_and_orphans_nothing(monkeypatch):
    sku = fresh_sku(5)
    rid = f"{sku}-1"
    until = _now() + timedelta(seconds=1)

    def crash(*args, **kwargs):
        raise Crash("worker died between the two writes")

    monkeypatch.setattr(stock, "_cas", crash)
    with pytest.raises(Crash):
        stock.hold(rid, sku, 2, until)
    monkeypatch.undo()

    # The index row points at a hold that was never made: nothing is reserved...
    assert _index_row_exists(rid) and levels(sku) == (5, 0, {})
    # ...the retry of the activity makes the hold once...
    stock.hold(rid, sku, 2, until)
    assert levels(sku) == (5, 2, {rid: 2})
    # ...and when it lapses the sweeper finds it through that same index row.
    sweeper.sweep_expired(until + timedelta(seconds=1))
    assert levels(sku) == (5, 0, {}) and not _index_row_exists(rid)


def test_the_sweeper_deletes_an_index_row_whose_hold_never_happened(monkeypatch):
    sku = fresh_sku(5)
    rid = f"{sku}-1"
    monkeypatch.setattr(stock, "_cas", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        stock.hold(rid, sku, 2, _now() - timedelta(seconds=1))
    monkeypatch.undo()

    sweeper.sweep_expired(_now())

    assert not _index_row_exists(rid) and levels(sku) == (5, 0, {})


def test_a_crash_between_confirm_and_its_index_write_is_repaired_not_released(monkeypatch):
    sku = fresh_sku(5)
    rid = f"{sku}-1"
    stock.hold(rid, sku, 2, _now() - timedelta(seconds=1))
    monkeypatch.setattr(reservations, "record", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        stock.confirm(rid, sku)
    monkeypatch.undo()
    assert reservations.lookup(rid).status == ReservationStatus.HELD  # the index is behind

    sweeper.sweep_expired(_now())

    assert levels(sku) == (5, 2, {rid: 2})  # the order keeps its units
    assert reservations.lookup(rid).status == ReservationStatus.CONFIRMED


def test_the_sweeper_never_releases_a_hold_renewed_after_its_index_row_was_read():
    sku = fresh_sku(5)
    rid = f"{sku}-1"
    stock.hold(rid, sku, 2, _now() - timedelta(seconds=1))
    stale = reservations.lookup(rid)  # what a sweep page read
    stock.hold(rid, sku, 2, _later())  # the shopper renews meanwhile

    assert sweeper.settle(stale, _now()) is False

    assert levels(sku) == (5, 2, {rid: 2})
    assert _index_row_exists(rid)


def test_the_sweeper_never_releases_a_hold_placed_again_after_a_release():
    sku = fresh_sku(5)
    rid = f"{sku}-1"
    stock.hold(rid, sku, 2, _now() - timedelta(seconds=1))
    stale = reservations.lookup(rid)
    stock.release(rid)
    stock.hold(rid, sku, 1, _later())

    sweeper.settle(stale, _now())

    assert levels(sku) == (5, 1, {rid: 1})
    assert reservations.lookup(rid).status == ReservationStatus.HELD


def test_a_crash_between_commit_and_its_index_delete_commits_once(monkeypatch):
    sku = fresh_sku(5)
    rid = f"{sku}-1"
    stock.hold(rid, sku, 2, _later())
    stock.confirm(rid)
    monkeypatch.setattr(reservations, "forget", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        stock.commit(rid, sku)
    monkeypatch.undo()

    stock.commit(rid, sku)  # the retry

    assert levels(sku) == (3, 0, {})


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
