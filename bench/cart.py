"""Add-to-cart benchmark: HTTP add-to-cart at 1 and 20 concurrent shoppers, for guests (new and
existing carts) and for signed-in shoppers (existing carts, found through `carts_by_shopper`), beside
the bare Temporal update round trip (existing workflow, and update-with-start) measured in the same run.

    make bench-cart          (or: .venv/bin/python bench/cart.py --seconds 30)

It runs its own workers and web server on the `commerce-bench` namespace, `commerce_bench` keyspace
and `bench-` index prefix, with its own SQLite database (bench/results/cart-db.sqlite3: sessions, the
shared cache, the shoppers' accounts), so the shop's data is untouched.

Signed-in shoppers have an account each (bench-shopper-N@example.com, made once in that database,
one for the 1-shopper run and twenty others for the 20-shopper run). Before their runs each account
is signed in once through the /accounts/login/ form, so the timed window holds no sign-in and
django-axes (which counts failed sign-ins) is never involved; each starts without a cart, as a guest
does: its first add makes the cart, the others add to it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    RESULTS,
    ROOT,
    bench_env,
    free_port,
    locust,
    manage,
    save,
    table,
    web_server,
    workers,
)

BENCH_ENV = dict(CASSANDRA_KEYSPACE="commerce_bench", ELASTICSEARCH_INDEX_PREFIX="bench-",
                 TEMPORAL_NAMESPACE="commerce-bench")
POOL = 40  # SKUs the shoppers add from, each with a deep stock
SHOPPERS = (1, 20)  # concurrent shoppers of each run
# The bench's own SQL database (never the shop's): sessions, the shared cache, the signed-in accounts.
DATABASE = RESULTS / "cart-db.sqlite3"
PASSWORD = "bench-shopper-password"  # of the bench's accounts, in the bench's database only
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LABELS = {"new": "HTTP add to cart, new cart (guest)", "existing": "HTTP add to cart, existing cart (guest)",
          "signed-in": "HTTP add to cart, existing cart (signed-in)"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=30, help="load duration per mode and concurrency")
    parser.add_argument("--floor-rounds", type=int, default=400)
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    # Every shopper comes from 127.0.0.1: without a high limit the "new carts" runs would measure the
    # per-client cart-creation limit (429s) instead of add-to-cart.
    env = bench_env(**BENCH_ENV, CART_CREATIONS_PER_MINUTE="1000000", DATABASE_URL=f"sqlite:///{DATABASE}")
    os.environ.update({k: env[k] for k in (*BENCH_ENV, "DJANGO_SETTINGS_MODULE", "DATABASE_URL")})

    print(f"== SQL database of the bench: {DATABASE.relative_to(ROOT)} (migrations, idempotent)", flush=True)
    manage("migrate", "-v", "0", env=env)
    prepare_targets(env, "cart")
    emails = [f"bench-shopper-{number}@example.com" for number in range(sum(SHOPPERS))]
    shopper_ids = _accounts(emails)

    print("== Temporal floor: bare update round trips", flush=True)
    floor = asyncio.run(_floor(args.floor_rounds))

    runs: dict[str, dict] = {}
    with workers(env, "cart-workers.log"), web_server(env, free_port()) as host:
        for mode in ("new", "existing"):
            for users in SHOPPERS:
                print(f"== add to cart, {mode} carts, {users} shopper(s), {args.seconds}s", flush=True)
                stats = locust(ROOT / "bench" / "cart_locustfile.py", host, users, args.seconds,
                               f"cart-{mode}", {**env, "BENCH_CART_MODE": mode})
                runs[f"{mode}/{users}"] = stats[f"add to cart ({mode} cart)"]
        sessions = _sign_in(host, emails)
        for users in SHOPPERS:
            print(f"== add to cart, existing carts, {users} signed-in shopper(s), {args.seconds}s", flush=True)
            sessions_file = RESULTS / f"cart-signed-in-{users}u-sessions.json"
            sessions_file.write_text(json.dumps(sessions[:users]))
            sessions = sessions[users:]  # every run its own accounts, each starting without a cart
            try:
                stats = locust(ROOT / "bench" / "cart_signed_in_locustfile.py", host, users, args.seconds,
                               "cart-signed-in", {**env, "BENCH_SESSIONS": str(sessions_file)})
            finally:
                sessions_file.unlink()
            runs[f"signed-in/{users}"] = stats["add to cart (existing cart, signed-in)"]
    with_carts = _with_carts(shopper_ids)
    print(f"== {with_carts} of {len(shopper_ids)} signed-in shoppers have a cart in carts_by_shopper", flush=True)

    rows = []
    for users, results in floor.items():
        for name, s in results.items():
            rows.append((f"temporal {name}", users, s["count"], 0, f"{s['rps']:.1f}", f"{s['p50_ms']:.1f}",
                         f"{s['p95_ms']:.1f}", f"{s['p99_ms']:.1f}"))
    for key, s in runs.items():
        mode, users = key.split("/")
        rows.append((LABELS[mode], users, s["requests"], s["failures"], f"{s['rps']:.1f}",
                     f"{s['p50_ms']:.0f}", f"{s['p95_ms']:.0f}", f"{s['p99_ms']:.0f}"))
    print()
    print(table(rows))
    path = save("cart", {"floor": floor, "runs": runs, "seconds_per_level": args.seconds,
                         "signed_in_shoppers_with_a_cart": with_carts})
    print(f"saved {path}")


def prepare_targets(env: dict, name: str) -> dict:
    """Schema and catalog in the bench keyspace (idempotent), and the SKUs shoppers add, written where
    the locustfile finds them (`BENCH_TARGETS`)."""
    print("== schema and catalog in the bench keyspace (idempotent)", flush=True)
    manage("migrate", "--database", "cassandra", "-v", "0", env=env)
    manage("createcachetable", env=env)  # the shared cache's SQL table (settings.CACHES)
    manage("seed_catalog", env=env)
    targets = _targets()
    targets_file = RESULTS / f"{name}-targets.json"
    targets_file.write_text(json.dumps(targets))
    env["BENCH_TARGETS"] = str(targets_file)
    return targets


async def _floor(rounds: int) -> dict:
    from bench.floor import update_floor
    from commerce.temporal import connect

    client = await connect()
    return {users: await update_floor(client, rounds, users) for users in (1, 20)}


def _targets() -> dict:
    import django

    django.setup()
    from commerce.cassandra import session, table
    from inventory.models import Product, VariantByProduct

    products = list(Product.objects.all().limit(POOL))
    skus = [next(iter(VariantByProduct.objects.filter(product_slug=p.slug))).sku for p in products]
    for sku in skus:
        for row in session().execute(f"SELECT supplier_id FROM {table('inventory_stock')} WHERE sku = %s", [sku]):
            session().execute(f"UPDATE {table('inventory_stock')} SET on_hand = 1000000 WHERE sku = %s"
                              f" AND supplier_id = %s IF EXISTS", [sku, row["supplier_id"]])
    return {"slug": products[0].slug, "skus": skus}


def _accounts(emails: list[str]) -> list[str]:
    """The signed-in shoppers' accounts in the bench database, registered as the shop registers them
    (made on the first run only); their ids. Their `carts_by_shopper` rows go, so each starts the run
    without a cart, as a guest does."""
    import django

    django.setup()
    from asgiref.sync import async_to_sync
    from django.contrib.auth import get_user_model

    from commerce.cassandra import session, table
    from identity import accounts

    print(f"== {len(emails)} shopper accounts in the bench database (made once), without carts", flush=True)
    users = get_user_model()
    ids = []
    for email in emails:
        user = users.objects.filter(username=email).first()
        if user is None:
            user = async_to_sync(accounts.register)(email, "Bench Shopper", PASSWORD)
        ids.append(str(user.pk))
    for shopper_id in ids:
        session().execute(f"DELETE FROM {table('carts_by_shopper')} WHERE shopper_id = %s", [shopper_id])
    return ids


def _sign_in(host: str, emails: list[str]) -> list[dict]:
    """Each account signed in once through the sign-in form, as a browser does; its cookies (session
    and CSRF), in the order of `emails`."""
    import requests  # locust's HTTP client, installed with it

    print(f"== signing {len(emails)} shoppers in through /accounts/login/ (once each)", flush=True)
    sessions = []
    for number, email in enumerate(emails, 1):
        with requests.Session() as client:
            page = client.get(f"{host}/accounts/login/", timeout=30)
            form = {"csrfmiddlewaretoken": TOKEN.search(page.text).group(1), "username": email,
                    "password": PASSWORD}
            answer = client.post(f"{host}/accounts/login/", data=form, allow_redirects=False, timeout=60,
                                 headers={"Referer": f"{host}/accounts/login/"})
            if answer.status_code != 302:
                raise SystemExit(f"signing in {email} answered {answer.status_code}; if its password differs, "
                                 f"delete {DATABASE.relative_to(ROOT)} and run again")
            sessions.append(client.cookies.get_dict())
        if number % 5 == 0 or number == len(emails):
            print(f"   {number}/{len(emails)} signed in", flush=True)
    return sessions


def _with_carts(shopper_ids: list[str]) -> int:
    """How many of the signed-in shoppers `carts_by_shopper` gives a cart: each, once it has added."""
    from commerce.cassandra import session, table

    return sum(1 for shopper_id in shopper_ids
               if list(session().execute(f"SELECT cart_id FROM {table('carts_by_shopper')} WHERE shopper_id = %s",
                                         [shopper_id])))


if __name__ == "__main__":
    main()
