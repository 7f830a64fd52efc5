import asyncio
import logging
import os
import signal
import sys

from django.core.management.base import BaseCommand, CommandError

from commerce.cassandra import open_cassandra
from commerce.management.stores import needs_stores
from commerce.observability import tracing
from commerce.observability.worker_metrics import metrics_address, runtime_with_metrics
from commerce.supervisor import die_with_parent
from commerce.temporal import connect
from commerce.workers import run_workers, worker_specs

logger = logging.getLogger("commerce.workers")

# Set by runshop: the file to create once every worker polls, so it can print the URL last.
READY_FILE_ENV = "COMMERCE_WORKERS_READY_FILE"


@needs_stores("temporal")
class Command(BaseCommand):
    help = "Run the Temporal workers of all six task queues (or --queues) in one process on one connection."

    def add_arguments(self, parser):
        parser.add_argument("--queues", default="", help="comma-separated subset, e.g. cart,checkout")

    def handle(self, *args, queues, **options):
        # Under runshop: stop (drain) when runshop dies, even by kill -9, instead of running orphaned.
        die_with_parent()
        selected = [queue.strip() for queue in queues.split(",") if queue.strip()] or None
        try:
            worker_specs(selected)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        logging.getLogger("temporalio").setLevel(logging.WARNING)
        asyncio.run(self._run(selected))
        exit_now()

    async def _run(self, queues):
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stopping, stop, sig)
        tracing.configure("workers")
        # A failed connect is reported as one line by needs_stores ("Temporal is not reachable at ...").
        # The client's runtime serves the SDK's metrics (WORKER_METRICS_PORT); its workers report there.
        runtime = runtime_with_metrics()
        client = await connect(runtime=runtime)
        if runtime is not None:  # said once connected: a store that is down is the only line an operator gets
            logger.info("worker metrics on http://%s/metrics", metrics_address())
        await asyncio.to_thread(open_cassandra)
        await run_workers(client, queues, stop, on_started=_tell_runshop_we_are_ready)

    def _stopping(self, stop, sig):
        # Ctrl-C under runshop reaches both processes, and runshop then sends SIGTERM: say it once.
        if not stop.is_set():
            self.stdout.write(f"{signal.Signals(sig).name} received: draining workers")
        stop.set()


def _tell_runshop_we_are_ready() -> None:
    path = os.environ.get(READY_FILE_ENV)
    if path:
        with open(path, "w"):
            pass


def exit_now(code: int = 0) -> None:
    """Exit without interpreter teardown, once all work is drained and output flushed.

    The Temporal SDK's native threads can abort CPython's finalization with
    "PyGILState_Release: thread state must be current" (temporalio/sdk-python#300).
    """
    tracing.shutdown()  # the spans still batched: atexit handlers do not run after os._exit
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
