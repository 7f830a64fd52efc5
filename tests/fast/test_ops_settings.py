"""Operator settings read from the environment, each checked in a fresh process as an operator sets it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def settings_in_a_fresh_process(expression: str, setup: bool = False, unset: tuple[str, ...] = (),
                                 **env: str) -> object:
    """The JSON value of `expression` in a process whose environment is ours plus `env`, less `unset`.

    Without `setup` only the settings module is read (a postgres URL needs no driver for that).
    """
    code = (
        "import json, django\n"
        + ("django.setup()\n" if setup else "")
        + "from django.conf import settings\n"
        f"print(json.dumps({expression}, default=str))\n"
    )
    environment = {key: value for key, value in os.environ.items() if key not in unset}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env={**environment, "DJANGO_SETTINGS_MODULE": "commerce.settings", **env},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_database_url_options_in_the_query_string_reach_the_postgres_connection(tmp_path):
    database = settings_in_a_fresh_process(
        "settings.DATABASES['default']",
        DATABASE_URL="postgres://shop:p%40ss@db.internal:5433/commerce?sslmode=require",
        COMMERCE_DATA_DIR=str(tmp_path),
    )

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["USER"], database["PASSWORD"]) == ("commerce", "shop", "p@ss")
    assert (database["HOST"], int(database["PORT"])) == ("db.internal", 5433)
    # The hand-written parser dropped the query string: TLS to the database could not be required.
    assert database["OPTIONS"] == {"sslmode": "require"}


def test_the_default_database_is_a_sqlite_file_in_the_data_folder(tmp_path):
    database = settings_in_a_fresh_process(
        "settings.DATABASES['default']", unset=("DATABASE_URL",), COMMERCE_DATA_DIR=str(tmp_path)
    )

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(tmp_path / "db.sqlite3")


def test_activity_threads_are_set_for_every_worker_and_can_be_raised_for_one_queue(tmp_path):
    threads = settings_in_a_fresh_process(
        "{spec.task_queue: spec.activity_threads for spec in __import__('commerce.workers').workers.worker_specs()}",
        setup=True,
        TEMPORAL_ACTIVITY_THREADS="3",
        TEMPORAL_ACTIVITY_THREADS_INVENTORY="5",
        COMMERCE_DATA_DIR=str(tmp_path),
    )

    assert threads == {"cart": 3, "checkout": 3, "oms": 3, "fulfillment": 3, "inventory": 5, "identity": 3}
