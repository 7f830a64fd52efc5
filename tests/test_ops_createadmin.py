"""`createadmin` runs on every `make run`: the password may be printed once, when it is made, never again."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def createadmin() -> str:
    out = io.StringIO()
    call_command("createadmin", stdout=out)
    return out.getvalue()


def test_createadmin_prints_the_password_only_when_it_creates_the_login(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    password_file = tmp_path / "admin-password.txt"

    first = createadmin()
    password = password_file.read_text()
    second = createadmin()

    assert password in first
    assert get_user_model().objects.get(username="admin").check_password(password)
    assert password not in second
    assert str(password_file) in second
    assert password_file.stat().st_mode & 0o077 == 0, "the password file is readable by others"
