"""The local stack's secret key: made once, private to its owner, the same on every start."""

import stat

import pytest
from django.core.exceptions import ImproperlyConfigured

from commerce.settings import local_secret_key


def test_the_local_secret_key_is_made_once_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "data" / "secret-key.txt"

    first = local_secret_key(path)
    second = local_secret_key(path)

    assert first == second and len(first) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret-key.txt"]


def test_two_local_stacks_get_different_keys(tmp_path):
    assert local_secret_key(tmp_path / "a" / "key") != local_secret_key(tmp_path / "b" / "key")


def test_an_emptied_key_file_is_refused_not_used(tmp_path):
    path = tmp_path / "secret-key.txt"
    path.write_text("\n")

    with pytest.raises(ImproperlyConfigured):
        local_secret_key(path)
