"""The workers' process killed with -9 at random moments (a fixed seed) while 30 shoppers submit their
checkouts at once, and started again each time: every checkout ends exactly once, the ledger holds
one live authorization per order and nothing unvoided beside it, and stock is counted once.

Some shoppers pay first with the declined test card (sent back to payment, then pay with a good
card), some with the transient one (retried by the saga). Slow (about a minute): marked `faults`.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient
from temporalio.worker import Replayer

from checkout import payments
from checkout.workflows import CheckoutWorkflow
from commerce.cassandra import session, table
from commerce.temporal import get_client
from inventory.stock import stock_rows
from orders.workflows import OrderWorkflow
from tests.stock_helpers import fresh_sku
from tests.test_checkout import GOOD_CARD, _add, _order_number, _row_auth_key, _row_checkout_id, _to_review, _value

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog")]

MANAGE = Path(__file__).resolve().parent.parent / "manage.py"
SHOPPERS = 30
KILLS = 4
SEED = 20261123
ON_HAND = 10
DECLINED_CARD = {**GOOD_CARD, "card_number": "4000 0000 0000 0002"}
TRANSIENT_CARD = {**GOOD_CARD, "card_number": "4000 0000 0000 0119"}
REPLAYED = [CheckoutWorkflow, OrderWorkflow]
SETTLE_POLLS = 600  # x 0.2 s: a killed activity is retried after its start-to-close timeout (15 s)


@pytest.fixture(autouse=True)
def shop_settings(settings):
    settings.CART_CREATIONS_PER_MINUTE = 1000


class WorkerProcess:
    """`manage.py runworkers` as operators run it, on the test keyspace and namespace."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        env = {**os.environ, "WORKER_METRICS_PORT": "0", "TEMPORAL_GRACEFUL_SHUTDOWN_SECONDS": "1"}
        with self.log.open("a") as out:
            self.process = subprocess.Popen([sys.executable, str(MANAGE), "runworkers"], stdout=out,
                                            stderr=subprocess.STDOUT, env=env)
        self.starts += 1

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no drain, in-flight tasks lost
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def workers(tmp_path):
    process = WorkerProcess(tmp_path / "runworkers.log")
    process.start()
    yield process
    process.stop()


def _card(index: int) -> dict:
    return DECLINED_CARD if index % 10 == 3 else TRANSIENT_CARD if index % 10 == 7 else GOOD_CARD


async def _settle(client) -> str:
    """Where the processing page sends the shopper once the submit has settled."""
    for _ in range(SETTLE_POLLS):
        response = await client.get("/checkout/processing/")  # a 503 while the workers are down: poll on
        if response.status_code == 302:
            return response["Location"]
        await asyncio.sleep(0.2)
    raise AssertionError("the checkout never settled")


async def _answered(client, path: str, form: dict | None = None):
    """A page's answer once the shop answers it: while the workers are down a step waits for them
    and then answers 503 ("try again"), and the shopper sends the same form again."""
    for _ in range(60):
        response = await (client.get(path) if form is None else client.post(path, form))
        if response.status_code != 503:
            return response
        await asyncio.sleep(0.5)
    raise AssertionError("the shop kept answering 503")


async def _checkout(client, review: str) -> str:
    """Submit, and pay again with a good card when the first card is declined: the order number."""
    for _ in range(2):
        form = {"expected_total_cents": _value(review, "expected_total_cents"), "nonce": _value(review, "nonce")}
        await _answered(client, "/checkout/submit/", form)
        location = await _settle(client)
        if location.endswith("/checkout/complete/"):
            return _order_number((await _answered(client, location)).content.decode())
        assert location.endswith("/checkout/payment/"), location
        page = (await _answered(client, location)).content.decode()
        assert "Your card was declined." in page
        await _answered(client, "/checkout/payment/", GOOD_CARD)
        review = (await _answered(client, "/checkout/review/")).content.decode()
    raise AssertionError("a good card after a decline did not place the order")


async def _kill_at_random_moments(workers: WorkerProcess, rng: random.Random) -> None:
    for _ in range(KILLS):
        await asyncio.sleep(rng.uniform(0.3, 2.5))
        workers.kill()
        await asyncio.sleep(rng.uniform(0.0, 1.0))
        workers.start()


