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
        workers = subprocess.Popen([sys.executable, str(settings.BASE_DIR / "manage.py"), "runworkers"])
        self.stdout.write(f"Shop: http://{host}:{port}/   Admin: http://{host}:{port}/admin/")
        try:
            uvicorn.run("commerce.asgi:application", host=host, port=port, log_level="info", lifespan="off")
        finally:
            workers.send_signal(signal.SIGTERM)
            try:
                workers.wait(timeout=30)
            except subprocess.TimeoutExpired:
                workers.kill()
        exit_now()
