"""Where order emails go: files under DATA_DIR by default, SMTP once EMAIL_HOST is set; each checked
in a fresh process as an operator sets it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

EMAIL_SETTINGS = ("{name: getattr(settings, name, None) for name in ['EMAIL_BACKEND', 'EMAIL_FILE_PATH', "
                  "'EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_HOST_USER', 'EMAIL_HOST_PASSWORD', 'EMAIL_USE_TLS', "
                  "'DEFAULT_FROM_EMAIL', 'ORDER_LINK_MAX_AGE_DAYS']}")
EMAIL_VARIABLES = ("EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS",
                   "EMAIL_BACKEND", "EMAIL_FILE_PATH", "DEFAULT_FROM_EMAIL", "ORDER_LINK_MAX_AGE_DAYS")


def settings_in_a_fresh_process(expression: str, unset: tuple[str, ...] = (), **env: str) -> object:
    """The JSON value of `expression` read from the settings of a process with our environment plus `env`."""
    code = f"import json\nfrom django.conf import settings\nprint(json.dumps({expression}, default=str))\n"
    environment = {key: value for key, value in os.environ.items() if key not in unset}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                            env={**environment, "DJANGO_SETTINGS_MODULE": "commerce.settings", **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_emails_are_files_under_the_data_dir_by_default(tmp_path):
    email = settings_in_a_fresh_process(EMAIL_SETTINGS, unset=EMAIL_VARIABLES, COMMERCE_DATA_DIR=str(tmp_path))

    assert email["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert email["EMAIL_FILE_PATH"] == str(tmp_path / "emails")
    assert email["DEFAULT_FROM_EMAIL"] == "shop@localhost"
    assert email["ORDER_LINK_MAX_AGE_DAYS"] == 90


def test_email_host_switches_to_smtp(tmp_path):
    email = settings_in_a_fresh_process(
        EMAIL_SETTINGS, unset=EMAIL_VARIABLES, COMMERCE_DATA_DIR=str(tmp_path),
        EMAIL_HOST="smtp.example.com", EMAIL_PORT="2525", EMAIL_HOST_USER="shop", EMAIL_HOST_PASSWORD="s3cret",
        EMAIL_USE_TLS="false", DEFAULT_FROM_EMAIL="Heron & Co. <orders@heron.example>")

    assert email["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (email["EMAIL_HOST"], email["EMAIL_PORT"], email["EMAIL_HOST_USER"]) == ("smtp.example.com", 2525, "shop")
    assert email["EMAIL_HOST_PASSWORD"] == "s3cret" and email["EMAIL_USE_TLS"] is False
    assert email["DEFAULT_FROM_EMAIL"] == "Heron & Co. <orders@heron.example>"


def test_a_wrong_port_fails_at_startup_naming_the_variable(tmp_path):
    with pytest.raises(AssertionError, match="EMAIL_PORT"):
        settings_in_a_fresh_process(EMAIL_SETTINGS, unset=EMAIL_VARIABLES, COMMERCE_DATA_DIR=str(tmp_path),
                                    EMAIL_HOST="smtp.example.com", EMAIL_PORT="twenty-five")
