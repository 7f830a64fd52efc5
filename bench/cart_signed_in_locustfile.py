"""Signed-in shoppers adding to their carts through HTTP, each shopper its own account and one cart:
the cart id comes from `carts_by_shopper` (cart.views.cart_id_for) on every add.

bench/cart.py signs the accounts in through /accounts/login/ before the run and hands their cookies
over in BENCH_SESSIONS (a JSON list, one session a shopper), so the timed window holds no sign-in.
A session that turns out not to be signed in fails the shopper's adds rather than measuring a guest.
"""

import itertools
import json
import os
import random
import re
import uuid
from pathlib import Path

from locust import HttpUser, between, task

TARGETS = json.loads(Path(os.environ["BENCH_TARGETS"]).read_text())
SESSIONS = json.loads(Path(os.environ["BENCH_SESSIONS"]).read_text())
NAME = "add to cart (existing cart, signed-in)"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SIGNED_IN = 'class="logout-form"'  # the header's "Sign out" form (templates/base.html)
NUMBERS = itertools.count()


class Shopper(HttpUser):
    wait_time = between(0, 0)

    def on_start(self):
        self.client.cookies.clear()
        self.client.cookies.update(SESSIONS[next(NUMBERS) % len(SESSIONS)])
        page = self.client.get(f"/products/{TARGETS['slug']}/", name="product page (setup)")
        self.token = TOKEN.search(page.text).group(1)
        self.signed_in = SIGNED_IN in page.text

    @task
    def add(self):
        data = {"csrfmiddlewaretoken": self.token, "sku": random.choice(TARGETS["skus"]), "quantity": "1",
                "nonce": uuid.uuid4().hex}
        with self.client.post("/cart/add/", data=data, allow_redirects=False, catch_response=True,
                              headers={"Referer": f"{self.host}/cart/"}, name=NAME) as response:
            if not self.signed_in:
                response.failure("not signed in")
            elif response.status_code != 302:
                response.failure(f"status {response.status_code}")
