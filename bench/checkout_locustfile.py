"""Shoppers checking out through HTTP, start to finish, each checkout as a new guest: add one unit to
a new cart, start the checkout, shipping, payment, review, submit, then the processing page (polled
every BENCH_POLL_MS) until it lands on the confirmation with the order number. The form pages a
browser would show between the POSTs are not fetched (review is: it carries the total and the nonce).

Shoppers start checkouts for BENCH_SECONDS; then each finishes the checkout in hand (so a checkout
slower than the window is measured, not cut off) and locust quits once none is left (or at its -t).
Each checkout is appended to BENCH_CHECKOUTS (JSON lines) for bench/checkout.py: for an order placed,
its number and the wall-clock times the add and the submit were sent and the confirmation arrived;
for a checkout that did not get there, the reason. Locust also records "whole checkout (add ->
confirmation)", "submit -> confirmation page" and "checkout abandoned" (a failure, with its reason).
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
CHECKOUTS = Path(os.environ["BENCH_CHECKOUTS"])
WINDOW_SECONDS = float(os.environ["BENCH_SECONDS"])
POLL_SECONDS = int(os.environ.get("BENCH_POLL_MS", "100")) / 1000
SETTLE_SECONDS = 60  # a submit that has not settled by then is reported as abandoned
PROGRESS_SECONDS = 5
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ORDER_NUMBER = re.compile(r'data-testid="order-number">([A-Z0-9-]+)<')
MESSAGE = re.compile(r'<p class="message [^"]*"[^>]*>([^<]*)<')
ADDRESS = {"email": "bench@example.com", "full_name": "Bench Shopper", "line1": "1 Loop Rd", "line2": "",
           "city": "San Francisco", "state": "CA", "postal_code": "94110", "country": "US",
           "shipping_method": "standard"}
CARD = {"card_number": "4242424242424242", "exp_month": "12", "exp_year": "2031", "cvc": "123",
        "cardholder": "Bench Shopper"}
state = {"began": 0.0, "placed": 0, "abandoned": 0, "in_flight": 0}


class Abandoned(Exception):
    """A step answered something other than the next step: this checkout ends here."""


def _window_open() -> bool:
    return time.monotonic() - state["began"] < WINDOW_SECONDS


@events.test_start.add_listener
def _watch(environment, **_kwargs):
    """Progress every few seconds; once the window is over and no checkout is in flight, quit."""
    state["began"] = time.monotonic()

    def watch():
        last = 0.0
        while _window_open() or state["in_flight"]:
            gevent.sleep(0.2)
            elapsed = time.monotonic() - state["began"]
            if elapsed - last >= PROGRESS_SECONDS:
                last = elapsed
                finishing = "" if _window_open() else f", finishing {state['in_flight']} in flight"
                print(f"   {elapsed:5.0f}s  {state['placed']} checkouts placed, {state['abandoned']} abandoned"
                      f"{finishing}", flush=True)
        environment.runner.quit()

    gevent.spawn(watch)


class Shopper(HttpUser):
    wait_time = between(0, 0)

    @task
    def checkout(self):
        if not _window_open():
            gevent.sleep(0.2)  # the run is over for this shopper; locust quits once the others finish
            return
        state["in_flight"] += 1
        try:
            self._checkout()
        finally:
            state["in_flight"] -= 1

    def _checkout(self):
        self.client.cookies.clear()
        page = self.client.get(f"/products/{TARGETS['slug']}/", name="product page (setup)")
        match = TOKEN.search(page.text)
        if match is None:
            return
        self.token = match.group(1)
        began, add_sent = time.perf_counter(), time.time()
        try:
            self._post("/cart/add/", "add to cart", {"sku": random.choice(TARGETS["skus"]), "quantity": "1",
                                                     "nonce": uuid.uuid4().hex}, "/cart/")
            self._post("/checkout/start/", "checkout start", {}, "/checkout/shipping/")
            self._post("/checkout/shipping/", "checkout shipping", ADDRESS, "/checkout/payment/")
            self._post("/checkout/payment/", "checkout payment", CARD, "/checkout/review/")
            review = self._get("/checkout/review/", "checkout review page")
            form = {name: _hidden(review, name) for name in ("expected_total_cents", "nonce")}
            submitted, submit_sent = time.perf_counter(), time.time()
            self._post("/checkout/submit/", "checkout submit", form, "/checkout/processing/")
            self._until_complete()
            confirmation = self._get("/checkout/complete/", "checkout complete page")
            number = ORDER_NUMBER.search(confirmation)
            if number is None:
                raise Abandoned("complete page: no order number")
        except Abandoned as reason:
            state["abandoned"] += 1
            self._record("checkout abandoned", began, reason)
            _write({"abandoned": str(reason), "add_sent": add_sent, "ended": time.time()})
            return
        state["placed"] += 1
        self._record("submit -> confirmation page", submitted)
        self._record("whole checkout (add -> confirmation)", began)
        _write({"order_number": number.group(1), "add_sent": add_sent, "submit_sent": submit_sent,
                "confirmed": time.time()})

    def _post(self, path: str, name: str, data: dict, lands_on: str) -> None:
        with self.client.post(path, data={"csrfmiddlewaretoken": self.token, **data}, name=name,
                              headers={"Referer": f"{self.host}/cart/"}, allow_redirects=False,
                              catch_response=True) as response:
            location = response.headers.get("Location", "")
            if response.status_code != 302 or not location.endswith(lands_on):
                reason = f"{name}: status {response.status_code} to {location or '-'}{self._message(location)}"
                response.failure(reason)
                raise Abandoned(reason)

    def _get(self, path: str, name: str) -> str:
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                reason = f"{name}: status {response.status_code} to {response.headers.get('Location', '-')}"
                response.failure(reason)
                raise Abandoned(reason)
            return response.text

    def _until_complete(self) -> None:
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            with self.client.get("/checkout/processing/", name="checkout processing (poll)", allow_redirects=False,
                                 catch_response=True) as response:
                location = response.headers.get("Location", "")
                if response.status_code == 302 and location.endswith("/checkout/complete/"):
                    return
                if response.status_code != 200:
                    reason = (f"processing: status {response.status_code} to {location or '-'}"
                              f"{self._message(location)}")
                    response.failure(reason)
                    raise Abandoned(reason)
            gevent.sleep(POLL_SECONDS)
        raise Abandoned(f"processing: not settled after {SETTLE_SECONDS}s")

    def _message(self, location: str) -> str:
        """The messages the page a refusal redirected to shows (fetched only when something went wrong)."""
        if not location:
            return ""
        page = self.client.get(location, name="page after a refusal")
        found = MESSAGE.findall(page.text)
        return f" ({unescape(' / '.join(found))})" if found else ""

    def _record(self, name: str, since: float, error: Exception | None = None) -> None:
        self.environment.events.request.fire(request_type="CHECKOUT", name=name, context={}, exception=error,
                                             response_time=(time.perf_counter() - since) * 1000, response_length=0)


def _write(record: dict) -> None:
    with CHECKOUTS.open("a") as handle:
        handle.write(json.dumps(record) + "\n")


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    if match is None:
        raise Abandoned(f"review page: no {name}")
    return unescape(match.group(1))
