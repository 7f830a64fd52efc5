"""Shopper accounts in tests: register through the pages, read the emails the file backend wrote,
and a clean slate in Cassandra for the auth ids a test's SQL database hands out again."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client

from commerce.cassandra import session, table

PASSWORD = "a-long-password-1"
# The SQL test database rolls back after each test, so user ids start again at 1, while the Cassandra
# test keyspace keeps its rows: profiles and addresses of these ids are wiped before each test.
REUSED_IDS = [str(number) for number in range(1, 301)]


def wipe_shoppers() -> None:
    for name in ("shoppers", "shopper_addresses"):
        session().execute(f"DELETE FROM {table(name)} WHERE shopper_id IN %s", [tuple(REUSED_IDS)])


def unique_email(name: str = "ada") -> str:
    return f"{name}.{uuid.uuid4().hex[:10]}@example.com"


def register(client: Client, email: str, full_name: str = "Ada Shopper", password: str = PASSWORD,
             again: str | None = None):
    return client.post("/accounts/register/", {"email": email, "full_name": full_name, "password1": password,
                                               "password2": again if again is not None else password})


def login(client: Client, email: str, password: str = PASSWORD, **extra):
    return client.post("/accounts/login/", {"username": email, "password": password}, **extra)


def emails_in(folder: Path) -> list[str]:
    """Every message the file backend wrote under `folder`, oldest file first."""
    if not folder.exists():
        return []
    texts = []
    for path in sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime):
        texts.extend(part for part in path.read_text().split("-" * 79) if part.strip())
    return texts


def link_path(text: str, prefix: str) -> str:
    """The path of the first link in `text` under `prefix` (the host is SHOP_BASE_URL's)."""
    match = re.search(rf"{re.escape(settings.SHOP_BASE_URL)}({re.escape(prefix)}\S+)", text)
    assert match, f"no {prefix} link in {text!r}"
    return urlsplit(match.group(0)).path
