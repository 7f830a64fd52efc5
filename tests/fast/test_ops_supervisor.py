"""runshop's supervision of its worker process, with real child processes (tiny Python scripts)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from commerce.supervisor import Backoff, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def wait_for(condition: Callable[[], object], what: str, timeout: float = 20.0) -> object:
    """Poll until `condition()` is truthy; the timeout only bounds a failing test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def process_state(pid: int) -> str | None:
    """The state letter of /proc/<pid>/stat (R, S, Z for a zombie...), None when there is no such process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def is_gone(pid: int) -> bool:
    """The process exited and was reaped: not even a zombie is left."""
    return process_state(pid) in (None, "X")


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


@pytest.fixture
def supervisors():
    started: list[Supervisor] = []
    yield started
    for supervisor in started:
        supervisor.stop_timeout = 1
        supervisor.stop()


def test_backoff_doubles_after_each_quick_death_up_to_the_cap():
    backoff = Backoff(initial=1, cap=8, reset_after=60)

    assert [backoff.delay(uptime=2) for _ in range(6)] == [1, 2, 4, 8, 8, 8]


def test_backoff_starts_over_once_the_child_had_stayed_up_a_while():
    backoff = Backoff(initial=1, cap=30, reset_after=60)
    for _ in range(4):
        backoff.delay(uptime=1)

    assert backoff.delay(uptime=61) == 1
    assert backoff.delay(uptime=1) == 2


def test_a_child_killed_with_sigkill_is_reaped_logged_and_restarted(supervisors):
    lines: list[str] = []
    supervisor = Supervisor(SLEEPER, name="workers", backoff=Backoff(initial=0.05), log=lines.append)
    supervisors.append(supervisor)
    first = supervisor.start()

    os.kill(first, signal.SIGKILL)
    second = wait_for(lambda: supervisor.pid if supervisor.pid != first else None, "a new child")

    assert is_gone(first), "the killed child was left a zombie"
    assert re.fullmatch(
        rf"workers \(pid {first}\) died: killed by SIGKILL after \d+s; restarting in 0.05s \(restart 1\)", lines[0]
    ), lines
    wait_for(lambda: len(lines) >= 2, "the restart line")
    assert lines[1] == f"workers restarted (pid {second})"
    os.kill(second, 0)  # the new child runs


def test_a_child_that_keeps_dying_is_restarted_more_slowly_each_time(supervisors):
    lines: list[str] = []
    supervisor = Supervisor(python("raise SystemExit(3)"), name="workers",
                            backoff=Backoff(initial=0.01, cap=0.04, reset_after=60), log=lines.append)
    supervisors.append(supervisor)
    supervisor.start()

    wait_for(lambda: sum("died" in line for line in lines) >= 4, "four deaths")
    supervisor.stop()

    deaths = [line for line in lines if "died" in line][:4]
    assert all("exited with code 3" in line for line in deaths), deaths
    assert [re.search(r"restarting in (\S+)s", line).group(1) for line in deaths] == ["0.01", "0.02", "0.04", "0.04"]


def test_stopping_sends_sigterm_and_waits_for_the_child_to_drain(supervisors, tmp_path):
    ready, drained = tmp_path / "ready", tmp_path / "drained"
    lines: list[str] = []
    supervisor = Supervisor(python(f"""
        import signal, sys, time
        def drain(*_):
            time.sleep(0.2)  # in-flight work finishing
            open({str(drained)!r}, "w").write("yes")
            sys.exit(0)
        signal.signal(signal.SIGTERM, drain)
        open({str(ready)!r}, "w").write("yes")
        time.sleep(600)
    """), name="workers", log=lines.append)
    supervisors.append(supervisor)
    supervisor.start()
    # Until the child has installed its handler, SIGTERM would kill it outright.
    wait_for(ready.exists, "the child to be ready")

    assert supervisor.stop() == 0
    assert drained.read_text() == "yes"
    assert lines == []  # a requested stop is not a death


def test_stopping_kills_a_child_that_ignores_sigterm_once_the_drain_time_is_over(supervisors, tmp_path):
    ready = tmp_path / "ready"
    lines: list[str] = []
    supervisor = Supervisor(python(f"""
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        open({str(ready)!r}, "w").write("yes")
        time.sleep(600)
    """), name="workers", stop_timeout=0.3, log=lines.append)
    supervisors.append(supervisor)
    pid = supervisor.start()
    wait_for(ready.exists, "the child to be ready")

    assert supervisor.stop() == -signal.SIGKILL
    assert is_gone(pid)
    assert lines == [f"workers (pid {pid}) did not stop in 0.3s; killing it"]


def test_a_supervised_child_stops_when_its_supervisor_is_killed(tmp_path):
    """die_with_parent: a runshop killed with -9 does not leave its workers running orphaned."""
    child_pid_file = tmp_path / "child.pid"
    parent = subprocess.Popen(python(f"""
        import sys, time
        from commerce.supervisor import Supervisor
        child = [sys.executable, "-c",
                 "import os, time\\n"
                 "from commerce.supervisor import die_with_parent\\n"
                 "die_with_parent()\\n"
                 "open({str(child_pid_file)!r}, 'w').write(str(os.getpid()))\\n"
                 "time.sleep(600)\\n"]
        Supervisor(child, name="workers").start()
        time.sleep(600)
    """), cwd=Path(__file__).resolve().parents[2])
    try:
        child = int(wait_for(lambda: child_pid_file.exists() and child_pid_file.read_text(), "the child's pid"))
        parent.kill()
        parent.wait()

        # Orphaned, it is reaped by whoever adopts it (maybe nobody in a container): exited is enough.
        wait_for(lambda: process_state(child) in (None, "X", "Z"), "the orphaned child to stop")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
