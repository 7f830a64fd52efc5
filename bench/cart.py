"""Add-to-cart benchmark: HTTP add-to-cart for new and existing carts at 1 and 20 concurrent
shoppers, beside the bare Temporal update round trip (existing workflow, and update-with-start)
measured in the same run.

    make bench-cart          (or: .venv/bin/python bench/cart.py --seconds 30)

It runs its own workers and web server on the `commerce-bench` namespace, `commerce_bench` keyspace
and `bench-` index prefix, so the shop's data is untouched.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=30, help="load duration per mode and concurrency")
    parser.add_argument("--floor-rounds", type=int, default=400)
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    # Every shopper comes from 127.0.0.1: without a high limit the "new carts" runs would measure the
    # per-client cart-creation limit (429s) instead of add-to-cart.
    env = bench_env(**BENCH_ENV, CART_CREATIONS_PER_MINUTE="1000000")
    os.environ.update({k: env[k] for k in (*BENCH_ENV, "DJANGO_SETTINGS_MODULE")})

    prepare_targets(env, "cart")

    print("== Temporal floor: bare update round trips", flush=True)
    floor = asyncio.run(_floor(args.floor_rounds))

    runs: dict[str, dict] = {}
    with workers(env, "cart-workers.log"), web_server(env, free_port()) as host:
        for mode in ("new", "existing"):
            for users in (1, 20):
                print(f"== add to cart, {mode} carts, {users} shopper(s), {args.seconds}s", flush=True)
                stats = locust(ROOT / "bench" / "cart_locustfile.py", host, users, args.seconds,
                               f"cart-{mode}", {**env, "BENCH_CART_MODE": mode})
                runs[f"{mode}/{users}"] = stats[f"add to cart ({mode} cart)"]

    rows = []
    for users, results in floor.items():
        for name, s in results.items():
            rows.append((f"temporal {name}", users, s["count"], 0, f"{s['rps']:.1f}", f"{s['p50_ms']:.1f}",
                         f"{s['p95_ms']:.1f}", f"{s['p99_ms']:.1f}"))
    for key, s in runs.items():
        mode, users = key.split("/")
        rows.append((f"HTTP add to cart ({mode} cart)", users, s["requests"], s["failures"], f"{s['rps']:.1f}",
                     f"{s['p50_ms']:.0f}", f"{s['p95_ms']:.0f}", f"{s['p99_ms']:.0f}"))
    print()
    print(table(rows))
    path = save("cart", {"floor": floor, "runs": runs, "seconds_per_level": args.seconds})
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


if __name__ == "__main__":
    main()
