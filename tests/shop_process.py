"""The real `manage.py runshop` (web processes and workers) on a port of its own, for tests that drive
it over HTTP or in a browser and stop it as an outage would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

MANAGE = Path(__file__).resolve().parent.parent / "manage.py"


class Shop:
    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env, self.port, self.process = env, port, None

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, str(MANAGE), "runshop", "--port", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env,
                                        start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        raise AssertionError("the shop did not become ready")

    def kill(self) -> None:
        """SIGKILL to runshop and every process it started (its web processes and its workers)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
