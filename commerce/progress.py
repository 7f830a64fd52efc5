"""A progress bar for long operator commands (seeding, reindexing, load tests).

On a terminal it redraws one line; in a log (CI, pipes) it prints a line every 10%.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.total = max(total, 0)
        self.stream = stream or sys.stderr
        self.width = width
        self.done = 0
        self.began = time.monotonic()
        self._interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_decile = -1
        self._draw()

    def advance(self, count: int = 1) -> None:
        self.done = min(self.total, self.done + count)
        self._draw()

    def close(self) -> None:
        self.done = self.total
        self._draw(final=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.close()
        elif self._interactive:
            self.stream.write("\n")

    def _line(self) -> str:
        fraction = self.done / self.total if self.total else 1.0
        filled = int(fraction * self.width)
        elapsed = time.monotonic() - self.began
        rate = self.done / elapsed if elapsed > 0 else 0.0
        bar = "#" * filled + "-" * (self.width - filled)
        return f"{self.label:<22} [{bar}] {self.done}/{self.total} {fraction:4.0%} {elapsed:6.1f}s {rate:8.0f}/s"

    def _draw(self, final: bool = False) -> None:
        if self._interactive:
            self.stream.write("\r" + self._line() + ("\n" if final else ""))
            self.stream.flush()
            return
        decile = int(10 * self.done / self.total) if self.total else 10
        if decile != self._last_decile:
            self._last_decile = decile
            self.stream.write(self._line() + "\n")
            self.stream.flush()
