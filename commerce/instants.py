"""Instants as the contracts carry them: ISO 8601 text."""

from datetime import UTC, datetime


def parse_instant(text) -> datetime | None:
    """An aware datetime from ISO 8601 text (read as UTC when it names no zone); None for empty,
    missing or unreadable text."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
