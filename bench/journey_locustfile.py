"""Shoppers on a whole journey, each time a new guest: the home page, a search, the same search with
a colour facet, a product page, add to cart, change the quantity, then checkout (start, shipping,
payment, review, submit, the processing page polled until it settles), the confirmation and the
order's status page.

Cards: mostly 4242424242424242; one journey in ten uses 4000000000000002 (declined: the shop sends
the shopper back to the payment page, who enters the good card and submits again), another one in
ten 4000000000000119 (fails twice at the processor, then authorizes: the workflow retries it). A
decline is an answer the shop is expected to give, not an error: locust counts it as "card declined
(expected)".

Shoppers start journeys for BENCH_SECONDS, then each finishes the one in hand and locust quits
once none is left. Each journey's outcome is appended to BENCH_JOURNEYS (JSON lines): the times of
the order placed, or the reason it was abandoned.
"""

import json
import os
import random
import re
import time
import uuid
from html import unescape
from pathlib import Path

import gevent
from locust import HttpUser, between, events, task

TARGETS = json.loads(Path(os.environ["BENCH_TARGETS"]).read_text())
JOURNEYS = Path(os.environ["BENCH_JOURNEYS"])
WINDOW_SECONDS = float(os.environ["BENCH_SECONDS"])
POLL_SECONDS = int(os.environ.get("BENCH_POLL_MS", "250")) / 1000
SETTLE_SECONDS = 60  # a submit that has not settled by then abandons the journey
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ORDER_NUMBER = re.compile(r'data-testid="order-number">([A-Z0-9-]+)<')
ADDRESS = {"email": "bench@example.com", "full_name": "Bench Shopper", "line1": "1 Loop Rd", "line2": "",
           "city": "San Francisco", "state": "CA", "postal_code": "94110", "country": "US",
           "shipping_method": "standard"}
GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
TRANSIENT_CARD = "4000000000000119"
# Journey n pays with CARDS[n % 10]: one in ten declined, one in ten transient, the same every run.
CARDS = [GOOD_CARD] * 4 + [DECLINED_CARD] + [GOOD_CARD] * 4 + [TRANSIENT_CARD]
state = {"began": 0.0, "placed": 0, "abandoned": 0, "in_flight": 0, "journeys": 0}


class Abandoned(Exception):
    """A step answered something other than the next step: this journey ends here."""


def _window_open() -> bool:
    return time.monotonic() - state["began"] < WINDOW_SECONDS


@events.test_start.add_listener
def _watch(environment, **_kwargs):
    """Progress every 10 s; once the window is over and no journey is in flight, quit."""
    state["began"] = time.monotonic()

    def watch():
        last = 0.0
        while _window_open() or state["in_flight"]:
            gevent.sleep(0.2)
            elapsed = time.monotonic() - state["began"]
            if elapsed - last >= 10:
                last = elapsed
                finishing = "" if _window_open() else f", finishing {state['in_flight']} in flight"
                print(f"   {elapsed:5.0f}s  {state['placed']} orders placed, {state['abandoned']} journeys abandoned"
                      f"{finishing}", flush=True)
        environment.runner.quit()

    gevent.spawn(watch)


