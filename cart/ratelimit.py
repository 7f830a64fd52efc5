"""A fixed-window rate limit on Django's cache: `cache.add` opens a window, `cache.incr` counts in it.

Both are atomic in the cache backends Django ships (and in a shared cache such as Redis or
Memcached), so concurrent requests never lose a count.
"""

from __future__ import annotations

import time

from django.core.cache import cache


async def allow(action: str, client: str, limit: int, window_seconds: int = 60) -> bool:
    """Count one `action` by `client` in the current window; False once it passes `limit`."""
    window = int(time.time()) // window_seconds
    key = f"ratelimit:{action}:{client}:{window}"
    # The key outlives its window a little, so it cannot vanish between the add and the incr.
    await cache.aadd(key, 0, timeout=window_seconds * 2)
    try:
        count = await cache.aincr(key)
    except ValueError:  # evicted in between: this is the window's first count
        await cache.aset(key, 1, timeout=window_seconds * 2)
        count = 1
    return count <= limit