def _orders_of(checkout_ids: set[str]) -> Counter:
    rows = session().execute(f"SELECT checkout_id FROM {table('orders')}")
    return Counter(row["checkout_id"] for row in rows if row["checkout_id"] in checkout_ids)


def _authorizations(checkout_id: str) -> list[payments.PaymentRecord]:
    """Every authorization a checkout made (its keys are `{checkout}/payment-{n}`)."""
    found = []
    for attempt in range(1, 6):
        found += [record for record in payments.ledger(f"{checkout_id}/payment-{attempt}")
                  if record.kind == payments.Kind.AUTHORIZE]
    return found


async def test_every_checkout_ends_once_when_the_worker_process_is_killed_at_random_moments(catalog, workers):
    rng = random.Random(SEED)
    variants = catalog.variants[1210:1210 + SHOPPERS]
    for variant in variants:
        await sync_to_async(fresh_sku)(ON_HAND, variant.sku)
    shoppers = [AsyncClient() for _ in variants]
    gate = asyncio.Semaphore(5)

    async def prepare(index: int) -> str:
        async with gate:
            await _add(shoppers[index], variants[index].sku, 1)
            return await _to_review(shoppers[index], card=_card(index))

    reviews = await asyncio.gather(*(prepare(index) for index in range(SHOPPERS)))
    killer = asyncio.create_task(_kill_at_random_moments(workers, rng))
    numbers = await asyncio.gather(*(_checkout(client, review) for client, review in zip(shoppers, reviews,
                                                                                          strict=True)))
    await killer

    checkout_ids = {await sync_to_async(_row_checkout_id)(number) for number in numbers}
    assert len(set(numbers)) == len(checkout_ids) == SHOPPERS
    orders = await sync_to_async(_orders_of)(checkout_ids)
    assert set(orders.values()) == {1}, orders  # one order per checkout, none twice
    live, voided, declined = 0, 0, 0
    for number in numbers:
        checkout_id = await sync_to_async(_row_checkout_id)(number)
        authorizations = await sync_to_async(_authorizations)(checkout_id)
        unvoided = [a for a in authorizations if a.status == payments.Status.AUTHORIZED and not a.voided_cents]
        assert [a.idempotency_key for a in unvoided] == [await sync_to_async(_row_auth_key)(number)]
        live += len(unvoided)
        voided += sum(1 for a in authorizations if a.voided_cents)
        declined += sum(1 for a in authorizations if a.status == payments.Status.DECLINED)
    for variant in variants:
        rows = await sync_to_async(stock_rows)(variant.sku, True)
        # On hand plus shipped is the starting stock; nothing has shipped yet (fulfillment's timers are
        # minutes away), so on hand alone must be.
        assert sum(row.on_hand for row in rows) == ON_HAND
        assert sum(row.reserved for row in rows) == 1
        holds = [(row, rid) for row in rows for rid in row.holds]
        assert len(holds) == 1 and all(row.is_confirmed(rid) for row, rid in holds)  # the order's, firm
    # The histories these crashes wrote (lost workflow tasks, timed-out activities) replay cleanly.
    temporal = await get_client()
    for number in numbers[:10]:
        checkout_id = await sync_to_async(_row_checkout_id)(number)
        for workflow_id in (checkout_id, f"order-{number}"):
            history = await temporal.get_workflow_handle(workflow_id).fetch_history()
            replay = await Replayer(workflows=REPLAYED).replay_workflow(history, raise_on_replay_failure=False)
            assert replay.replay_failure is None, f"{workflow_id}: {replay.replay_failure}"
    log = workers.log.read_text()
    assert workers.starts == KILLS + 1 and len(re.findall(r"worker started on task queue 'checkout'", log)) >= 2
    print(f"\n{SHOPPERS} checkouts, worker process killed {KILLS} times: {len(numbers)} orders, {live} live "
          f"authorizations, {voided} voided, {declined} declined; every SKU {ON_HAND} on hand, 1 reserved by its "
          f"order, no other hold")
