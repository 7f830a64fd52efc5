"""`make run` never sits silent: downloads and health waits of the local stack say how long they have taken."""

from __future__ import annotations

import os
import sys
import time

import commerce.stack
from commerce.stack.base import Health, Service, Ticker, run_with_progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_ticker_says_how_long_it_has_waited_every_few_seconds():
    lines: list[str] = []
    clock = FakeClock()
    ticker = Ticker("waiting for cassandra", lines.append, every=5, clock=clock)

    for _ in range(13):  # thirteen seconds, one tick a second
        clock.now += 1
        ticker.tick("port 9042 closed")

    assert lines == [
        "waiting for cassandra... 5s (port 9042 closed)",
        "waiting for cassandra... 10s (port 9042 closed)",
    ]


def test_a_long_download_prints_progress_while_it_runs(tmp_path):
    # The "download" ends only once a progress line was printed, so the test cannot pass by luck.
    printed = tmp_path / "printed"
    lines: list[str] = []

    def out(line: str) -> None:
        lines.append(line)
        printed.touch()

    waits_for_progress = (f"import os, time\nwhile not os.path.exists({str(printed)!r}): time.sleep(0.01)\n"
                          "print('done')")
    ticker = Ticker("  fetching Elasticsearch 9.5.4", out, every=0)
    result = run_with_progress([sys.executable, "-c", waits_for_progress], ticker,
                               measure=lambda: "12 MB downloaded", poll=0.05)

    assert result.returncode == 0 and result.stdout == "done\n"
    assert lines[0].startswith("  fetching Elasticsearch 9.5.4... ") and lines[0].endswith("s (12 MB downloaded)")


class SlowService(Service):
    """A service that turns healthy on its fourth check; its 'process' is this test's."""

    name = "slow"

    def __init__(self) -> None:
        super().__init__()
        self.checks = 0

    def pid(self) -> int | None:
        return os.getpid()

    def check(self) -> Health:
        self.checks += 1
        return Health(self.checks >= 4, "port 1234 closed" if self.checks < 4 else "ready")


def test_waiting_for_a_service_prints_progress_until_it_is_healthy(tmp_path, monkeypatch):
    monkeypatch.setenv("COMMERCE_DATA_DIR", str(tmp_path))
    lines: list[str] = []

    health = SlowService().wait_healthy(time.monotonic() + 60, lines.append, every=0, poll=0.01)

    assert health.up
    assert len(lines) == 3
    assert all(line.startswith("waiting for slow... ") and line.endswith("s (port 1234 closed)") for line in lines)


def test_each_service_of_the_stack_lives_in_a_module_of_its_own():
    modules = {service.name: type(service).__module__ for service in commerce.stack.all_services()}

    assert modules == {
        "temporal": "commerce.stack.temporal",
        "cassandra": "commerce.stack.cassandra",
        "elasticsearch": "commerce.stack.elasticsearch",
    }
