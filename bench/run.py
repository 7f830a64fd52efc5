"""`make bench`: the whole shop under load beside the bare Temporal and Elasticsearch requests it makes,
in one run, on its own data.

    make bench        (or: .venv/bin/python bench/run.py; --help for the durations)

In order: the local stack (started if down), the schema, the catalog seeded afresh and reindexed
(timed: the target is 30 s together), the shop served as `runshop` serves it (workers and several
web processes), then:

1. floors and steps, each at 1 and 20 clients, every step next to its floor, by the same closed-loop
   client (bench/load.py): the search page against its own Elasticsearch request sent directly;
   add-to-cart on an existing cart against the cart's add_item update sent directly and a bare echo
   update; the checkout submit against the submit update sent directly; the steps behind the submit
   (authorize, confirm holds, write order, start order...) against a bare activity round trip;
2. the whole journey (bench/journey_locustfile.py) for --journey-seconds at 1, 20 and 50 shoppers.

It prints one table per step, writes the marked section of docs/performance.md and the chart
docs/performance-latency.svg, and saves every figure in bench/results/bench-<time>.json.

Its data are its own: keyspace commerce_bench, index prefix bench-, Temporal namespace
commerce-bench, SQL database bench/results/bench-db.sqlite3, emails in a temporary directory.
Loopback only; at most 50 shoppers; every load phase is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import report  # noqa: E402
from bench.common import PYTHON, RESULTS, ROOT, bench_env, free_port, locust, manage, save  # noqa: E402

BENCH_ENV = dict(CASSANDRA_KEYSPACE="commerce_bench", ELASTICSEARCH_INDEX_PREFIX="bench-",
                 TEMPORAL_NAMESPACE="commerce-bench")
DATABASE = RESULTS / "bench-db.sqlite3"
PRODUCTS = 2689
POOL = 40  # SKUs shoppers add from, restocked deep before the run
CLIENTS = (1, 20)
SEED_TARGET_SECONDS = 30
# Workflows a run leaves running; the shop's own services (the inventory sweep, the session sweep)
# are not among them.
LEFT_BY_RUNS = {"Cart", "Checkout", "Order", "Fulfillment", "SupplierOrder", "BenchEcho", "Probe"}
DRAIN_SECONDS = 60  # after a journey window, the journeys in hand may take this long to finish
BEGAN = time.monotonic()


def progress(message: str) -> None:
    print(f"[{time.monotonic() - BEGAN:6.0f}s] == {message}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10, help="each floor and step, per client count")
    parser.add_argument("--journey-seconds", type=int, default=60, help="each journey level (at most 60)")
    parser.add_argument("--shoppers", default="1,20,50", help="journey levels (each at most 50)")
    parser.add_argument("--web-processes", type=int, default=int(os.environ.get("WEB_PROCESSES", "2")))
    parser.add_argument("--parts", default="steps,journey", help="steps, journey or both (quicker partial runs)")
    parser.add_argument("--no-seed", action="store_true", help="keep the bench catalog as it is (quicker re-runs)")
    parser.add_argument("--no-page", action="store_true", help="print, but leave docs/performance.md alone")
    args = parser.parse_args()
    # A SIGTERM (a timeout, Ctrl-C from make) unwinds like an exception, so the shop is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    shoppers = [min(50, int(level)) for level in args.shoppers.split(",") if level]
    journey_seconds = min(60, args.journey_seconds)
    RESULTS.mkdir(parents=True, exist_ok=True)
    emails = tempfile.TemporaryDirectory(prefix="bench-emails-")
    env = bench_env(**BENCH_ENV, DATABASE_URL=f"sqlite:///{DATABASE}", EMAIL_FILE_PATH=emails.name,
                    WEB_PROCESSES=str(args.web_processes),
                    # Every shopper comes from 127.0.0.1: the per-client cart creation limit would
                    # measure 429s instead of carts.
                    CART_CREATIONS_PER_MINUTE="1000000")
    os.environ.update({k: env[k] for k in (*BENCH_ENV, "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "EMAIL_FILE_PATH")})

    progress("local stack (started if down)")
    subprocess.run([PYTHON, "-m", "commerce.stack", "up"], check=True, cwd=ROOT, env=env)
    progress(f"schema: SQL database {DATABASE.relative_to(ROOT)} and keyspace commerce_bench")
    manage("migrate", "-v", "0", env=env)
    manage("createcachetable", env=env)
    seed = {}
    if not args.no_seed:
        progress(f"catalog: seed {PRODUCTS} products afresh, then reindex (target: {SEED_TARGET_SECONDS}s together)")
        seed["seed_seconds"] = manage("seed_catalog", "--reset", "--products", str(PRODUCTS), env=env)
        seed["reindex_seconds"] = manage("reindex", env=env)
    targets = _targets()
    asyncio.run(_clear_namespace())
    targets_file = RESULTS / "bench-targets.json"
    targets_file.write_text(json.dumps(targets))
    env["BENCH_TARGETS"] = str(targets_file)

    results: dict = {"machine": report.machine(), "seed": seed, "web_processes": args.web_processes,
                     "seconds_per_step": args.seconds, "journey_seconds": journey_seconds}
    try:
        with shop(env, args.web_processes) as base:
            parts = args.parts.split(",")
            results["steps"] = asyncio.run(_steps(base, targets, args.seconds)) if "steps" in parts else {}
            results["journeys"] = ({users: _journey(base, env, users, journey_seconds) for users in shoppers}
                                   if "journey" in parts else {})
            results["problems"] = _problems()
    finally:
        emails.cleanup()
    path = save("bench", results)
    _report(results, write_page=not args.no_page)
    progress(f"done; figures in {path.relative_to(ROOT)}")


# -- the shop --------------------------------------------------------------------------------------
@contextmanager
def shop(env: dict, processes: int):
    """The shop on a free loopback port as `runshop` runs it: the workers' child and `processes` web
    processes (WEB_PROCESSES in `env`)."""
    port = free_port()
    log = open(RESULTS / "bench-shop.log", "w")  # noqa: SIM115 - the shop writes to it until it stops
    commands = [[PYTHON, "manage.py", "runshop", "--port", str(port)]]
    progress(f"shop on 127.0.0.1:{port}: {' + '.join(' '.join(c[1:3]) for c in commands)} "
             f"({processes} web processes); log bench/results/bench-shop.log")
    children = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True) for command in commands]
    try:
        _wait_for(port, children)
        yield f"http://127.0.0.1:{port}"
    finally:
        for child in reversed(children):
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)  # its own group: uvicorn's worker processes too
        for child in reversed(children):
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        log.close()


def _wait_for(port: int, children: list, seconds: float = 90) -> None:
    """Until the web answers and the workers poll (a cart update answers)."""
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            raise SystemExit("the shop stopped while starting: see bench/results/bench-shop.log")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the shop did not answer on port {port} within {seconds:.0f}s: see bench/results/bench-shop.log")


def _targets() -> dict:
    """The SKUs shoppers add (restocked deep), product slugs, search words and colours of the catalog."""
    import django

    django.setup()
    from commerce.cassandra import session, table
    from inventory.documents import ProductDocument
    from inventory.models import Product, VariantByProduct

    products = list(Product.objects.all().limit(POOL))
    skus = [next(iter(VariantByProduct.objects.filter(product_slug=p.slug))).sku for p in products]
    for sku in skus:
        for row in session().execute(f"SELECT supplier_id FROM {table('inventory_stock')} WHERE sku = %s", [sku]):
            session().execute(f"UPDATE {table('inventory_stock')} SET on_hand = 10000000 WHERE sku = %s"
                              f" AND supplier_id = %s IF EXISTS", [sku, row["supplier_id"]])
    hits = ProductDocument.search().source(["slug", "name", "product_type", "colours"])[:3000].execute()
    slugs = [hit.slug for hit in hits]
    types = sorted({hit.product_type.lower() for hit in hits})
    names = [hit.name for hit in hits[:200]]
    colours = sorted({colour for hit in hits for colour in hit.colours})
    queries = types + names + ["linen shirt", "wool", "mug", "blue", "leather bag"]
    rng = random.Random(13)  # the same searches every run
    searches = [{"q": q} if rng.random() < 0.5 else {"q": q, "color": rng.choice(colours)} for q in queries]
    return {"slug": products[0].slug, "skus": skus, "slugs": slugs, "queries": queries, "colours": colours,
            "searches": searches}


async def _clear_namespace() -> None:
    """End the workflows earlier bench runs left running in the bench's namespace (carts idle for
    days, orders waiting on fulfillment timers and partner polls), so every run starts from the same
    quiet namespace instead of a busier one each time: one batch terminate, run by the server."""
    from temporalio.api.batch.v1 import BatchOperationTermination
    from temporalio.api.workflowservice.v1 import StartBatchOperationRequest

    from commerce.temporal import connect

    client = await connect()
    types = ", ".join(f"'{name}'" for name in sorted(LEFT_BY_RUNS))
    query = f"ExecutionStatus = 'Running' AND WorkflowType IN ({types})"
    left = (await client.count_workflows(query)).count
    progress(f"namespace {client.namespace}: ending the {left} workflow(s) earlier runs left running")
    if left:
        await client.workflow_service.start_batch_operation(StartBatchOperationRequest(
            namespace=client.namespace, visibility_query=query, job_id=f"bench-clear-{uuid.uuid4().hex[:8]}",
            reason="left by an earlier bench run", termination_operation=BatchOperationTermination()))


# -- floors and steps ------------------------------------------------------------------------------
async def _steps(base: str, targets: dict, seconds: float) -> dict:
    from django.conf import settings

    from bench import direct, steps
    from bench.floor import echo_direct
    from commerce.temporal import connect

    client = await connect()
    searches, skus, slug = targets["searches"], targets["skus"], targets["slug"]
    progress("warming up: every step a few seconds, not counted")
    await steps.search_page(base, searches, 2, 2)
    await steps.add_to_cart(base, slug, skus, 2, 2)
    await steps.checkout_submit(base, slug, skus, 1, 2)
    await direct.search_direct(settings.ELASTICSEARCH_URL, searches, 2, 2)

    out: dict = {}
    progress("floor: probe workflow (start, one activity, result) x 100, and its activity round trip")
    out["probe/1"], probe_ids = await direct.probe_direct(client, 100)
    out["activity"] = (await direct.activity_steps(client, probe_ids))
    for clients in CLIENTS:
        progress(f"search: its Elasticsearch request direct, then the page, {clients} client(s), {seconds:g}s each")
        out[f"search-direct/{clients}"] = await direct.search_direct(settings.ELASTICSEARCH_URL, searches, clients,
                                                                     seconds)
        out[f"search-page/{clients}"] = await steps.search_page(base, searches, clients, seconds)
    for clients in CLIENTS:
        progress(f"add to cart (existing cart): echo update, the cart update direct, then HTTP, {clients} "
                 f"client(s), {seconds:g}s each")
        out[f"echo/{clients}"] = await echo_direct(client, clients, seconds)
        out[f"cart-direct/{clients}"] = await direct.cart_update_direct(client, skus, clients, seconds)
        out[f"cart-http/{clients}"] = await steps.add_to_cart(base, slug, skus, clients, seconds)
    submitted: list[str] = []
    for clients in CLIENTS:
        progress(f"checkout submit: the update direct, then HTTP, {clients} client(s), {seconds:g}s each "
                 "(checkouts prepared to review untimed)")
        out[f"submit-direct/{clients}"], ids = await direct.submit_direct(client, skus, clients, seconds)
        submitted += ids if clients == 1 else []
        out[f"submit-http/{clients}"] = await steps.checkout_submit(base, slug, skus, clients, seconds)
    progress(f"the steps behind {len(submitted)} submits, from their workflows' histories")
    out["behind-submit"] = await direct.activity_steps(client, submitted)
    return out


# -- the journey -----------------------------------------------------------------------------------
def _journey(base: str, env: dict, users: int, seconds: int) -> dict:
    progress(f"journey: {users} shopper(s) for {seconds}s (then the journeys in hand finish)")
    records_file = RESULTS / f"bench-journey-{users}u.jsonl"
    records_file.write_text("")
    http = locust(ROOT / "bench" / "journey_locustfile.py", base, users, seconds + DRAIN_SECONDS, "bench-journey",
                  {**env, "BENCH_JOURNEYS": str(records_file), "BENCH_SECONDS": str(seconds)})
    records = [json.loads(line) for line in records_file.read_text().splitlines() if line]
    placed = [record for record in records if "order_number" in record]
    span = (max((r["ended"] for r in records), default=0.0) - min((r["began"] for r in records), default=0.0))
    reasons: dict[str, int] = {}
    for record in records:
        if "abandoned" in record:
            reasons[record["abandoned"]] = reasons.get(record["abandoned"], 0) + 1
    errors = sum(s["failures"] for name, s in http.items() if name != "journey abandoned")
    return {"http": http, "orders": len(placed), "orders_per_second": len(placed) / span if span > 0 else 0.0,
            "declined_then_placed": sum(1 for r in placed if r.get("declined_first")),
            "abandoned": sum(reasons.values()), "abandoned_reasons": reasons, "errors": errors,
            "span_seconds": span}


def _problems() -> list[str]:
    """The ERROR lines the shop logged during the run, counted by logger and message (numbers, ids and
    times dropped); the simulated dropship partner's refusals, retried by design, are not among them."""
    log = RESULTS / "bench-shop.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    found = Counter(re.sub(r"[0-9a-f]{8,}|\d+", "N", line.split(" ERROR ", 1)[1])[:120]
                    for line in lines if " ERROR " in line)
    return [f"{count} x {message}" for message, count in found.most_common(8)]


