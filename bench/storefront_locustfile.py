"""Shoppers browsing: a search (with a facet half the time) or a product page, back to back."""

import json
import os
import random
from pathlib import Path

from locust import HttpUser, between, task

TARGETS = json.loads(Path(os.environ["BENCH_TARGETS"]).read_text())


class Shopper(HttpUser):
    wait_time = between(0, 0)

    @task(1)
    def search(self):
        query = random.choice(TARGETS["queries"])
        params = {"q": query}
        if random.random() < 0.5:
            params["color"] = random.choice(TARGETS["colours"])
        self.client.get("/search/", params=params, name="search page")

    @task(1)
    def product(self):
        self.client.get(f"/products/{random.choice(TARGETS['slugs'])}/", name="product page")
