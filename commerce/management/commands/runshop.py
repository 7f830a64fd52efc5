import ctypes
import signal
import subprocess
import sys

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from commerce.management.commands.runworkers import exit_now


class Command(BaseCommand):
    help = "Run the shop: the six Temporal workers in a child process and the web under uvicorn."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host, port, **options):
        call_command("createadmin")
        workers = subprocess.Popen([sys.executable, str(settings.BASE_DIR / "manage.py"), "runworkers"],
                                   preexec_fn=_die_with_parent)
        self.stdout.write(f"Shop: http://{host}:{port}/   Admin: http://{host}:{port}/admin/")
        # uvicorn re-raises the signal that stopped it; with the default SIGTERM action that would
        # end this process before the workers are drained below.
        signal.signal(signal.SIGTERM, lambda *_: None)
        try:
            uvicorn.run("commerce.asgi:application", host=host, port=port, log_level="info", lifespan="off")
        finally:
            workers.send_signal(signal.SIGTERM)
            try:
                workers.wait(timeout=30)
            except subprocess.TimeoutExpired:
                workers.kill()
        exit_now()


def _die_with_parent() -> None:
    """In the workers' child process: get SIGTERM if this process dies without cleaning up."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