# -- the report ------------------------------------------------------------------------------------
def _report(results: dict, write_page: bool) -> None:
    sections = _step_sections(results["steps"]) if results["steps"] else []
    sections += _journey_sections(results["journeys"])
    seed = results["seed"]
    seed_note = (f"Catalog of {PRODUCTS} products: seed {seed['seed_seconds']:.1f}s + reindex "
                 f"{seed['reindex_seconds']:.1f}s = {seed['seed_seconds'] + seed['reindex_seconds']:.1f}s "
                 f"(target ≤ {SEED_TARGET_SECONDS}s)." if seed else "Catalog not reseeded in this run (--no-seed).")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (f"Run of {when} on {results['machine']}; {results['web_processes']} web processes; "
              f"{results['seconds_per_step']:g}s per step and client count, journeys "
              f"{results['journey_seconds']}s per level.\n\n{seed_note}"
              + ("\n\nProblems: " + "; ".join(results["problems"]) if results["problems"] else ""))
    print()
    print(header)
    for title, rows, note in sections:
        print(f"\n{title}\n{report.text_table(rows)}")
        if note:
            print(note)
    if write_page and results["steps"] and results["journeys"]:
        report.write_page(sections, header)
        report.write_chart(results["journeys"])
        print(f"\nwritten: {report.PAGE.relative_to(ROOT)}, {report.CHART.relative_to(ROOT)}")


