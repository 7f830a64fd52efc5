"""The store configuration as a workflow entity, through the staff page with real logins and the
storefront's HTTP checkout, against the real stack: a Manager's tax change shows in the next
checkout's total and in the history with who made it; a broken rule is refused with the workflow's
reason and changes nothing; Support may look but not change; a form sent twice applies once; the web
tier's copy follows a change made elsewhere while activities read it fresh."""

import re
import uuid
from dataclasses import replace
from html import unescape

import pytest
from asgiref.sync import async_to_sync
from django.contrib.admin.models import LogEntry
from django.test import Client
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from commerce.cassandra import session, table
from commerce.temporal import connect
from identity import config, config_store, services
from identity.contracts import (
    STORE_CONFIG_WORKFLOW_ID,
    TASK_QUEUE,
    ChangeStoreConfig,
    StoreConfigChanged,
    StoreConfigInput,
)
from identity.forms import StoreConfigForm
from identity.workflows import StoreConfigWorkflow
from orders.activities import load_settings
from tests.console_helpers import logged_in
from tests.stock_helpers import fresh_sku

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog", "workers_in_thread")]

PAGE = "/admin/identity/storeconfiguration/"
CHANGE = f"{PAGE}{STORE_CONFIG_WORKFLOW_ID}/change/"
ADDRESS = {"email": "ada@example.com", "full_name": "Ada Lovelace", "line1": "1 Loop Rd", "line2": "",
           "city": "San Francisco", "state": "CA", "postal_code": "94110", "country": "US",
           "shipping_method": "standard"}
CARD = {"card_number": "4242 4242 4242 4242", "exp_month": "12", "exp_year": "2031", "cvc": "123",
        "cardholder": "Ada Lovelace"}


async def _end_store_config_workflow() -> None:
    client = await connect()
    try:
        await client.get_workflow_handle(STORE_CONFIG_WORKFLOW_ID).terminate("test reset")
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise


def _reset_store_config() -> None:
    """No workflow, nothing persisted, no cached copy: the shop runs on its settings again."""
    async_to_sync(_end_store_config_workflow)()
    for name in ("store_config", "store_config_changes"):
        session().execute(f"TRUNCATE {table(name)}")
    config.forget()


@pytest.fixture(autouse=True)
def fresh_store_config(settings):
    settings.CART_CREATIONS_PER_MINUTE = 1000
    _reset_store_config()
    yield
    _reset_store_config()


def _manager(client, name: str = "manager"):
    return logged_in(client, name, "Managers")


def _page(client) -> str:
    response = client.get(PAGE)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _action_id(page: str) -> str:
    return re.search(r'name="action_id" value="([a-f0-9]{32})"', page).group(1)


def _form_data(page: str, **changes) -> dict:
    """The page's form as it is (the current configuration), with `changes`."""
    current = services.store_config_state().state.config
    data = {key: ("on" if value is True else value) for key, value in
            StoreConfigForm.initial_for(current, _action_id(page)).items() if value is not False}
    data["expected_version"] = re.search(r'name="expected_version" value="(\d+)"', page).group(1)
    data.update(changes)
    return data


def _messages(response) -> str:
    return unescape(" ".join(str(message) for message in response.context["messages"]))


def _review_after_checkout(sku: str, quantity: int) -> str:
    """A new shopper's checkout to the review page, shipping to California."""
    shopper = Client()
    assert shopper.post("/cart/add/", {"sku": sku, "quantity": quantity, "nonce": uuid.uuid4().hex}).status_code == 302
    assert shopper.post("/checkout/start/")["Location"].endswith("/checkout/shipping/")
    assert shopper.post("/checkout/shipping/", ADDRESS)["Location"].endswith("/checkout/payment/")
    assert shopper.post("/checkout/payment/", CARD).status_code == 302
    return shopper.get("/checkout/review/").content.decode()


def _total_and_tax(review: str) -> tuple[int, str]:
    total = int(re.search(r'data-testid="checkout-total" data-cents="(\d+)"', review).group(1))
    return total, re.search(r'data-testid="checkout-tax">\$([0-9.,]+)<', review).group(1)


