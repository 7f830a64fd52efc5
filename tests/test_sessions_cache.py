"""Sessions and the cache are shared by every web process, against the real stack.

- A session is server-side (Django's db backend, in the SQL database): another client that holds
  only the cookie sees the same shopper and cart; logging out deletes it, so that cookie then opens
  nothing, and pages keep their session while Cassandra is down.
- The cache (a table in the SQL database) is one for all processes: the cart-creation rate limit
  and the console's "first confirmation" count across separate `manage.py` processes, and `migrate`
  makes its table.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import textwrap
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test import AsyncClient, Client
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from commerce.workers import worker_specs
from identity import housekeeping
from identity import worker as identity_worker
from identity.contracts import SESSION_SWEEP_WORKFLOW_ID, TASK_QUEUE
from tests.console_helpers import PASSWORD
from tests.outages import cassandra_unreachable
from tests.stock_helpers import fresh_sku

ROOT = settings.BASE_DIR


def _row(session_key: str) -> Session | None:
    return Session.objects.filter(session_key=session_key).first()


async def _arow(session_key: str) -> Session | None:
    return await Session.objects.filter(session_key=session_key).afirst()


def _holding(cookie: str, client_class=Client):
    """A fresh client that carries nothing but this session cookie."""
    client = client_class()
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    return client


def _sign_in(browser, username: str):
    """Through the admin's login form: a request, so django-axes counts it (Client.login has none)."""
    return browser.post("/admin/login/", {"username": username, "password": PASSWORD, "next": "/admin/"})


# -- sessions ----------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_login_is_seen_by_another_client_only_through_its_cookie_and_logout_revokes_it():
    get_user_model().objects.create_user("clerk", password=PASSWORD, is_staff=True)
    browser = Client()
    assert _sign_in(browser, "clerk").status_code == 302
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value

    assert _holding(cookie).get("/admin/").status_code == 200  # the same session, from the cookie alone
    assert Client().get("/admin/").status_code == 302  # no cookie: not signed in
    assert _row(cookie) is not None

    assert browser.post("/admin/logout/").status_code == 200

    assert _row(cookie) is None
    stolen = _holding(cookie).get("/admin/")
    assert stolen.status_code == 302 and stolen["Location"].startswith("/admin/login/")


@pytest.mark.django_db(transaction=True)
def test_logging_in_replaces_the_session_key_so_a_planted_cookie_is_worth_nothing():
    get_user_model().objects.create_user("shopper", password=PASSWORD, is_staff=True)
    planted = SessionStore()
    planted["cart_id"] = "planted-cart"
    planted.save()
    browser = _holding(planted.session_key)

    assert _sign_in(browser, "shopper").status_code == 302

    assert browser.cookies[settings.SESSION_COOKIE_NAME].value != planted.session_key
    assert _row(planted.session_key) is None
    assert _holding(planted.session_key).get("/admin/").status_code == 302


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("catalog", "running_workers")
async def test_the_cart_follows_the_cookie_to_another_client_and_is_gone_after_a_flush(catalog, settings):
    settings.CART_CREATIONS_PER_MINUTE = 1000
    variant = next(v for v in catalog.variants[900:] if v.price_cents >= 1000)
    fresh_sku(20, sku=variant.sku)
    browser = AsyncClient()
    added = await browser.post("/cart/add/", {"sku": variant.sku, "quantity": 2, "nonce": uuid.uuid4().hex},
                               HTTP_REFERER="/cart/")
    assert added.status_code == 302
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value

    elsewhere = (await _holding(cookie, AsyncClient).get("/cart/")).content.decode()
    assert variant.sku in elsewhere
    assert re.search(r'data-testid="cart-count">2<', elsewhere)
    lives = (await _arow(cookie)).expire_date - datetime.now(UTC)
    assert timedelta(0) < lives <= timedelta(seconds=settings.CART_IDLE_EXPIRY_SECONDS)  # as an idle cart

    # What django.contrib.auth's (a)logout does to the session (the admin's logout page only logs out
    # staff; the shopper's own logout comes with accounts).
    await SessionStore(cookie).aflush()

    assert await _arow(cookie) is None
    after = (await _holding(cookie, AsyncClient).get("/cart/")).content.decode()
    assert 'data-testid="cart-empty"' in after and variant.sku not in after


@pytest.mark.django_db(transaction=True)
def test_a_session_opens_while_cassandra_is_down():
    store = SessionStore()
    store["cart_count"] = 3
    store.save()

    with cassandra_unreachable():
        page = _holding(store.session_key).get("/orders/")

    assert page.status_code == 200 and re.search(r'data-testid="cart-count">3<', page.content.decode())


# -- the cache, across processes --------------------------------------------------------------------

