import http.client
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from uvicorn.supervisors import Multiprocess

from commerce.management.commands.runworkers import READY_FILE_ENV, exit_now
from commerce.supervisor import PARENT_PID_ENV, Backoff, Supervisor

logger = logging.getLogger("commerce.runshop")

# How long the banner waits for the workers before it is printed anyway (they may wait for Temporal).
WORKERS_READY_WAIT_SECONDS = 60.0
# Read by prometheus_client in each web process: where it writes its samples (commerce.observability.metrics).
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


class Command(BaseCommand):
    help = ("Run the shop: the six Temporal workers in a supervised child process (restarted with backoff "
            "when it dies) and the web in WEB_PROCESSES uvicorn processes (restarted by uvicorn when one "
            "dies). SIGTERM or Ctrl-C stops the web and drains the workers.")

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host, port, **options):
        call_command("createadmin")
        ready_file = settings.DATA_DIR / f"runshop-{os.getpid()}-workers.ready"
        ready_file.unlink(missing_ok=True)
        workers = Supervisor(
            [sys.executable, str(settings.BASE_DIR / "manage.py"), "runworkers"],
            name="workers",
            backoff=Backoff(initial=1.0, cap=30.0, reset_after=60.0),
            # Longer than the workers' own drain, so in-flight activities finish before any SIGKILL.
            stop_timeout=settings.TEMPORAL_GRACEFUL_SHUTDOWN_SECONDS + 10,
            env={**_without(os.environ, METRICS_DIR_ENV), READY_FILE_ENV: str(ready_file)},
            log=logger.warning,
        )
        self.stdout.write(f"Workers: pid {workers.start()}, restarted with backoff if it dies")
        serving, stopped = threading.Event(), threading.Event()
        try:
            with web_metrics_dir() as metrics_dir:
                # Inherited by the web processes (spawned below): where they write their samples, and
                # the pid they die with if this process is killed (commerce/asgi.py).
                os.environ[METRICS_DIR_ENV] = str(metrics_dir)
                os.environ[PARENT_PID_ENV] = str(os.getpid())
                config = uvicorn.Config(
                    "commerce.asgi:application", host=host, port=port, workers=settings.WEB_PROCESSES,
                    log_level="info", lifespan="off",
                    # uvicorn kills a web process that does not answer its ping in time: on a busy
                    # two-core machine 5 s (its default) can be a slow answer, not a hung process.
                    timeout_worker_healthcheck=30,
                    # Responses do not name the server software (nor its version).
                    server_header=False,
                    # JSON logs: Django's LOGGING formats uvicorn's lines too (settings.py).
                    **({"log_config": None} if settings.LOG_FORMAT == "json" else {}),
                )
                self.stdout.write(f"Web: {settings.WEB_PROCESSES} process(es), restarted by uvicorn if one dies")
                announcer = threading.Thread(target=self._announce, args=(host, port, ready_file, serving, stopped),
                                             daemon=True)
                # Binds the socket here, once; every web process accepts on it. Multiprocess answers
                # SIGTERM and SIGINT itself: it stops the web processes and returns.
                supervisor = Multiprocess(config, sockets=[config.bind_socket()])
                announcer.start()
                supervisor.run()
        except (KeyboardInterrupt, SystemExit):
            pass  # a failed bind (logged by uvicorn), or Ctrl-C before the web processes started
        finally:
            stopped.set()
            returncode = workers.stop()
            ready_file.unlink(missing_ok=True)
            logger.info("workers stopped (%s)", "drained" if returncode == 0 else f"exit code {returncode}")
        exit_now(0 if serving.is_set() else 1)

    def _announce(self, host: str, port: int, workers_ready: Path, serving: threading.Event,
                  stopped: threading.Event) -> None:
        """Print where the shop is once the web answers and the workers poll: the last line of `make run`."""
        while not stopped.is_set() and not answers_http(host, port):
            stopped.wait(0.2)
        if stopped.is_set():
            return
        serving.set()
        deadline = time.monotonic() + WORKERS_READY_WAIT_SECONDS
        while not stopped.is_set() and not workers_ready.exists() and time.monotonic() < deadline:
            stopped.wait(0.1)
        if not stopped.is_set():
            note = "" if workers_ready.exists() else "   (workers not polling yet: see the log above)"
            self.stdout.write(f"Shop: http://{host}:{port}/   Admin: http://{host}:{port}/admin/{note}")
            self.stdout.flush()


def answers_http(host: str, port: int) -> bool:
    """A web process answers on host:port (any status: /healthz says 503 while a store is down)."""
    address = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    connection = http.client.HTTPConnection(address, port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        connection.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        connection.close()


METRICS_DIR_PREFIX = "commerce-metrics-"


@contextmanager
def web_metrics_dir():
    """A fresh, empty directory for this run's Prometheus samples, removed when the shop stops: counts
    start at zero with each run, and no dead run's files are ever added in."""
    _remove_dead_runs_metrics_dirs()
    directory = Path(tempfile.mkdtemp(prefix=f"{METRICS_DIR_PREFIX}{os.getpid()}-"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _remove_dead_runs_metrics_dirs() -> None:
    """The directories of earlier runs killed with -9 (which could not clean up): their pid is gone."""
    for directory in Path(tempfile.gettempdir()).glob(f"{METRICS_DIR_PREFIX}*-*"):
        pid = directory.name.removeprefix(METRICS_DIR_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(directory, ignore_errors=True)


def _without(environ, name: str) -> dict[str, str]:
    return {key: value for key, value in environ.items() if key != name}
