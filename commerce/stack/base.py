"""What every service of the local stack shares: process management, health waits, progress, Maven.

A service (one module each: temporal.py, cassandra.py, elasticsearch.py) says how to install itself,
how to start and how to tell that it is really healthy; this module starts it in its own session
with its output in a log file, waits for it while saying how long it has waited, and stops it by
process group. Nothing here imports Django: the stack runs before the project is set up.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from commerce.env import data_dir

STACK_DIR = Path(__file__).resolve().parent
POM = STACK_DIR / "pom.xml"

# How often a long wait or download says it is still going: often enough that a terminal never
# looks hung, rarely enough that a CI log stays readable.
PROGRESS_SECONDS = 5.0

Out = Callable[[str], None]


class ServiceError(RuntimeError):
    """A service could not be installed or would not become healthy."""


@dataclass(frozen=True)
class Health:
    up: bool
    detail: str


class Ticker:
    """Prints `label... 12s (detail)` at most once every `every` seconds while something long runs."""

    def __init__(self, label: str, out: Out, every: float = PROGRESS_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.label = label
        self.out = out
        self.every = every
        self.clock = clock
        self.began = clock()
        self._next_at = self.began + every

    def elapsed(self) -> float:
        return self.clock() - self.began

    def tick(self, detail: str = "") -> bool:
        """Print a progress line if one is due; True when it printed."""
        now = self.clock()
        if now < self._next_at:
            return False
        self._next_at = now + self.every
        suffix = f" ({detail})" if detail else ""
        self.out(f"{self.label}... {now - self.began:.0f}s{suffix}")
        return True


def folder_size(path: Path) -> int:
    """Bytes under `path` (files being downloaded included), 0 when it does not exist yet."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass  # a temporary file renamed away while we walked
    return total


def run_with_progress(cmd: list[str], ticker: Ticker, measure: Callable[[], str] | None = None,
                      poll: float = 0.5) -> subprocess.CompletedProcess[str]:
    """Run `cmd` to the end, its output captured, ticking `ticker` (with `measure()` as detail)."""
    process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    # The output is read by a thread of communicate(); we only need it at the end.
    while True:
        try:
            output, _ = process.communicate(timeout=poll)
            break
        except subprocess.TimeoutExpired:
            ticker.tick(measure() if measure else "")
    return subprocess.CompletedProcess(cmd, process.returncode, output, "")


def mvn(what: str, out: Out, *args: str) -> None:
    """Resolve `what` with Maven into the data folder's repository, printing progress while it runs."""
    executable = shutil.which("mvn")
    if not executable:
        raise ServiceError("Maven (mvn) is needed to fetch Cassandra and Elasticsearch")
    repository = data_dir() / "m2"
    cmd = [executable, "-q", "-B", f"-Dmaven.repo.local={repository}", "-f", str(POM), *args]
    before = folder_size(repository)
    out(f"  fetching {what} with Maven into {repository} (once) ...")
    ticker = Ticker(f"  fetching {what}", out)
    result = run_with_progress(
        cmd, ticker, measure=lambda: f"{(folder_size(repository) - before) / 1e6:.0f} MB downloaded"
    )
    if result.returncode != 0:
        raise ServiceError("Maven failed:\n" + result.stdout[-3000:])
    out(f"  fetched {what} in {ticker.elapsed():.0f}s")


def pom_property(name: str) -> str:
    match = re.search(rf"<{name}>([^<]+)</{name}>", POM.read_text())
    if not match:
        raise ServiceError(f"{POM} has no <{name}> property")
    return match.group(1)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as dead.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
        return state != "Z"
    except (OSError, IndexError):
        return True


def java_major(java: Path) -> int:
    out = subprocess.run([str(java), "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)', out)
    return int(match.group(1)) if match else 0


def find_jdk(env_name: str, accept: Callable[[int], bool]) -> Path:
    """A JDK home: the env variable if set, else the newest acceptable JDK on the machine."""
    explicit = os.environ.get(env_name)
    candidates = [Path(explicit)] if explicit else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/jvm/*"), reverse=True)]
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidates.append(Path(java_home))
    for home in candidates:
        java = home / "bin" / "java"
        if java.exists() and accept(java_major(java)):
            return home
    raise ServiceError(f"no suitable JDK found; set {env_name} to a JDK home")


def last_meaningful_log_line(path: Path) -> str:
    if not path.exists():
        return "(no log written)"
    lines = path.read_text(errors="replace").splitlines()
    for line in reversed(lines):
        if re.search(r"ERROR|Exception|FATAL|error:|Error:", line):
            return line.strip()[:500]
    return lines[-1].strip()[:500] if lines else "(log is empty)"


class Service:
    name: str = ""
    # What operators read in messages ("Cassandra is not reachable ...").
    title: str = ""
    start_timeout: float = 60.0

    def __init__(self) -> None:
        self.home = data_dir() / self.name
        self.log_file = self.home / "logs" / f"{self.name}.out"
        self.pid_file = self.home / f"{self.name}.pid"

    # What each service defines
    def install(self, out: Out) -> None: ...
    def command(self) -> list[str]: raise NotImplementedError
    def environment(self) -> dict[str, str]: return dict(os.environ)
    def check(self) -> Health: raise NotImplementedError
    def where(self) -> str: raise NotImplementedError
    def address(self) -> tuple[str, int]: raise NotImplementedError
    def run_as(self) -> str | None: return None
    def error_log(self) -> Path: return self.log_file

    # Process management shared by all
    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def spawn(self, out: Out = print) -> None:
        self.install(out)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        user = self.run_as()
        kwargs = {}
        if user:
            entry = pwd.getpwnam(user)
            kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        with open(self.log_file, "ab") as log:
            process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.environment(),
                cwd=self.home,
                start_new_session=True,  # survives the starting shell; stopped by process group
                **kwargs,
            )
        self.pid_file.write_text(str(process.pid))

    def wait_healthy(self, deadline: float, out: Out = print, every: float = PROGRESS_SECONDS,
                     poll: float = 0.5) -> Health:
        """Wait until `check()` says up, printing `waiting for <name>... 12s (why)` every `every` s."""
        ticker = Ticker(f"waiting for {self.name}", out, every)
        health = self.check()
        while not health.up:
            if self.pid() is None:
                raise ServiceError(
                    f"{self.name} exited during startup; see {self.error_log()}\n"
                    f"  last log line: {last_meaningful_log_line(self.error_log())}"
                )
            if time.monotonic() > deadline:
                raise ServiceError(
                    f"{self.name} did not become healthy in {self.start_timeout:.0f}s ({health.detail}); "
                    f"see {self.error_log()}\n"
                    f"  last log line: {last_meaningful_log_line(self.error_log())}"
                )
            ticker.tick(health.detail)
            time.sleep(poll)
            health = self.check()
        return health

    def stop(self, timeout: float = 60.0) -> bool:
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if pid_alive(pid):
            os.killpg(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True
