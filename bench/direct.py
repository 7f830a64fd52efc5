"""The floors: what the shop's pages ask of Temporal and Elasticsearch, sent directly by a bare client
from the bench's own process, in the same run as the HTTP steps.

- echo update: an update on a running workflow that only echoes (bench/floor.py): the cheapest
  Temporal round trip a page could make.
- cart update direct: the cart's own add_item update on an existing cart, the same workflow and handler
  as HTTP add-to-cart (the stock hold included), without the web tier.
- probe workflow: start a workflow that runs one activity and wait for its result (update + activity).
- bare activity round trip: in those probe workflows' histories, from the activity scheduled to its
  completion recorded; the steps behind a checkout submit are measured the same way.
- search direct: the search page's own Elasticsearch request body (`search_body`) POSTed to the
  products alias by the same HTTP client that loads the page.
- checkout submit direct: the checkout's submit update on a checkout at its review step.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from bench.load import HttpClient, closed_loop, closed_loop_calls, summary

ADDS_PER_CART = 20  # then a new cart: every add is a new line, far from the line and unit limits
ADDRESS = dict(full_name="Bench Shopper", line1="1 Loop Rd", line2="", city="San Francisco", state="CA",
               postal_code="94110", country="US")


# -- Elasticsearch ---------------------------------------------------------------------------------
def search_request(query: dict) -> tuple[str, bytes]:
    """The path and body of the Elasticsearch request the search page makes for `query` (its GET
    parameters), built by the shop's own code."""
    from django.http import QueryDict

    from inventory.catalog import search
    from inventory.forms import search_params

    params = search_params(QueryDict(urlencode(query, doseq=True)))
    body = search.search_body(params, params.page, True)
    # The parts of the answer the page reads, as the page asks for them.
    path = f"/{search.products_alias()}/_search?{urlencode({'filter_path': search.FILTER_PATH})}"
    return path, json.dumps(body).encode()


async def search_direct(es_url: str, queries: list[dict], clients: int, seconds: float) -> dict:
    requests = [search_request(query) for query in queries]
    headers = {"Content-Type": "application/json", "Accept": "application/json"}

    async def step(client: HttpClient, index: int) -> float | None:
        path, body = requests[index % len(requests)]
        began = time.perf_counter()
        answer = await client.request("POST", path, body, headers)
        return (time.perf_counter() - began) * 1000 if answer.status == 200 else None

    return await closed_loop(es_url, step, clients, seconds)


# -- Temporal --------------------------------------------------------------------------------------
async def cart_update_direct(client, skus: list[str], clients: int, seconds: float) -> dict:
    """The cart's add_item update on an existing cart, by a bare client; every ADDS_PER_CART adds the
    caller moves to a new cart, made (untimed) as the shop makes one."""
    from cart import services
    from cart.contracts import AddItem, cart_workflow_id
    from cart.workflows import CartWorkflow

    carts: dict[int, tuple[str, int]] = {}

    async def call(caller: int, index: int) -> float | None:
        cart_id, adds = carts.get(caller, ("", ADDS_PER_CART))
        if adds >= ADDS_PER_CART:
            cart_id, adds = services.new_cart_id(uuid.uuid4().hex), 1
            await services.add_item(cart_id, skus[0], 1, uuid.uuid4().hex)
        carts[caller] = (cart_id, adds + 1)
        handle = client.get_workflow_handle(cart_workflow_id(cart_id))
        began = time.perf_counter()
        await handle.execute_update(CartWorkflow.add_item, AddItem(skus[adds % len(skus)], 1), id=uuid.uuid4().hex)
        return (time.perf_counter() - began) * 1000

    return await closed_loop_calls(call, clients, seconds)


