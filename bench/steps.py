"""The HTTP steps measured against their floors (bench/direct.py), with the same closed-loop client:
the search page, add-to-cart on an existing cart (guest) and the checkout submit."""

from __future__ import annotations

import re
import time
import uuid
from html import unescape
from urllib.parse import urlencode

from bench.direct import ADDRESS, ADDS_PER_CART
from bench.load import Answer, HttpClient, closed_loop

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Refused(Exception):
    """A step the shop did not answer as a shopper's browser expects."""


async def search_page(base: str, queries: list[dict], clients: int, seconds: float) -> dict:
    paths = [f"/search/?{urlencode(query, doseq=True)}" for query in queries]

    async def step(client: HttpClient, index: int) -> float | None:
        began = time.perf_counter()
        answer = await client.request("GET", paths[index % len(paths)])
        return (time.perf_counter() - began) * 1000 if answer.status == 200 else None

    return await closed_loop(base, step, clients, seconds)


async def add_to_cart(base: str, slug: str, skus: list[str], clients: int, seconds: float) -> dict:
    """A guest adding to the cart it has: every ADDS_PER_CART adds it starts a new cart (untimed), as
    the direct floor does."""
    adds: dict[int, int] = {}

    async def step(client: HttpClient, index: int) -> float | None:
        done = adds.get(id(client), ADDS_PER_CART)
        if done >= ADDS_PER_CART or not client.token:
            client.cookies.clear()
            client.token = await _token(client, f"/products/{slug}/")
            await _post(client, "/cart/add/", {"sku": skus[0], "quantity": "1", "nonce": uuid.uuid4().hex}, "/cart/")
            done = 1
        adds[id(client)] = done + 1
        began = time.perf_counter()
        await _post(client, "/cart/add/", {"sku": skus[done % len(skus)], "quantity": "1",
                                           "nonce": uuid.uuid4().hex}, "/cart/")
        return (time.perf_counter() - began) * 1000

    return await closed_loop(base, _refusals_are_errors(step), clients, seconds)


async def checkout_submit(base: str, slug: str, skus: list[str], clients: int, seconds: float) -> dict:
    """A new guest's checkout taken to its review page (untimed), then the submit (timed)."""

    async def step(client: HttpClient, index: int) -> float | None:
        client.cookies.clear()
        client.token = await _token(client, f"/products/{slug}/")
        await _post(client, "/cart/add/", {"sku": skus[index % len(skus)], "quantity": "1",
                                           "nonce": uuid.uuid4().hex}, "/cart/")
        await _post(client, "/checkout/start/", {}, "/checkout/shipping/")
        await _post(client, "/checkout/shipping/", {**ADDRESS, "email": "bench@example.com",
                                                    "shipping_method": "standard"}, "/checkout/payment/")
        await _post(client, "/checkout/payment/", {"card_number": "4242424242424242", "exp_month": "12",
                                                   "exp_year": "2031", "cvc": "123",
                                                   "cardholder": "Bench Shopper"}, "/checkout/review/")
        review = await client.request("GET", "/checkout/review/")
        form = {name: _hidden(review, name) for name in ("expected_total_cents", "nonce")}
        began = time.perf_counter()
        await _post(client, "/checkout/submit/", form, "/checkout/processing/")
        return (time.perf_counter() - began) * 1000

    return await closed_loop(base, _refusals_are_errors(step), clients, seconds)


def _refusals_are_errors(step):
    async def counted(client: HttpClient, index: int) -> float | None:
        try:
            return await step(client, index)
        except Refused:
            client.cookies.clear()
            client.token = ""
            return None

    return counted


async def _token(client: HttpClient, path: str) -> str:
    page = await client.request("GET", path)
    match = TOKEN.search(page.text)
    if page.status != 200 or match is None:
        raise Refused(f"{path}: status {page.status}, no CSRF token")
    return match.group(1)


async def _post(client: HttpClient, path: str, data: dict, lands_on: str) -> Answer:
    body = urlencode({"csrfmiddlewaretoken": client.token, **data}).encode()
    answer = await client.request("POST", path, body, {**FORM, "Referer": f"{client.base}/cart/"})
    if answer.status != 302 or not answer.headers.get("location", "").endswith(lands_on):
        raise Refused(f"{path}: status {answer.status} to {answer.headers.get('location', '-')}")
    return answer


def _hidden(page: Answer, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page.text)
    if match is None:
        raise Refused(f"review page: no {name}")
    return unescape(match.group(1))
