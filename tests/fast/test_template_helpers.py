"""The `instant` template filter: contracts carry instants as ISO text."""

from datetime import UTC, datetime

from django.utils import timezone

from commerce.templatetags.shop import instant


def test_an_instant_is_shown_in_the_sites_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    with timezone.override("America/New_York"):
        shown = instant("2026-11-23T15:54:34.689610+00:00")

    assert shown == datetime(2026, 11, 23, 15, 54, 34, 689610, tzinfo=UTC)
    assert (shown.hour, str(shown.tzinfo)) == (10, "America/New_York")


def test_an_instant_without_a_zone_is_read_as_utc():
    assert instant("2026-11-23T15:54:34") == datetime(2026, 11, 23, 15, 54, 34, tzinfo=UTC)


def test_empty_or_unreadable_text_is_no_instant():
    assert [instant(""), instant(None), instant("yesterday"), instant("2026-13-40T99:00:00")] == ["", "", "", ""]
