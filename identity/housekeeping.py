"""Deleting what expired from the SQL database: session rows and database-cache entries.

Django leaves an expired session row until `clearsessions` runs, and the database cache removes
expired entries only while it writes; the `session-sweep` workflow calls `sweep()` on its own timer.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from identity.contracts import SweptRows

DATABASE_CACHE = "django.core.cache.backends.db.DatabaseCache"


def clear_expired_sessions() -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


def clear_expired_cache_entries() -> int:
    """Expired entries of every database cache, as DatabaseCache itself compares them."""
    deleted = 0
    for cache_settings in settings.CACHES.values():
        if cache_settings["BACKEND"] != DATABASE_CACHE:
            continue
        connection = connections[DEFAULT_DB_ALIAS]
        table = connection.ops.quote_name(cache_settings["LOCATION"])
        now = connection.ops.adapt_datetimefield_value(timezone.now().replace(microsecond=0))
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE expires < %s", [now])
            deleted += max(cursor.rowcount, 0)
    return deleted


def sweep() -> SweptRows:
    # An activity thread lives long: drop a connection the database closed, as a request would (the
    # SQL one only: the Cassandra session is shared by every thread).
    sql = connections[DEFAULT_DB_ALIAS]
    sql.close_if_unusable_or_obsolete()
    try:
        return SweptRows(sessions=clear_expired_sessions(), cache_entries=clear_expired_cache_entries())
    finally:
        sql.close_if_unusable_or_obsolete()