def _step_sections(s: dict) -> list:
    r = report.ratio
    sections = []
    rows = []
    for c in CLIENTS:
        rows.append(report.row("Elasticsearch request direct (floor)", s[f"search-direct/{c}"]))
        page, floor = s[f"search-page/{c}"], s[f"search-direct/{c}"]
        rows.append(report.row("search page", page, "p50 " + r(page["p50_ms"], floor["p50_ms"], 1.5 if c == 1 else None)
                               + "; per s " + r(page["rps"], floor["rps"], 0.7 if c > 1 else None, at_least=True)))
    sections.append(("Search page against its own Elasticsearch request", rows,
                     "Target: p50 ≤ 1.5x the bare request; at 20 clients ≥ 70% of its throughput."))
    rows = []
    for c in CLIENTS:
        rows.append(report.row("echo update direct (floor)", s[f"echo/{c}"]))
        rows.append(report.row("cart add_item update direct (floor)", s[f"cart-direct/{c}"]))
        page = s[f"cart-http/{c}"]
        rows.append(report.row("HTTP add to cart, existing cart", page,
                               "direct " + r(page["p50_ms"], s[f"cart-direct/{c}"]["p50_ms"], 1.3 if c == 1 else None)
                               + "; echo " + r(page["p50_ms"], s[f"echo/{c}"]["p50_ms"], 2.0 if c == 1 else None)))
    sections.append(("Add to cart (guest, existing cart) against Temporal", rows,
                     "Target at 1 client: p50 ≤ 1.3x the same update sent directly, ≤ 2.0x a bare echo update."))
    rows = []
    for c in CLIENTS:
        rows.append(report.row("submit update direct (floor)", s[f"submit-direct/{c}"]))
        page = s[f"submit-http/{c}"]
        rows.append(report.row("HTTP checkout submit", page,
                               r(page["p50_ms"], s[f"submit-direct/{c}"]["p50_ms"], 1.3 if c == 1 else None)))
    sections.append(("Checkout submit against the submit update", rows, "Target at 1 client: p50 ≤ 1.3x."))
    activity = next(iter(s["activity"].values()), None)
    rows = [report.row("probe workflow: start, one activity, result", s["probe/1"])]
    if activity:
        rows.append(report.row("bare activity round trip (floor)", {**activity, "rps": 0.0, "clients": 1}))
    for name, figures in sorted(s["behind-submit"].items()):
        rows.append(report.row(f"submit saga: {name}", {**figures, "rps": 0.0, "clients": 1},
                               r(figures["p50_ms"], activity["p50_ms"]) if activity else "-"))
    sections.append(("The steps behind a submit against a bare activity round trip", rows,
                     "Each activity from scheduled to completed as the workflow's history recorded it (the "
                     "submits of the 1-client run); per s is not measured here."))
    return sections


def _journey_sections(journeys: dict) -> list:
    sections = []
    for users, journey in journeys.items():
        rows = [report.row(name, {"count": f["requests"], "errors": f["failures"], "rps": f["rps"], "clients": users,
                                  "p50_ms": f["p50_ms"], "p95_ms": f["p95_ms"], "p99_ms": f["p99_ms"]})
                for name, f in journey["http"].items()]
        note = (f"{journey['orders']} orders in {journey['span_seconds']:.0f}s: **{journey['orders_per_second']:.2f} "
                f"orders/s**; {journey['declined_then_placed']} after a declined card; errors: {journey['errors']}; "
                f"journeys abandoned: {journey['abandoned']}"
                + (f" ({journey['abandoned_reasons']})" if journey["abandoned_reasons"] else ""))
        sections.append((f"Whole journey, {users} concurrent shopper(s)", rows, note))
    return sections


if __name__ == "__main__":
    main()
