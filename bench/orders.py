"""OMS benchmark: orders carried from placed to delivered with zero-length simulated fulfillment, sustained
for --seconds, and the lag from each transition to its appearance in the `orders` index, beside the
bare Temporal probe round trip (a workflow and one activity) measured in the same run.

    make bench-orders          (or: .venv/bin/python bench/orders.py --seconds 60 --lanes 8)

Each of --lanes places an order the way a checkout leaves one (the stock held and confirmed, the
payment authorized on the test card, the rows written), starts its `Order` workflow and waits for it to
end (delivered), then places the next, until --seconds have passed; orders in hand then finish. Orders
per second is the delivered orders over the time from the first start to the last delivery.

Lag to the index: every --sample-every-th order is watched by searching the `orders` index every
--poll-ms for its document; the first time a status is seen there, minus that transition's time in
`order_status_history` (the workflow's clock), is one sample. Both clocks are this machine's.

A delivered order's workflow ends at once here (ORDER_REFUND_WINDOW_SECONDS=0; a shop keeps it open
for refunds). Only SKUs of the simulated and dropship suppliers are ordered (manual ones wait for staff). The
dropship partner is polled every 0.1 s and never fails here. It uses the `commerce-bench` namespace,
`commerce_bench` keyspace and `bench-` index prefix; emails go to a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cart import BENCH_ENV  # noqa: E402
from bench.common import RESULTS, bench_env, manage, percentiles, save, table, workers  # noqa: E402

FAST_FULFILLMENT = dict(FULFILLMENT_PROCESSING_SECONDS="0", FULFILLMENT_SHIPPING_SECONDS="0",
                        FULFILLMENT_DELIVERY_SECONDS="0", DROPSHIP_POLL_SECONDS="0.1", DROPSHIP_FAILURE_RATE="0",
                        FULFILLMENT_MANUAL="false", ORDER_APPROVAL_THRESHOLD_CENTS="100000000",
                        ORDER_REFUND_WINDOW_SECONDS="0")
POOL = 40
DRAIN_SECONDS = 120


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=60, help="how long lanes keep placing orders")
    parser.add_argument("--lanes", type=int, default=8, help="orders in flight at once")
    parser.add_argument("--sample-every", type=int, default=4, help="watch every n-th order in the index")
    parser.add_argument("--poll-ms", type=int, default=50)
    parser.add_argument("--floor-rounds", type=int, default=200)
    args = parser.parse_args()
    if not (1 <= args.seconds <= 600 and 1 <= args.lanes <= 64 and 1 <= args.sample_every <= 1000
            and 10 <= args.poll_ms <= 5000 and 1 <= args.floor_rounds <= 5000):
        parser.error("--seconds 1..600, --lanes 1..64, --sample-every 1..1000, --poll-ms 10..5000")
    RESULTS.mkdir(parents=True, exist_ok=True)
    emails = tempfile.TemporaryDirectory(prefix="bench-orders-emails-")
    env = bench_env(**BENCH_ENV, **FAST_FULFILLMENT, EMAIL_FILE_PATH=emails.name)
    os.environ.update({k: env[k] for k in (*BENCH_ENV, *FAST_FULFILLMENT, "DJANGO_SETTINGS_MODULE",
                                           "EMAIL_FILE_PATH")})
    try:
        print("== schema, indices and catalog in the bench keyspace (idempotent)", flush=True)
        manage("migrate", "--database", "cassandra", "-v", "0", env=env)
        manage("create_indices", env=env)
        manage("seed_catalog", env=env)
        skus = _skus()

        print("== Temporal floor: bare probe round trips (workflow + one activity)", flush=True)
        floor = asyncio.run(_probe_floor(args.floor_rounds))

        with workers(env, "orders-workers.log"):
            print(f"== orders placed -> delivered, {args.lanes} lanes, {args.seconds}s", flush=True)
            run = asyncio.run(_run(skus, args))
    finally:
        emails.cleanup()

    rows = [("temporal probe (workflow + activity)", 1, floor["count"], 0, f"{floor['rps']:.1f}",
             f"{floor['p50_ms']:.1f}", f"{floor['p95_ms']:.1f}", f"{floor['p99_ms']:.1f}")]
    lifetime, lag = run["placed_to_delivered"], run["index_lag"]
    rows.append(("order placed -> delivered", args.lanes, lifetime.get("count", 0), run["failed"],
                 f"{run['orders_per_second']:.2f}", *(f"{lifetime.get(k, 0):.0f}" for k in ("p50_ms", "p95_ms",
                                                                                             "p99_ms"))))
    rows.append(("transition -> seen in orders index", "-", lag.get("count", 0), run["overtaken"], "-",
                 *(f"{lag.get(k, 0):.0f}" for k in ("p50_ms", "p95_ms", "p99_ms"))))
    print()
    print(table(rows))
    print(f"\n{run['delivered']} orders delivered in {run['span_seconds']:.1f}s: {run['orders_per_second']:.2f}"
          f" orders/s; {run['failed']} failed; transitions overtaken before a poll saw them (the fail column):"
          f" {run['overtaken']}")
    path = save("orders", {"floor": floor, "run": run, "seconds": args.seconds, "lanes": args.lanes})
    print(f"saved {path}")


def _skus() -> list[str]:
    """SKUs of simulated and dropship suppliers, each with a deep stock."""
    import django

    django.setup()
    from commerce.cassandra import session, table
    from inventory.models import Product, Supplier, VariantByProduct

    automatic = {s.supplier_id for s in Supplier.objects.all() if s.strategy in ("simulated", "dropship")}
    products = [p for p in Product.objects.all().limit(POOL * 5) if p.supplier_id in automatic][:POOL]
    skus = [next(iter(VariantByProduct.objects.filter(product_slug=p.slug))).sku for p in products]
    for sku in skus:
        for row in session().execute(f"SELECT supplier_id FROM {table('inventory_stock')} WHERE sku = %s", [sku]):
            session().execute(f"UPDATE {table('inventory_stock')} SET on_hand = 1000000 WHERE sku = %s"
                              f" AND supplier_id = %s IF EXISTS", [sku, row["supplier_id"]])
    return skus


def _place(sku: str, token: str):
    """What a checkout leaves behind: a confirmed hold, an authorization, the order's rows."""
    from checkout import payments
    from checkout.contracts import Address, AuthorizeRequest, CheckoutLine, Totals
    from inventory import stock
    from orders import store
    from orders.contracts import OrderInput
    from orders.numbers import new_order_number

    number = new_order_number(uuid.uuid4().int >> 78)
    checkout_id = f"bench-checkout-{number}"
    rid = f"{checkout_id}-{sku}"
    stock.hold(rid, sku, 1, datetime.now(UTC) + timedelta(hours=1))
    stock.confirm(rid, sku)
    key = f"{checkout_id}/payment-1"
    total = 4_200
    payments.authorize(AuthorizeRequest(key, token, total))
    order = OrderInput(
        order_number=number, checkout_id=checkout_id, cart_id=f"bench-cart-{number}", email="bench@example.com",
        customer_id="", shipping_address=Address("bench@example.com", "Bench Shopper", "1 Loop Rd", "",
                                                 "Portland", "OR", "97201"),
        shipping_method="standard", lines=(CheckoutLine(sku, "bench", "Bench item", "Blue", "M", total, 1, "", rid),),
        totals=Totals(total, 0, 0, 0, total), payment_authorization_key=key, card_brand="Visa", card_last4="4242",
        placed_at=datetime.now(UTC).isoformat())
    store.write_order(order)
    return order


