"""Keep one child process running: reap it when it dies, restart it with capped exponential backoff.

`runshop` runs the Temporal workers as a child process. Without supervision a worker killed with
`kill -9` stays a zombie while the web limps on (every cart change times out), so this class watches
the child from a thread, logs each death and restart in one line, and stops it cleanly (SIGTERM,
a drain period, then SIGKILL). Nothing here imports Django.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

logger = logging.getLogger("commerce.supervisor")

# Set in the child's environment: the pid it must die with (see die_with_parent).
PARENT_PID_ENV = "COMMERCE_SUPERVISOR_PID"


@dataclass
class Backoff:
    """Delays between restarts: initial, doubled after each quick death, capped; reset after a stable run.

    A child that crashes at once is retried slower and slower (it is probably waiting for a store to
    come back), but one that ran for `reset_after` seconds before dying starts again at `initial`.
    """

    initial: float = 1.0
    cap: float = 30.0
    reset_after: float = 60.0
    _next: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        self._next = self.initial

    def delay(self, uptime: float) -> float:
        """The wait before the next start, given how long the child that just died had been up."""
        if uptime >= self.reset_after:
            self._next = self.initial
        delay = self._next
        self._next = min(self.cap, self._next * 2)
        return delay


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


class Supervisor:
    """Runs `argv` as a child process and keeps it running until `stop()`.

    `start()` spawns the child and a watcher thread; the watcher reaps the child when it dies, logs
    `<name> (pid N) died: killed by SIGKILL after 12s; restarting in 1s (restart 1)`, waits the
    backoff and spawns a new one (`<name> restarted (pid M)`). `stop()` sends SIGTERM, waits up to
    `stop_timeout` for the child to drain, then kills it; it returns the child's exit code.
    """

    def __init__(self, argv: Sequence[str], *, name: str = "child", backoff: Backoff | None = None,
                 stop_timeout: float = 30.0, env: dict[str, str] | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        self.argv = list(argv)
        self.name = name
        self.backoff = backoff or Backoff()
        self.stop_timeout = stop_timeout
        self.env = dict(os.environ if env is None else env)
        # The child may tie its life to ours (die_with_parent): a crash of this process stops it.
        self.env[PARENT_PID_ENV] = str(os.getpid())
        self.log = log or logger.warning
        self.restarts = 0
        self._process: subprocess.Popen | None = None
        self._started_at = 0.0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process else None

    def start(self) -> int:
        """Spawn the child and start watching it; returns its pid."""
        with self._lock:
            self._spawn()
        self._watcher = threading.Thread(target=self._watch, name=f"supervise-{self.name}", daemon=True)
        self._watcher.start()
        assert self._process is not None
        return self._process.pid

    def stop(self) -> int | None:
        """SIGTERM the child, wait `stop_timeout` for it to drain, then SIGKILL; returns its exit code."""
        with self._lock:
            # Under the lock: once set, the watcher will not spawn another child.
            self._stopping.set()
            process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
        if self._watcher:
            # The watcher may be waiting out a backoff: the stop event ends that wait at once.
            self._watcher.join()
        if process is None:
            return None
        if process.returncode is None:
            try:
                process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.log(f"{self.name} (pid {process.pid}) did not stop in {self.stop_timeout:g}s; killing it")
                process.kill()
                process.wait()
        return process.returncode

    def _spawn(self) -> None:
        # No preexec_fn: it is unsafe in a threaded parent (uvicorn's loop runs beside this thread).
        # A process group of its own: Ctrl-C in the terminal reaches only us, and we stop the child
        # with SIGTERM; if it got SIGINT too it could exit before stop() and be taken for a death.
        self._process = subprocess.Popen(self.argv, env=self.env, process_group=0)
        self._started_at = time.monotonic()

    def _watch(self) -> None:
        while not self._stopping.is_set():
            process = self._process
            assert process is not None
            try:
                # Wake now and then to notice stop(); wait() reaps the child, so no zombie is left.
                returncode = process.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                continue
            with self._lock:
                if self._stopping.is_set():
                    return  # stop() SIGTERMed it (or is about to): not a death to report
                uptime = time.monotonic() - self._started_at
                delay = self.backoff.delay(uptime)
                self.restarts += 1
                self.log(
                    f"{self.name} (pid {process.pid}) died: {describe_exit(returncode)} after {uptime:.0f}s; "
                    f"restarting in {delay:g}s (restart {self.restarts})"
                )
            if self._stopping.wait(delay):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self._spawn()
                self.log(f"{self.name} restarted (pid {self._process.pid})")


def die_with_parent() -> None:
    """In a supervised child: get SIGTERM when the supervising process dies, even by `kill -9`.

    Linux only (prctl PR_SET_PDEATHSIG); a no-op elsewhere or when not started by a Supervisor. If
    the parent already died before this call, the child exits at once rather than run orphaned.
    """
    expected = os.environ.get(PARENT_PID_ENV)
    if not expected:
        return
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return
    PR_SET_PDEATHSIG = 1
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(expected):
        os._exit(1)