def test_a_managers_tax_change_shows_in_the_next_checkouts_total_and_in_the_history(client, catalog):
    variant = catalog.variants[1795]
    fresh_sku(50, sku=variant.sku)
    subtotal = variant.price_cents * 2
    before_total, before_tax = _total_and_tax(_review_after_checkout(variant.sku, 2))
    assert before_tax == f"{(subtotal * 725 + 5000) // 10000 / 100:,.2f}"

    page = _page(_manager(client))
    assert 'data-testid="config-version">0<' in page and "No change has been made yet" in page
    tax_rates = re.sub(r"CA \d+\.\d\d", "CA 10.00", _form_data(page)["tax_rates"])
    response = client.post(CHANGE, _form_data(page, tax_rates=tax_rates, reason="the new state rate"), follow=True)

    assert "Store configuration version 1 applied: Tax CA: 7.25% → 10.00%" in _messages(response)
    new_tax = (subtotal * 1000 + 5000) // 10000
    after_total, after_tax = _total_and_tax(_review_after_checkout(variant.sku, 2))
    old_tax = (subtotal * 725 + 5000) // 10000
    assert after_tax == f"{new_tax / 100:,.2f}" and after_total - before_total == new_tax - old_tax
    history = _page(client)
    row = re.search(r'<tr class="config-change" data-version="1">(.*?)</tr>', history, re.S).group(1)
    assert '<td class="actor">manager</td>' in row and "Tax CA: 7.25% → 10.00%" in unescape(row)
    assert "the new state rate" in row and 'data-testid="config-version">1<' in history
    assert config_store.read_current().tax_basis_points["CA"] == 1000
    assert [change.actor for change in config_store.read_changes()] == ["manager"]
    entry = LogEntry.objects.get(object_id=STORE_CONFIG_WORKFLOW_ID)
    assert entry.user.username == "manager" and "Tax CA" in entry.change_message
    assert client.get(entry.get_admin_url()).status_code == 302  # the log's link leads to the page


@pytest.mark.parametrize("changes,reason", [
    ({"tax_rates": "CA -1.00\nNY 8.00"}, "The tax rate of CA cannot be negative"),
    ({"tax_rates": "ZZ 5.00"}, "Unknown state code(s) in the tax rates: ZZ"),
    ({f"method_{row}_{part}": "" for row in range(2) for part in ("code", "label", "price", "days")},
     "Offer at least one shipping method"),
    ({"method_1_code": "standard"}, "The shipping method 'standard' is listed twice"),
    ({"currency": "U$D"}, "Currency: Enter a three-letter code such as USD."),
])
def test_a_change_that_breaks_a_rule_is_refused_with_its_reason_and_changes_nothing(client, changes, reason):
    page = _page(_manager(client))

    response = client.post(CHANGE, _form_data(page, **changes), follow=True)

    assert reason in _messages(response) and "Nothing was changed" in _messages(response)
    assert 'data-testid="config-version">0<' in response.content.decode()
    assert config_store.read_current() is None and config_store.read_changes() == ()
    assert not LogEntry.objects.exists()


def test_support_sees_the_configuration_but_cannot_change_it(client):
    page = _page(logged_in(client, "support", "Support"))
    assert "Tax rates" in page and 'id="store-config-form"' not in page

    forged = client.post(CHANGE, {"action_id": uuid.uuid4().hex, "expected_version": "0", "store_name": "Mine"})

    assert forged.status_code == 403
    assert config_store.read_current() is None
    assert logged_in(Client(), "fulfiller", "Fulfillment").get(PAGE).status_code == 403


def test_a_form_sent_twice_applies_once(client):
    page = _page(_manager(client))
    data = _form_data(page, store_name="Heron & Daughters")

    first = client.post(CHANGE, data, follow=True)
    second = client.post(CHANGE, data, follow=True)

    assert "version 1 applied" in _messages(first)
    assert "applied already" in _messages(second)
    assert services.store_config_state().state.config.version == 1
    assert len(config_store.read_changes()) == 1 and LogEntry.objects.count() == 1
    assert "Heron &amp; Daughters · staff" in _page(client)  # the admin's header reads the new name


def test_a_change_decided_on_an_older_version_is_refused(client):
    page = _page(_manager(client))
    assert "applied" in _messages(client.post(CHANGE, _form_data(page, store_name="First"), follow=True))

    stale = client.post(CHANGE, _form_data(page, store_name="Second", action_id=uuid.uuid4().hex), follow=True)

    assert "has changed since that form was loaded" in _messages(stale)
    assert services.store_config_state().state.config.store_name == "First"


async def _change_elsewhere(store_name: str) -> StoreConfigChanged:
    """A change as another web process makes it: straight to the workflow, this process not told."""
    client = await connect()
    start = WithStartWorkflowOperation(
        StoreConfigWorkflow.run, StoreConfigInput(config.default_store_config()), id=STORE_CONFIG_WORKFLOW_ID,
        task_queue=TASK_QUEUE, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
    request = ChangeStoreConfig("elsewhere", replace(config.default_store_config(), store_name=store_name), 0,
                                uuid.uuid4().hex)
    return await client.execute_update_with_start_workflow(
        StoreConfigWorkflow.change_store_config, request, start_workflow_operation=start,
        result_type=StoreConfigChanged)


def test_the_web_tiers_copy_follows_a_change_made_elsewhere_and_activities_read_it_fresh(settings):
    settings.STORE_CONFIG_REFRESH_SECONDS = 3600
    assert services.store_config().version == 0  # read (nothing persisted) and kept for an hour

    async_to_sync(_change_elsewhere)("Heron Elsewhere")

    assert services.store_config().store_name == settings.SHOP_NAME  # this process's copy, not yet due
    assert load_settings().config.store_name == "Heron Elsewhere"  # an activity reads the row now
    settings.STORE_CONFIG_REFRESH_SECONDS = 0  # the copy is due: the next read refreshes it
    assert services.store_config().store_name == "Heron Elsewhere" and services.store_config().version == 1
