import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from commerce import stack
from commerce.stack.base import ServiceError


def test_status_reports_every_service_up(capsys):
    lines = []
    assert stack.status(out=lines.append)
    assert [line.split()[0] for line in lines] == ["temporal", "cassandra", "elasticsearch"]
    assert all(line.split()[1] == "up" for line in lines)


def test_up_is_idempotent_and_reuses_healthy_services():
    assert stack.up() == []


def test_a_service_that_will_not_start_is_named_with_its_log_line(tmp_path, monkeypatch):
    # Something else holds the port: the Temporal server cannot bind and exits.
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    port = squatter.getsockname()[1]
    monkeypatch.setenv("COMMERCE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TEMPORAL_ADDRESS", f"127.0.0.1:{port}")
    monkeypatch.setenv("TEMPORAL_UI_PORT", "0")
    try:
        with pytest.raises(ServiceError) as failure:
            stack.up(["temporal"], out=lambda line: None)
    finally:
        squatter.close()
        stack.down(["temporal"], out=lambda line: None)

    message = str(failure.value)
    assert message.startswith("temporal ")
    assert str(tmp_path / "temporal" / "logs" / "temporal.out") in message
    assert "last log line:" in message and "address already in use" in message.lower()


@pytest.mark.parametrize("command", [["-m", "commerce.stack"], ["manage.py", "stack"]], ids=["module", "manage.py"])
def test_both_stack_command_lines_report_status_with_one_line_per_service(command):
    result = subprocess.run([sys.executable, *command, "status"], cwd=Path(__file__).resolve().parent.parent,
                            capture_output=True, text=True, timeout=120, env=dict(os.environ))

    assert result.returncode == 0, result.stderr
    assert [line.split()[:2] for line in result.stdout.splitlines()] == [
        ["temporal", "up"], ["cassandra", "up"], ["elasticsearch", "up"]
    ]