async def _run(skus: list[str], args) -> dict:
    from checkout import payments
    from commerce.search import es, index_name
    from commerce.temporal import connect
    from orders import history
    from orders.contracts import TASK_QUEUE, OrderWorkflows, order_workflow_id

    client = await connect()
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(max_workers=args.lanes * 2)
    token = payments.tokenize("4242424242424242", 12, datetime.now(UTC).year + 3, "123", "Bench Shopper").token
    lifetimes: list[float] = []
    lags: list[float] = []
    counts = {"delivered": 0, "failed": 0, "overtaken": 0, "placed": 0}
    first_start: list[float] = []
    last_end: list[float] = []
    deadline = time.monotonic() + args.seconds
    alias = index_name("orders")

    async def watch(number: str, done: asyncio.Event) -> dict[str, float]:
        seen: dict[str, float] = {}
        while True:
            finished = done.is_set()
            found = await loop.run_in_executor(pool, lambda: es().search(
                index=alias, query={"term": {"order_number": number}}, size=1)["hits"]["hits"])
            if found:
                seen.setdefault(found[0]["_source"]["status"], time.time())
            if finished:
                return seen
            await asyncio.sleep(args.poll_ms / 1000)

    async def lane(index: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            n += 1
            sku = skus[(index * 7 + n) % len(skus)]
            order = await loop.run_in_executor(pool, _place, sku, token)
            counts["placed"] += 1
            sampled = counts["placed"] % args.sample_every == 0
            began = time.perf_counter()
            if not first_start:
                first_start.append(time.monotonic())
            handle = await client.start_workflow(OrderWorkflows.ORDER, order, id=order_workflow_id(order.order_number),
                                                 task_queue=TASK_QUEUE)
            done = asyncio.Event()
            watcher = asyncio.create_task(watch(order.order_number, done)) if sampled else None
            try:
                status = await asyncio.wait_for(handle.result(), timeout=DRAIN_SECONDS)
            except Exception as error:  # noqa: BLE001 - a benchmark reports, it does not stop
                counts["failed"] += 1
                print(f"   {order.order_number}: {error!r}", flush=True)
                status = None
            if status == "delivered":
                counts["delivered"] += 1
                lifetimes.append((time.perf_counter() - began) * 1000)
                last_end.append(time.monotonic())
            elif status is not None:
                counts["failed"] += 1
            if watcher:
                await asyncio.sleep(2)  # the last transitions' documents: a refresh interval and some
                done.set()
                seen = await watcher
                for transition in await loop.run_in_executor(pool, history.read_history, order.order_number):
                    at = datetime.fromisoformat(transition.at).timestamp()
                    if transition.to_status in seen:
                        lags.append(max(0.0, (seen[transition.to_status] - at) * 1000))
                    else:  # overtaken by the next one before a poll saw it
                        counts["overtaken"] += 1
            if counts["placed"] % 20 == 0:
                print(f"   {counts['placed']} placed, {counts['delivered']} delivered, {counts['failed']} failed",
                      flush=True)

    await asyncio.gather(*(lane(i) for i in range(args.lanes)))
    span = (last_end[-1] - first_start[0]) if last_end and first_start else 0.0
    return {
        **counts,
        "span_seconds": span,
        "orders_per_second": counts["delivered"] / span if span else 0.0,
        "placed_to_delivered": percentiles(lifetimes) if len(lifetimes) > 1 else {},
        "index_lag": percentiles(lags) if len(lags) > 1 else {},
    }



async def _probe_floor(rounds: int) -> dict:
    """Probe workflows (one activity each) started and awaited one at a time (bench/direct.py)."""
    import django

    django.setup()
    from bench.direct import probe_direct
    from commerce.temporal import connect

    figures, _ids = await probe_direct(await connect(), rounds)
    return figures


if __name__ == "__main__":
    main()
