"""Operator commands that find a store down print one line naming it and its log, and exit non-zero.

Each command runs as an operator runs it (`manage.py ...` in its own process) with one store's
address pointed at a port where nothing listens, or at a server that is not that store.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

MANAGE = Path(__file__).resolve().parent.parent / "manage.py"

TITLES = {"cassandra": "Cassandra", "elasticsearch": "Elasticsearch", "temporal": "Temporal"}


def address_env(store: str, port: int) -> dict[str, str]:
    return {
        "cassandra": {"CASSANDRA_HOSTS": "127.0.0.1", "CASSANDRA_PORT": str(port)},
        "elasticsearch": {"ELASTICSEARCH_URL": f"http://127.0.0.1:{port}"},
        "temporal": {"TEMPORAL_ADDRESS": f"127.0.0.1:{port}"},
    }[store]


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(MANAGE), *args],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, **env},  # the test keyspace, index prefix and namespace (commerce.pytest_env)
    )


def one_line_naming(store: str, port: int, reason: str = "is not reachable") -> re.Pattern[str]:
    return re.compile(
        rf"{TITLES[store]} {reason} at 127\.0\.0\.1:{port}; start it with `make stack` "
        rf"\(log: \.local/{store}/logs/[\w.]+\)"
    )


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound once by us, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def not_a_store() -> Iterator[int]:
    """A port that accepts connections and hangs up at once: open, but no store answers there."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)

    def hang_up() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return  # the fixture closed the server
            connection.close()

    threading.Thread(target=hang_up, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


COMMANDS = [
    (["migrate", "--noinput"], "cassandra"),
    (["create_indices"], "elasticsearch"),
    (["seed_catalog", "--products", "3"], "cassandra"),
    (["reindex"], "cassandra"),
    (["reindex"], "elasticsearch"),
    (["runworkers"], "temporal"),
]


@pytest.mark.parametrize(("command", "store"), COMMANDS, ids=[f"{c[0]}-{s}" for c, s in COMMANDS])
def test_a_command_whose_store_is_down_prints_one_line_naming_it_and_its_log(command, store, closed_port):
    result = manage(*command, env=address_env(store, closed_port))

    assert result.returncode == 1
    assert result.stdout == ""
    assert one_line_naming(store, closed_port).fullmatch(result.stderr.rstrip("\n")), result.stderr


BEHIND_THE_PROBE = [
    (["seed_catalog", "--products", "3"], "cassandra"),
    (["create_indices"], "elasticsearch"),
    (["runworkers"], "temporal"),
]


@pytest.mark.parametrize(("command", "store"), BEHIND_THE_PROBE, ids=[s for _, s in BEHIND_THE_PROBE])
def test_a_driver_error_meaning_the_store_is_away_is_reported_in_the_same_one_line(command, store, not_a_store):
    # The port is open, so the quick probe passes and the driver itself fails: its retries and
    # tracebacks must not reach the operator either.
    result = manage(*command, env=address_env(store, not_a_store))

    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    assert len(lines) == 1 and one_line_naming(store, not_a_store).fullmatch(lines[0]), result.stderr
