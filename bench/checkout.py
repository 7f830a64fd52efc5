"""Checkout benchmark: whole guest checkouts through HTTP (add to cart -> confirmation page) at 1 and
20 concurrent shoppers, and submit -> order workflow running, beside the bare Temporal update round
trip measured in the same run.

    make bench-checkout          (or: .venv/bin/python bench/checkout.py --seconds 30)

Shoppers start checkouts for --seconds, then finish the one in hand (at most 90 s more), so a checkout
slower than the window is measured rather than cut off; whole checkouts per second is the orders
placed over the time from the first add to the last confirmation.

Submit -> order workflow running is the time from sending POST /checkout/submit/ to the start of the
order workflow `order-{number}` as Temporal recorded it: once a shopper's processing page lands on the
confirmation, the bench describes that workflow (until it answers RUNNING) and takes its start time;
both clocks are this machine's. Submit -> confirmation page is what the shopper waits for instead: the
saga to its end (the confirmation email included) and the processing page polled every --poll-ms.

It runs its own workers and web server on the `commerce-bench` namespace, `commerce_bench` keyspace
and `bench-` index prefix (the SKUs of bench/cart.py, restocked), so the shop's data is untouched.
Confirmation emails go to a temporary directory. The order workflows it starts stay running, as
placed orders do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cart import BENCH_ENV, _floor, prepare_targets  # noqa: E402
from bench.common import (  # noqa: E402
    RESULTS,
    ROOT,
    bench_env,
    free_port,
    locust,
    percentiles,
    save,
    table,
    web_server,
    workers,
)

STEPS = ("product page (setup)", "add to cart", "checkout start", "checkout shipping", "checkout payment",
         "checkout review page", "checkout submit", "checkout processing (poll)", "checkout complete page")
WHOLE = "whole checkout (add -> confirmation)"
SEEN = "submit -> confirmation page"
RUNNING_WITHIN_SECONDS = 10  # describe() polls an order workflow this long for RUNNING
DRAIN_SECONDS = 90  # after the window, the checkouts in hand may take this long to finish


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=30,
                        help="how long shoppers start checkouts, per concurrency level (the ones in hand finish)")
    parser.add_argument("--floor-rounds", type=int, default=400)
    parser.add_argument("--poll-ms", type=int, default=100,
                        help="how often a shopper polls the processing page (a browser: every 2 s)")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    emails = tempfile.TemporaryDirectory(prefix="bench-checkout-emails-")
    env = bench_env(**BENCH_ENV, CART_CREATIONS_PER_MINUTE="100000", EMAIL_FILE_PATH=emails.name)
    os.environ.update({k: env[k] for k in (*BENCH_ENV, "DJANGO_SETTINGS_MODULE")})

    prepare_targets(env, "checkout")

    print("== Temporal floor: bare update round trips", flush=True)
    floor = asyncio.run(_floor(args.floor_rounds))

    runs: dict[int, dict] = {}
    port = free_port()
    try:
        with workers(env, "checkout-workers.log"), web_server(env, port) as host:
            for users in (1, 20):
                print(f"== whole checkouts, {users} shopper(s), {args.seconds}s", flush=True)
                records_file = RESULTS / f"checkout-{users}u.jsonl"
                records_file.write_text("")
                shoppers_env = {**env, "BENCH_CHECKOUTS": str(records_file), "BENCH_SECONDS": str(args.seconds),
                                "BENCH_POLL_MS": str(args.poll_ms)}
                http = locust(ROOT / "bench" / "checkout_locustfile.py", host, users, args.seconds + DRAIN_SECONDS,
                              "checkout", shoppers_env)
                records = [json.loads(line) for line in records_file.read_text().splitlines() if line]
                runs[users] = _figures(records)
                orders = [record for record in records if "order_number" in record]
                print(f"== describing the order workflows of {len(orders)} checkout(s)", flush=True)
                runs[users]["order_running"] = asyncio.run(_order_workflows(orders))
                runs[users]["http"] = http
    finally:
        emails.cleanup()

    rows = []
    for users, results in floor.items():
        for name, s in results.items():
            rows.append((f"temporal {name}", users, s["count"], 0, f"{s['rps']:.1f}", f"{s['p50_ms']:.1f}",
                         f"{s['p95_ms']:.1f}", f"{s['p99_ms']:.1f}"))
    for users, run in runs.items():
        whole = run["whole_checkout"]
        rows.append(_row("submit -> order workflow running", users, run["order_running"],
                         run["order_running"]["not_running"], "-"))
        rows.append(_row(SEEN, users, run["submit_to_confirmation"], 0, "-"))
        rows.append(_row(WHOLE, users, whole, run["abandoned"], f"{whole['per_second']:.2f}"))
    steps = []
    for users, run in runs.items():
        for name in STEPS:
            s = run["http"].get(name)
            steps.append((name, users, s["requests"], s["failures"], f"{s['rps']:.2f}", f"{s['p50_ms']:.0f}",
                          f"{s['p95_ms']:.0f}", f"{s['p99_ms']:.0f}") if s else (name, users, 0, 0, "-", "-", "-", "-"))
    print()
    print(table(rows))
    print("\nwhole checkouts per second (placed / first add to last confirmation): " + ", ".join(
        f"{run['whole_checkout']['per_second']:.2f} at {users} shopper(s) ({run['whole_checkout']['count']} in "
        f"{run['span_seconds']:.1f}s)" for users, run in runs.items()))
    print(f"Shoppers start checkouts for {args.seconds}s, then finish the one in hand. fail: order workflows not "
          "seen RUNNING; checkouts abandoned on the way.\nPer request (locust, rounded):\n")
    print(table(steps))
    problems = _problems(RESULTS / f"web-{port}.log", RESULTS / "checkout-workers.log")
    for users, run in runs.items():
        for reason, count in run["abandoned_reasons"].items():
            problems.append(f"{users} shopper(s): {count} checkout(s) abandoned: {reason}")
        for workflow_id, status in run["order_running"]["not_running_ids"].items():
            problems.append(f"{users} shopper(s): {workflow_id} {status}")
    print("\n" + ("\n".join(problems) if problems else "no abandoned checkouts, no errors in the web and worker logs"))
    path = save("checkout", {"floor": floor, "runs": runs, "seconds_per_level": args.seconds,
                             "poll_ms": args.poll_ms, "problems": problems})
    print(f"saved {path}")


def _summary(samples_ms: list[float]) -> dict:
    if len(samples_ms) > 1:
        return percentiles(samples_ms)
    value = samples_ms[0] if samples_ms else None
    return {"count": len(samples_ms), "p50_ms": value, "p95_ms": value, "p99_ms": value}


def _row(name: str, users: int, s: dict, failures: int, rate: str) -> tuple:
    cells = [f"{s[p]:.0f}" if s["count"] else "-" for p in ("p50_ms", "p95_ms", "p99_ms")]
    return (name, users, s["count"], failures, rate, *cells)


def _figures(records: list[dict]) -> dict:
    """Exact figures of the checkouts, from the shoppers' own records."""
    placed = [record for record in records if "order_number" in record]
    reasons: dict[str, int] = {}
    for record in records:
        if "abandoned" in record:
            reasons[record["abandoned"]] = reasons.get(record["abandoned"], 0) + 1
    span = (max((r.get("confirmed") or r["ended"] for r in records), default=0.0)
            - min((r["add_sent"] for r in records), default=0.0))
    return {
        "whole_checkout": {**_summary([(r["confirmed"] - r["add_sent"]) * 1000 for r in placed]),
                           "per_second": len(placed) / span if span > 0 else 0.0},
        "submit_to_confirmation": _summary([(r["confirmed"] - r["submit_sent"]) * 1000 for r in placed]),
        "span_seconds": span,
        "abandoned": sum(reasons.values()),
        "abandoned_reasons": reasons,
    }