async def checkout_at_review(sku: str, card: str = "4242424242424242"):
    """A guest checkout made through the services the views call, stopped at its review step."""
    from cart import services as cart
    from checkout import services as checkout
    from checkout.contracts import Address, ShippingChoice

    cart_id = cart.new_cart_id(uuid.uuid4().hex)
    await cart.add_item(cart_id, sku, 1, uuid.uuid4().hex)
    view = await checkout.begin(cart_id)
    await checkout.set_shipping(view.checkout_id, ShippingChoice(Address(email="bench@example.com", **ADDRESS),
                                                                 "standard"))
    return await checkout.set_payment(view.checkout_id, card, 12, 2031, "123", "Bench Shopper")


async def submit_direct(client, skus: list[str], clients: int, seconds: float) -> tuple[dict, list[str]]:
    """The checkout's submit update sent directly, on checkouts prepared (untimed) to their review
    step; and the ids of the checkouts submitted, whose sagas `activity_steps` reads."""
    from checkout.contracts import CheckoutUpdates, CheckoutView, SubmitRequest

    submitted: list[str] = []

    async def call(caller: int, index: int) -> float | None:
        view = await checkout_at_review(skus[index % len(skus)])
        handle = client.get_workflow_handle(view.checkout_id)
        began = time.perf_counter()
        await handle.execute_update(CheckoutUpdates.SUBMIT, SubmitRequest(view.totals.total_cents),
                                    id=f"submit-{uuid.uuid4().hex}", result_type=CheckoutView)
        ms = (time.perf_counter() - began) * 1000
        submitted.append(view.checkout_id)
        return ms

    return await closed_loop_calls(call, clients, seconds), submitted


async def probe_direct(client, rounds: int) -> tuple[dict, list[str]]:
    """Probe workflows (one activity each) started and awaited one at a time, with an in-process
    worker; their ids, for the activity round trip in their histories."""
    from temporalio.worker import Worker

    from commerce.probe import ProbeInput, ProbeWorkflow, probe_worker

    queue = f"bench-probe-{uuid.uuid4().hex[:8]}"
    samples: list[float] = []
    ids = [f"{queue}-{index}" for index in range(rounds)]
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with Worker(client, task_queue=queue, workflows=[ProbeWorkflow], activities=[probe_worker],
                          activity_executor=executor):
            began = time.perf_counter()
            for workflow_id in ids:
                one = time.perf_counter()
                await client.execute_workflow(ProbeWorkflow.run, ProbeInput(), id=workflow_id, task_queue=queue)
                samples.append((time.perf_counter() - one) * 1000)
            elapsed = time.perf_counter() - began
    return {**summary(samples), "rps": rounds / elapsed, "errors": 0, "clients": 1}, ids


async def activity_steps(client, workflow_ids: list[str], settle_seconds: float = 30) -> dict[str, dict]:
    """Per activity type, scheduled -> completed as the workflows' histories recorded it (queueing,
    execution and the result's report: one activity round trip), over every workflow of `workflow_ids`
    once its run has closed (or `settle_seconds` passed)."""
    from temporalio.api.enums.v1 import EventType

    times: dict[str, list[float]] = {}
    deadline = time.monotonic() + settle_seconds

    async def one(workflow_id: str) -> None:
        handle = client.get_workflow_handle(workflow_id)
        while time.monotonic() < deadline:
            described = await handle.describe()
            if described.close_time is not None:
                break
            await asyncio.sleep(0.2)
        scheduled: dict[int, tuple[str, float]] = {}
        async for event in handle.fetch_history_events():
            when = event.event_time.ToDatetime().timestamp()
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                scheduled[event.event_id] = (event.activity_task_scheduled_event_attributes.activity_type.name, when)
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                name, since = scheduled[event.activity_task_completed_event_attributes.scheduled_event_id]
                times.setdefault(name, []).append((when - since) * 1000)

    gate = asyncio.Semaphore(10)

    async def gated(workflow_id: str) -> None:
        async with gate:
            await one(workflow_id)

    await asyncio.gather(*(gated(workflow_id) for workflow_id in workflow_ids))
    return {name: summary(samples) for name, samples in times.items()}
