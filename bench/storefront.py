"""Storefront benchmark: seed and reindex the full catalog, then search and product pages at 1
and 20 concurrent shoppers, beside the bare Temporal round trip measured in the same run.

    make bench-storefront          (or: .venv/bin/python bench/storefront.py --seconds 30)

It uses its own keyspace and index prefix (commerce_bench, bench-), so the shop's data is untouched.
"""

from __future__ import annotations

import argparse
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
    temporal_probe_floor,
    web_server,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=30, help="load duration per concurrency level")
    parser.add_argument("--products", type=int, default=2689)
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    env = bench_env(CASSANDRA_KEYSPACE="commerce_bench", ELASTICSEARCH_INDEX_PREFIX="bench-")
    os.environ.update({k: env[k] for k in ("CASSANDRA_KEYSPACE", "ELASTICSEARCH_INDEX_PREFIX",
                                           "DJANGO_SETTINGS_MODULE")})

    print("== schema for the bench keyspace", flush=True)
    manage("migrate", "--database", "cassandra", "-v", "0", env=env)
    print(f"== seeding {args.products} products (fresh)", flush=True)
    seed_seconds = manage("seed_catalog", "--reset", "--products", str(args.products), env=env)
    print("== reindexing", flush=True)
    reindex_seconds = manage("reindex", env=env)

    print("== Temporal floor: probe workflow round trips", flush=True)
    floor = temporal_probe_floor(rounds=200)

    targets = _targets()
    targets_file = RESULTS / "storefront-targets.json"
    targets_file.write_text(json.dumps(targets))
    env["BENCH_TARGETS"] = str(targets_file)

    runs = {}
    port = free_port()
    with web_server(env, port) as host:
        for users in (1, 20):
            print(f"== {users} concurrent shopper(s) for {args.seconds}s", flush=True)
            runs[users] = locust(ROOT / "bench" / "storefront_locustfile.py", host, users, args.seconds,
                                 "storefront", env)

    rows = [("temporal probe round trip", 1, floor["count"], 0, f"{floor['rps']:.1f}",
             f"{floor['p50_ms']:.1f}", f"{floor['p95_ms']:.1f}", f"{floor['p99_ms']:.1f}")]
    for users, stats in runs.items():
        for name in ("search page", "product page"):
            s = stats[name]
            rows.append((name, users, s["requests"], s["failures"], f"{s['rps']:.1f}",
                         f"{s['p50_ms']:.0f}", f"{s['p95_ms']:.0f}", f"{s['p99_ms']:.0f}"))
    print()
    print(table(rows))
    print(f"\nseed {args.products} products: {seed_seconds:.1f}s   reindex: {reindex_seconds:.1f}s")
    path = save("storefront", {"seed_seconds": seed_seconds, "reindex_seconds": reindex_seconds,
                               "temporal_floor": floor, "runs": runs, "products": args.products,
                               "seconds_per_level": args.seconds})
    print(f"saved {path}")


def _targets() -> dict:
    import django

    django.setup()
    from inventory.documents import ProductDocument

    hits = ProductDocument.search().source(["slug", "name", "product_type", "colours"])[:3000].execute()
    slugs = [hit.slug for hit in hits]
    types = sorted({hit.product_type.lower() for hit in hits})
    names = [hit.name for hit in hits[:200]]
    colours = sorted({colour for hit in hits for colour in hit.colours})
    return {"slugs": slugs, "queries": types + names + ["linen shirt", "wool", "mug", "blue", "leather bag"],
            "colours": colours}


if __name__ == "__main__":
    main()
