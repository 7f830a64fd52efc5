"""A fixed-window rate limit on the shared `ratelimit` cache (settings.CACHES), counted with `add` alone.

The window's n-th allowed request claims the key `...:{n}` with `cache.add`, which is atomic in
every backend (in the SQL table the key is the primary key), so of two requests racing for one slot
one wins and the other takes the next: never more than `limit` in a window, across all processes.
`cache.incr` is not used: in the database cache it is a read then a write, and two processes would
both count 5 -> 6. A hint key remembers the next free slot, so a request costs a read, one `add` and
a write, and a refused one a single read; a stale hint only costs an extra `add` or two.
"""

from __future__ import annotations

import time

from django.core.cache import caches

RATE_LIMIT_CACHE = "ratelimit"


def _cache():
    return caches[RATE_LIMIT_CACHE]


async def allow(action: str, client: str, limit: int, window_seconds: int = 60) -> bool:
    """Count one `action` by `client` in the current window; False once it passes `limit`."""
    window = int(time.time()) // window_seconds
    key = f"ratelimit:{action}:{client}:{window}"
    # Keys outlive their window a little, so none vanishes while the window is still counted.
    timeout = window_seconds * 2
    cache = _cache()
    start = slot = max(1, await cache.aget(f"{key}:next", 1))
    while slot <= limit:
        if await cache.aadd(f"{key}:{slot}", True, timeout=timeout):
            await cache.aset(f"{key}:next", slot + 1, timeout=timeout)
            return True
        slot += 1
    if start <= limit:  # the hint was stale: every slot is taken, so the next refusal costs one read
        await cache.aset(f"{key}:next", slot, timeout=timeout)
    return False
