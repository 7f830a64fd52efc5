"""Shoppers adding to their carts through HTTP. BENCH_CART_MODE=new: every add starts a new cart
(a fresh session); existing: each shopper keeps adding to one cart."""

import json
import os
import random
import re
import uuid
from pathlib import Path

from locust import HttpUser, between, task

TARGETS = json.loads(Path(os.environ["BENCH_TARGETS"]).read_text())
MODE = os.environ.get("BENCH_CART_MODE", "existing")
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Shopper(HttpUser):
    wait_time = between(0, 0)

    def on_start(self):
        self._new_session()

    def _new_session(self):
        self.client.cookies.clear()
        page = self.client.get(f"/products/{TARGETS['slug']}/", name="product page (setup)")
        self.token = TOKEN.search(page.text).group(1)

    @task
    def add(self):
        data = {"csrfmiddlewaretoken": self.token, "sku": random.choice(TARGETS["skus"]), "quantity": "1",
                "nonce": uuid.uuid4().hex}
        with self.client.post("/cart/add/", data=data, allow_redirects=False, catch_response=True,
                              headers={"Referer": f"{self.host}/cart/"}, name=f"add to cart ({MODE} cart)") as response:
            if response.status_code != 302:
                response.failure(f"status {response.status_code}")
        if MODE == "new":
            self._new_session()
