"""Compare-and-set loops within a time budget: `for _ in Attempts(budget, exhausted): ...` yields at
least once, then again after a short random backoff while the budget lasts; past it the loop raises
`exhausted()` (a "try again later" error of the caller's domain)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator


class Attempts:
    def __init__(self, budget_seconds: float, exhausted: Callable[[], Exception]) -> None:
        self.deadline = time.monotonic() + budget_seconds
        self.exhausted = exhausted
        self.count = 0

    def __iter__(self) -> Iterator[int]:
        while self.count == 0 or time.monotonic() < self.deadline:
            if self.count:
                time.sleep(min(0.05, 0.003 * self.count) * random.random())
            self.count += 1
            yield self.count
        raise self.exhausted()
