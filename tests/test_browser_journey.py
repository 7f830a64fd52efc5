"""The shopper's journey in a real browser: headless Chromium (Debian's, `make test` installs it)
driven by Playwright against `manage.py runshop` with its workers, on the test stores.

Search, a facet, a product, a colour and a size, add, change the quantity, check out as a guest
(the declined card first, then the transient one), the confirmation; a Fulfillment staff member
marks the manual order packed, shipped and delivered in the admin; the shopper's order page says
delivered. Again on a phone-sized screen. axe-core runs in every page (no violations); each step's
screenshot is kept under tests/artifacts/browser/<journey>/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import axe_playwright_python
import pytest
from playwright import sync_api as playwright

from tests.shop_process import MANAGE, Shop
from tests.stock_helpers import fresh_sku
from tests.test_checkout import ADDRESS
from tests.test_ops_runshop import free_port, shop_env  # noqa: F401 - shop_env is a fixture

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("catalog")]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
AXE = Path(axe_playwright_python.__file__).parent / "axe.min.js"  # axe-core, pinned with its package
ARTIFACTS = Path(__file__).parent / "artifacts" / "browser"
STAFF, STAFF_PASSWORD = "fenn", "a-long-password-1"
DECLINED, TRANSIENT = "4000 0000 0000 0002", "4000 0000 0000 0119"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture(scope="module")
def shop(tmp_path_factory, cassandra_schema):
    """runshop with manual fulfilment (staff mark each stage) and fast stages, its own SQL database."""
    folder = tmp_path_factory.mktemp("browser-shop")
    env = {**os.environ, "COMMERCE_DATA_DIR": str(folder), "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
           "TEMPORAL_GRACEFUL_SHUTDOWN_SECONDS": "2", "WORKER_METRICS_PORT": str(free_port()),
           "WEB_PROCESSES": "1", "FULFILLMENT_MANUAL": "1", "FULFILLMENT_PROCESSING_SECONDS": "0.2",
           "FULFILLMENT_SHIPPING_SECONDS": "0.2", "FULFILLMENT_DELIVERY_SECONDS": "0.2",
           "ORDER_APPROVAL_THRESHOLD_CENTS": "100000000", "CART_CREATIONS_PER_MINUTE": "1000",
           "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    for command in (["migrate", "--noinput", "-v", "0"],
                    ["shell", "-c", "from tests.console_helpers import staff_member; "
                                    f"staff_member({STAFF!r}, 'Fulfillment')"]):
        done = subprocess.run([sys.executable, str(MANAGE), *command], env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
    running = Shop(env, free_port())
    running.start()
    yield running
    running.kill()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Journey:
    """One browser context; every step screenshotted and checked with axe-core."""

    def __init__(self, browser, base: str, name: str, **context) -> None:
        self.context = browser.new_context(base_url=base, bypass_csp=True, **context)
        self.page = self.context.new_page()
        self.folder = ARTIFACTS / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.steps = 0

    def step(self, name: str) -> None:
        self.page.wait_for_load_state("load")
        self.steps += 1
        self.page.screenshot(path=self.folder / f"{self.steps:02d}-{name}.png", full_page=True)
        self.page.add_script_tag(path=str(AXE))
        results = self.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        violations = [f"{v['id']} ({v['impact']}): {v['help']} at "
                      + ", ".join(node["target"][0] if isinstance(node["target"][0], str) else str(node["target"])
                                  for node in v["nodes"][:3])
                      for v in results["violations"]]
        assert not violations, f"{name} at {self.page.url}:\n" + "\n".join(violations)

    def fill(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            field = self.page.locator(f'[name="{name}"]')
            if field.count() > 1:  # radio buttons
                self.page.check(f'[name="{name}"][value="{value}"]')
            elif field.evaluate("element => element.tagName") == "SELECT":
                field.select_option(value)
            else:
                field.fill(value)

    def pay(self, number: str) -> None:
        self.fill({"card_number": number, "exp_month": "12", "exp_year": "2031", "cvc": "123",
                   "cardholder": "Ada Lovelace"})
        self.page.get_by_role("button", name=re.compile("review", re.I)).click()

    def until_settled(self) -> None:
        self.page.wait_for_url(re.compile(r"/checkout/(complete|payment)/$"), timeout=60_000)


def _stocked_product(catalog):
    """A product with colours and sizes to choose from, every variant stocked deep."""
    product = next(p for p in catalog.products[1200 // 6:] if len(p.colours) > 1 and len(p.sizes) > 1)
    for variant in product.variants:
        fresh_sku(50, variant.sku)
    return product


def _shop_as_a_guest(journey: Journey, product) -> str:
    page = journey.page
    page.goto("/")
    journey.step("home")
    search = page.get_by_role("searchbox").first
    search.fill(product.name.split()[-1])
    search.press("Enter")
    journey.step("search")
    page.locator("a.facet-option").first.click()
    journey.step("facet")
    page.goto(f"/products/{product.slug}/")
    journey.step("product")
    page.locator("a.colour-choice:not(.selected)").first.click()
    page.locator("a.size-choice:not(.selected)").first.click()
    journey.step("colour-and-size")
    page.locator("form.add-to-cart button[type=submit]").click()
    page.goto("/cart/")
    journey.step("cart")
    page.locator('input[name="quantity"]').first.fill("2")
    page.locator("form", has=page.locator('input[name="quantity"]')).first.locator("button").first.click()
    journey.step("quantity")
    assert page.locator('[data-testid="cart-count"]').first.inner_text() == "2"
    page.get_by_role("button", name=re.compile("check ?out", re.I)).first.click()
    page.wait_for_url(re.compile("/checkout/shipping/$"))
    journey.step("shipping")
    journey.fill({key: value for key, value in ADDRESS.items() if value})
    page.get_by_role("button", name=re.compile("payment", re.I)).click()
    page.wait_for_url(re.compile("/checkout/payment/$"))
    journey.step("payment")
    journey.pay(DECLINED)
    journey.step("review")
    page.get_by_role("button", name=re.compile("place order", re.I)).click()
    journey.until_settled()
    assert page.url.endswith("/checkout/payment/") and "declined" in page.content()
    journey.step("declined")
    journey.pay(TRANSIENT)
    page.get_by_role("button", name=re.compile("place order", re.I)).click()
    journey.until_settled()
    assert page.url.endswith("/checkout/complete/"), page.url
    journey.step("confirmation")
    return page.locator('[data-testid="order-number"]').inner_text()


def _deliver_as_staff(browser, base: str, number: str, name: str) -> None:
    staff = Journey(browser, base, f"{name}-staff")
    page = staff.page
    page.goto("/admin/login/")
    staff.fill({"username": STAFF, "password": STAFF_PASSWORD})
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    for label in ("Mark packed", "Mark shipped", "Mark delivered"):
        page.goto(f"/admin/orders/order/{number}/change/")
        button = page.get_by_role("button", name=label)
        for _ in range(60):  # the fulfilment workflow offers the step once it reaches it
            if button.count():
                break
            page.wait_for_timeout(500)
            page.reload()
        if label == "Mark shipped":
            form = page.locator("form", has=button)
            form.locator('[name="tracking_number"]').fill("1Z-999-AA1")
            form.locator('[name="carrier"]').fill("Parcel Co")
        button.click()
        page.wait_for_load_state("load")
    staff.context.close()


@pytest.mark.parametrize("name,context", [("desktop", {"viewport": {"width": 1280, "height": 900}}),
                                          ("phone", PHONE)])
def test_a_guest_buys_in_a_real_browser_and_sees_the_order_delivered(shop, browser, catalog, name, context):
    base = f"http://127.0.0.1:{shop.port}"
    journey = Journey(browser, base, name, **context)
    number = _shop_as_a_guest(journey, _stocked_product(catalog))

    _deliver_as_staff(browser, base, number, name)

    journey.page.goto(f"/orders/{number}/")
    status = journey.page.locator('[data-testid="order-status"]')
    for _ in range(60):
        if status.get_attribute("data-status") == "delivered":
            break
        journey.page.wait_for_timeout(500)
        journey.page.reload()
    assert status.get_attribute("data-status") == "delivered"
    journey.step("delivered")
    journey.context.close()
    print(f"\n{name}: {journey.steps} steps, screenshots in {journey.folder}")
    (journey.folder / "journey.json").write_text(json.dumps({"order": number, "steps": journey.steps}))
