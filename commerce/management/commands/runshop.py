import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from commerce.management.commands.runworkers import READY_FILE_ENV, exit_now
from commerce.supervisor import Backoff, Supervisor

logger = logging.getLogger("commerce.runshop")

# How long the banner waits for the workers before it is printed anyway (they may wait for Temporal).
WORKERS_READY_WAIT_SECONDS = 60.0


class Command(BaseCommand):
    help = ("Run the shop: the six Temporal workers in a supervised child process (restarted with backoff "
            "when it dies) and the web under uvicorn. SIGTERM or Ctrl-C stops the web and drains the workers.")

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
            env={**os.environ, READY_FILE_ENV: str(ready_file)},
            log=logger.warning,
        )
        self.stdout.write(f"Workers: pid {workers.start()}, restarted with backoff if it dies")
        server = uvicorn.Server(
            uvicorn.Config("commerce.asgi:application", host=host, port=port, log_level="info", lifespan="off")
        )
        threading.Thread(target=self._announce, args=(server, ready_file, host, port), daemon=True).start()
        # uvicorn re-raises the signal that stopped it; with the default SIGTERM action that would
        # end this process before the workers are drained below.
        signal.signal(signal.SIGTERM, lambda *_: None)
        try:
            server.run()
        except (KeyboardInterrupt, SystemExit):
            pass  # Ctrl-C re-raised by uvicorn after its shutdown, or a failed startup (logged by uvicorn)
        finally:
            returncode = workers.stop()
            ready_file.unlink(missing_ok=True)
            logger.info("workers stopped (%s)", "drained" if returncode == 0 else f"exit code {returncode}")
        exit_now(0 if server.started else 1)

    def _announce(self, server: uvicorn.Server, workers_ready: Path, host: str, port: int) -> None:
        """Print where the shop is once the web listens and the workers poll: the last line of `make run`."""
        deadline = time.monotonic() + WORKERS_READY_WAIT_SECONDS
        while not server.should_exit and not (
            server.started and (workers_ready.exists() or time.monotonic() > deadline)
        ):
            time.sleep(0.1)
        if server.started and not server.should_exit:
            note = "" if workers_ready.exists() else "   (workers not polling yet: see the log above)"
            self.stdout.write(f"Shop: http://{host}:{port}/   Admin: http://{host}:{port}/admin/{note}")
            self.stdout.flush()
