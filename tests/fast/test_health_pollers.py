"""A task queue counts as served only when a poller was seen recently: Temporal keeps listing a
stopped worker's poller for minutes after it last polled."""

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.taskqueue.v1 import PollerInfo

from commerce.health import POLLER_FRESH_SECONDS, Status, has_live_poller

NOW = 1_800_000_000.0


def _poller(seconds_ago: float) -> PollerInfo:
    seen = Timestamp()
    seen.FromSeconds(int(NOW - seconds_ago))
    return PollerInfo(identity="worker@host", last_access_time=seen)


def test_a_queue_whose_poller_was_seen_just_now_is_served():
    assert has_live_poller([_poller(2)], NOW)


def test_a_queue_whose_only_poller_stopped_minutes_ago_is_not_served():
    assert not has_live_poller([_poller(POLLER_FRESH_SECONDS + 60)], NOW)


def test_a_queue_with_no_poller_is_not_served():
    assert not has_live_poller([], NOW)


def test_one_live_poller_among_stale_ones_serves_the_queue():
    assert has_live_poller([_poller(600), _poller(30)], NOW)


def test_the_status_body_names_each_dependency_and_nothing_else():
    status = Status({"temporal": True, "queue:cart": False})

    assert not status.up
    assert status.as_json() == {"status": "down", "dependencies": {"temporal": "up", "queue:cart": "down"}}
