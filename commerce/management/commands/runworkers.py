import asyncio
import logging
import os
import signal
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from commerce.temporal import connect
from commerce.workers import run_workers, worker_specs


class Command(BaseCommand):
    help = "Run the Temporal workers of all six task queues (or --queues) in one process on one connection."

    def add_arguments(self, parser):
        parser.add_argument("--queues", default="", help="comma-separated subset, e.g. cart,checkout")

    def handle(self, *args, queues, **options):
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
        try:
            client = await connect()
        except Exception as exc:
            raise CommandError(f"cannot reach Temporal at {settings.TEMPORAL_ADDRESS}: {exc}") from exc
        await run_workers(client, queues, stop)

    def _stopping(self, stop, sig):
        self.stdout.write(f"{signal.Signals(sig).name} received: draining workers")
        stop.set()


def exit_now() -> None:
    """Exit 0 without interpreter teardown, once all work is drained and output flushed.

    The Temporal SDK's native threads can abort CPython's finalization with
    "PyGILState_Release: thread state must be current" (temporalio/sdk-python#300).
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