class Shopper(HttpUser):
    wait_time = between(0, 0)

    @task
    def journey(self):
        if not _window_open():
            gevent.sleep(0.2)  # the run is over for this shopper; locust quits once the others finish
            return
        state["in_flight"] += 1
        began = time.time()
        try:
            number, declined = self._journey()
        except Abandoned as reason:
            state["abandoned"] += 1
            self._record("journey abandoned", began, reason)
            _write({"abandoned": str(reason), "began": began, "ended": time.time()})
        else:
            state["placed"] += 1
            self._record("whole journey (home -> order page)", began)
            _write({"order_number": number, "began": began, "ended": time.time(), "declined_first": declined})
        finally:
            state["in_flight"] -= 1

    def _journey(self) -> tuple[str, bool]:
        self.client.cookies.clear()
        self._get("/", "home page")
        query = random.choice(TARGETS["queries"])
        self._get("/search/", "search page", params={"q": query})
        self._get("/search/", "search page (facet)", params={"q": query, "color": random.choice(TARGETS["colours"])})
        product = self._get(f"/products/{random.choice(TARGETS['slugs'])}/", "product page")
        self.token = _token(product)
        sku = random.choice(TARGETS["skus"])
        self._post("/cart/add/", "add to cart", {"sku": sku, "quantity": "1", "nonce": uuid.uuid4().hex}, "/cart/")
        self._post("/cart/update/", "update quantity", {"sku": sku, "quantity": "2"}, "/cart/")
        self._post("/checkout/start/", "checkout start", {}, "/checkout/shipping/")
        self._post("/checkout/shipping/", "checkout shipping", ADDRESS, "/checkout/payment/")
        card = CARDS[state["journeys"] % len(CARDS)]
        state["journeys"] += 1
        declined = False
        while True:
            self._post("/checkout/payment/", "checkout payment", _card(card), "/checkout/review/")
            review = self._get("/checkout/review/", "checkout review page")
            form = {name: _hidden(review, name) for name in ("expected_total_cents", "nonce")}
            self._post("/checkout/submit/", "checkout submit", form, "/checkout/processing/")
            if self._until_settled() == "complete":
                break
            if card != DECLINED_CARD or declined:
                raise Abandoned("processing: sent back to payment with a card that should authorize")
            declined, card = True, GOOD_CARD  # the shopper tries another card
        confirmation = self._get("/checkout/complete/", "checkout complete page")
        number = ORDER_NUMBER.search(confirmation)
        if number is None:
            raise Abandoned("complete page: no order number")
        self._get(f"/orders/{number.group(1)}/", "order status page")
        return number.group(1), declined

    def _until_settled(self) -> str:
        """Poll the processing page: "complete", or "declined" when it sends the shopper back to payment."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            with self.client.get("/checkout/processing/", name="checkout processing (poll)", allow_redirects=False,
                                 catch_response=True) as response:
                location = response.headers.get("Location", "")
                if response.status_code == 302 and location.endswith("/checkout/complete/"):
                    return "complete"
                if response.status_code == 302 and location.endswith("/checkout/payment/"):
                    response.success()
                    self._record("card declined (expected)", time.time())
                    return "declined"
                if response.status_code != 200:
                    reason = f"processing: status {response.status_code} to {location or '-'}"
                    response.failure(reason)
                    raise Abandoned(reason)
            gevent.sleep(POLL_SECONDS)
        raise Abandoned(f"processing: not settled after {SETTLE_SECONDS}s")

    def _post(self, path: str, name: str, data: dict, lands_on: str) -> None:
        with self.client.post(path, data={"csrfmiddlewaretoken": self.token, **data}, name=name,
                              headers={"Referer": f"{self.host}/cart/"}, allow_redirects=False,
                              catch_response=True) as response:
            location = response.headers.get("Location", "")
            if response.status_code != 302 or not location.endswith(lands_on):
                reason = f"{name}: status {response.status_code} to {location or '-'}"
                response.failure(reason)
                raise Abandoned(reason)

    def _get(self, path: str, name: str, params: dict | None = None) -> str:
        with self.client.get(path, name=name, params=params, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                reason = f"{name}: status {response.status_code} to {response.headers.get('Location', '-')}"
                response.failure(reason)
                raise Abandoned(reason)
            return response.text

    def _record(self, name: str, since: float, error: Exception | None = None) -> None:
        self.environment.events.request.fire(request_type="JOURNEY", name=name, context={}, exception=error,
                                             response_time=(time.time() - since) * 1000, response_length=0)


def _card(number: str) -> dict:
    return {"card_number": number, "exp_month": "12", "exp_year": "2031", "cvc": "123", "cardholder": "Bench Shopper"}


def _token(html: str) -> str:
    match = TOKEN.search(html)
    if match is None:
        raise Abandoned("product page: no CSRF token")
    return match.group(1)


def _write(record: dict) -> None:
    with JOURNEYS.open("a") as handle:
        handle.write(json.dumps(record) + "\n")


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    if match is None:
        raise Abandoned(f"review page: no {name}")
    return unescape(match.group(1))