@pytest.fixture(scope="module")
def sql_database(tmp_path_factory, cassandra_schema):
    """A SQL database file made by the project's `migrate`, as `make run` makes it (the cache's
    table included), for separate processes to share."""
    path = tmp_path_factory.mktemp("sql") / "shared.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}"}
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0", "--noinput"],
                   env=env, check=True, cwd=ROOT, timeout=180)
    return env


def _shells(env: dict, code: str, processes: int) -> list[str]:
    """Run `code` in `processes` separate `manage.py shell -c` processes at once; their outputs."""
    running = [subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "shell", "-c", textwrap.dedent(code)],
                                env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(processes)]
    outputs = []
    for process in running:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        outputs.append(out.strip().splitlines()[-1])
    return outputs


def test_migrate_makes_the_cache_table(sql_database):
    code = "from django.db import connection; print(connection.introspection.table_names())"
    (tables,) = _shells(sql_database, code, 1)

    assert "'commerce_cache'" in tables and "'commerce_ratelimit'" in tables


def test_the_cart_creation_limit_counts_across_processes(sql_database):
    client = f"203.0.113.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:6]}"
    count = f"""
        import asyncio
        from commerce import ratelimit
        async def attempts():
            return [await ratelimit.allow("test", "{client}", 10) for _ in range(8)]
        print(sum(asyncio.run(attempts())))
    """
    if time.time() % 60 > 30:  # windows are calendar minutes: all four processes count in one
        time.sleep(60 - time.time() % 60)
    allowed = [int(n) for n in _shells(sql_database, count, 3)]  # 24 attempts from three processes

    assert sum(allowed) == 10, allowed
    (later,) = _shells(sql_database, count, 1)  # a fourth process sees the window full
    assert later == "0"


def test_a_console_confirmation_counts_once_across_processes(sql_database):
    action = uuid.uuid4().hex
    confirm = f"from commerce.console import first_confirmation; print(first_confirmation('{action}'))"

    answers = _shells(sql_database, confirm, 3)

    assert sorted(answers) == ["False", "False", "True"]


# -- the session sweep ----------------------------------------------------------------------------------

def _cache_rows(key_part: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM commerce_cache WHERE cache_key LIKE %s", [f"%{key_part}%"])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_sweep_deletes_expired_sessions_and_cache_entries_and_keeps_live_ones():
    live = SessionStore()
    live["cart_id"] = "live-cart"
    live.create()
    expired = Session.objects.create(session_key=uuid.uuid4().hex, session_data="",
                                     expire_date=datetime.now(UTC) - timedelta(minutes=1))
    tag = uuid.uuid4().hex
    cache.set(f"sweep-live-{tag}", 1, 300)
    cache.set(f"sweep-old-{tag}", 1, 1)
    time.sleep(2.1)  # the database cache keeps expiry in whole seconds

    swept = housekeeping.sweep()

    assert swept.sessions >= 1 and swept.cache_entries >= 1
    assert _row(expired.session_key) is None and _row(live.session_key) is not None
    assert _cache_rows(f"sweep-old-{tag}") == 0 and _cache_rows(f"sweep-live-{tag}") == 1


@pytest.mark.usefixtures("running_workers")
async def test_the_identity_worker_starts_the_sweep_and_restarts_or_stops_it_when_its_interval_changes(
        temporal_client, settings):
    assert next(spec for spec in worker_specs() if spec.task_queue == TASK_QUEUE).on_start is identity_worker.on_start
    handle = temporal_client.get_workflow_handle(SESSION_SWEEP_WORKFLOW_ID)
    with contextlib.suppress(RPCError):
        await handle.terminate(reason="test: from nothing")

    await identity_worker.on_start(temporal_client)
    first = await handle.describe()
    assert first.status == WorkflowExecutionStatus.RUNNING and first.task_queue == TASK_QUEUE
    assert await first.memo_value(identity_worker.INTERVAL_MEMO) == settings.SESSION_SWEEP_SECONDS

    await identity_worker.on_start(temporal_client)  # another worker, the same setting: the same run
    assert (await handle.describe()).run_id == first.run_id

    configured = settings.SESSION_SWEEP_SECONDS
    settings.SESSION_SWEEP_SECONDS = configured + 600
    await identity_worker.on_start(temporal_client)
    second = await handle.describe()
    assert second.run_id != first.run_id and second.status == WorkflowExecutionStatus.RUNNING
    assert await second.memo_value(identity_worker.INTERVAL_MEMO) == configured + 600

    settings.SESSION_SWEEP_SECONDS = 0
    await identity_worker.on_start(temporal_client)
    assert (await handle.describe()).status == WorkflowExecutionStatus.TERMINATED

    settings.SESSION_SWEEP_SECONDS = configured
    await identity_worker.on_start(temporal_client)  # left running as configured