async def _order_workflows(orders: list[dict]) -> dict:
    """Describe each order's workflow until it is RUNNING; p50/p95/p99 of its start time minus the time
    the submit was sent."""
    from temporalio.client import WorkflowExecutionStatus
    from temporalio.service import RPCError

    from commerce.temporal import connect
    from orders.contracts import order_workflow_id

    client = await connect()
    gate = asyncio.Semaphore(20)
    samples: list[float] = []
    not_running: dict[str, str] = {}

    async def one(order: dict) -> None:
        workflow_id = order_workflow_id(order["order_number"])
        deadline = time.monotonic() + RUNNING_WITHIN_SECONDS
        status = "not found"
        async with gate:
            while time.monotonic() < deadline:
                try:
                    described = await client.get_workflow_handle(workflow_id).describe()
                except RPCError as error:
                    status = f"not found ({error.status.name})"
                else:
                    status = described.status.name if described.status else "unknown"
                    if described.status == WorkflowExecutionStatus.RUNNING:
                        samples.append((described.start_time.timestamp() - order["submit_sent"]) * 1000)
                        return
                await asyncio.sleep(0.05)
        not_running[workflow_id] = status

    await asyncio.gather(*(one(order) for order in orders))
    return {**_summary(samples), "not_running": len(not_running), "not_running_ids": not_running}


def _problems(*logs: Path) -> list[str]:
    """Errors the web server and the workers logged during the run."""
    found = []
    for log in logs:
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        bad = [line for line in lines if "Traceback" in line or "ERROR" in line]
        if bad:
            found.append(f"{log}: {len(bad)} error line(s), first: {bad[0][:200]}")
    return found


if __name__ == "__main__":
    main()
