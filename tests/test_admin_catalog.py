"""The catalog's staff console: products from the `products` index linked to their storefront pages,
searched and filtered; and the reindex, a workflow that rebuilds the catalog's indices behind their
aliases while the page follows its progress."""

import re
from collections import Counter

import pytest
from asgiref.sync import async_to_sync
from django.contrib.admin.models import LogEntry
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.service import RPCError

from commerce.search import concrete_indices, es, index_name
from commerce.temporal import connect
from inventory import services
from inventory.contracts import (
    REINDEX_WORKFLOW_ID,
    TASK_QUEUE,
    InventoryWorkflows,
    ReindexInput,
    ReindexProgress,
)
from inventory.models import Product
from tests.console_helpers import logged_in, shopper
from tests.histories import record

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog", "workers_in_thread")]

PAGE = "/admin/inventory/product/"
REINDEX = "/admin/inventory/product/reindex/"
PRODUCTS, COLLECTIONS = index_name("products"), index_name("collections")


def _rows(page: str) -> list[dict]:
    return [dict(slug=slug, url=url, available=available) for slug, url, available in re.findall(
        r'<tr data-slug="([^"]+)">.*?<a href="([^"]+)" class="storefront-link">.*?<td class="available">(.*?)</td>',
        page, re.S)]


def _count(page: str) -> int:
    return int(re.search(r'data-testid="product-count">(\d+)<', page).group(1))


def _testid(page: str, name: str) -> str:
    return re.search(rf'data-testid="{name}">([^<]*)<', page).group(1)


def _action_id(page: str) -> str:
    return re.search(r'name="action_id" value="([a-f0-9]{32})"', page).group(1)


def _messages(response) -> str:
    return " ".join(str(message) for message in response.context["messages"]) if response.context else ""


def _live_indices() -> dict[str, list[str]]:
    return {alias: concrete_indices(alias) for alias in (PRODUCTS, COLLECTIONS)}


def _all_indices() -> set[str]:
    return set(es().indices.get(index=f"{PRODUCTS}-*,{COLLECTIONS}-*").keys())


async def _reindex_handle(run_id: str | None = None):
    return (await connect()).get_workflow_handle(REINDEX_WORKFLOW_ID, run_id=run_id, result_type=ReindexProgress)


@async_to_sync
async def _outcome(history: str = ""):
    """The latest reindex's end (its result, or its failure), recorded as `history` if asked."""
    run = await _reindex_handle((await (await _reindex_handle()).describe()).run_id)
    try:
        outcome = await run.result()
    except WorkflowFailureError as failure:
        outcome = failure
    if history:
        await record(run, history)
    return outcome


@async_to_sync
async def _latest_run_id() -> str:
    try:
        return (await (await _reindex_handle()).describe()).run_id
    except Exception:  # noqa: BLE001 - never started in this namespace
        return ""


@pytest.fixture(autouse=True)
def no_reindex_running(workers_in_thread):
    """A reindex left running by an earlier test process (stopped mid-run) ends first."""

    @async_to_sync
    async def settle():
        try:
            description = await (await _reindex_handle()).describe()
        except RPCError:
            return  # none ever ran in this namespace
        if description.status != WorkflowExecutionStatus.RUNNING:
            return
        run = await _reindex_handle(description.run_id)
        if description.task_queue != TASK_QUEUE:
            await run.terminate("left running by an earlier test")
            return
        try:
            await run.result()
        except WorkflowFailureError:
            pass

    settle()


@pytest.fixture
def managers(client):
    return logged_in(client, "catalog-manager", "Managers")


@pytest.fixture
def support(client):
    return logged_in(client, "catalog-support", "Support")




@pytest.fixture
def unindexable_product(catalog):
    """A product in Cassandra that Elasticsearch refuses: its name is longer than a keyword may be."""
    slug = "zz-unindexable-pattern"
    Product.objects.create(slug=slug, code="99999", name="Unindexable " + "x" * 40_000, department="Home",
                           collections=[catalog.products[0].collections[0]])
    yield slug
    Product.objects.filter(slug=slug).delete()


# -- the product list ---------------------------------------------------------------------------

def test_the_product_list_shows_products_from_the_index_with_storefront_links_that_resolve(support, catalog):
    page = support.get(PAGE).content.decode()

    rows = _rows(page)
    assert _count(page) == len(catalog.products) and len(rows) == 50
    by_name = sorted(catalog.products, key=lambda p: (p.name, p.slug))
    assert [row["slug"] for row in rows] == [p.slug for p in by_name][:50]
    for row in rows:
        assert row["url"] == f"/products/{row['slug']}/"
        assert support.get(row["url"]).status_code == 200, row["url"]
    first = next(p for p in catalog.products if p.slug == rows[0]["slug"])
    cells = re.search(rf'<tr data-slug="{first.slug}">(.*?)</tr>', page, re.S).group(1)
    low, high = min(v.price_cents for v in first.variants), max(v.price_cents for v in first.variants)
    assert f"<td>{first.code}</td>" in cells and f"<td>{first.department}</td>" in cells
    assert f"${low / 100:,.2f}" in cells and (low == high or f"${high / 100:,.2f}" in cells)
    assert f'<td class="variants">{len(first.variants)}</td>' in cells


def test_the_list_pages_fifty_at_a_time(support, catalog):
    first = _rows(support.get(PAGE).content.decode())
    second_page = support.get(f"{PAGE}?page=2").content.decode()
    last_page = support.get(f"{PAGE}?page=8").content.decode()

    assert '<span class="this-page">2</span>' in second_page and 'href="?page=3"' in second_page
    assert len(_rows(second_page)) == 50 and not {r["slug"] for r in first} & {r["slug"] for r in _rows(second_page)}
    assert len(_rows(last_page)) == len(catalog.products) - 7 * 50


def test_search_and_filters_narrow_the_list(support, catalog):
    product = catalog.products[11]
    collection = product.collections[0]
    in_collection = {p.slug for p in catalog.products if collection in p.collections}
    in_department = {p.slug for p in catalog.products if p.department == product.department}

    by_code = _rows(support.get(f"{PAGE}?q={product.code}").content.decode())
    by_slug = _rows(support.get(f"{PAGE}?q={product.slug}").content.decode())
    by_words = _rows(support.get(PAGE, {"q": product.name.lower()}).content.decode())
    by_collection = support.get(PAGE, {"collection": collection}).content.decode()
    by_department = support.get(PAGE, {"department": product.department, "page": 1}).content.decode()
    in_stock = support.get(PAGE, {"in_stock": "yes"}).content.decode()
    sold_out = support.get(PAGE, {"in_stock": "no"}).content.decode()

    assert [r["slug"] for r in by_code] == [product.slug] and [r["slug"] for r in by_slug] == [product.slug]
    assert product.slug in {r["slug"] for r in by_words} and len(by_words) < 50
    assert _count(by_collection) == len(in_collection) and {r["slug"] for r in _rows(by_collection)} <= in_collection
    assert _count(by_department) == len(in_department)
    assert {r["slug"] for r in _rows(by_department)} <= in_department
    assert _count(in_stock) + _count(sold_out) == len(catalog.products) and _count(sold_out) < len(catalog.products)
    assert all(r["available"] != "" and "sold out" not in r["available"] for r in _rows(in_stock))
    assert all("sold out" in r["available"] for r in _rows(sold_out))


def test_a_bad_filter_is_dropped_with_a_message(support, catalog):
    response = support.get(PAGE, {"collection": "no-such-collection", "page": "9" * 40})

    assert response.status_code == 200
    assert "Select a valid choice" in _messages(response)
    assert _count(response.content.decode()) == len(catalog.products)


def test_the_list_says_search_is_down_instead_of_failing(support, elasticsearch_down):
    response = support.get(PAGE)

    assert response.status_code == 200
    assert "Search (Elasticsearch) is not answering" in _testid(response.content.decode(), "error")


# -- permissions --------------------------------------------------------------------------------

def test_a_support_user_sees_no_reindex_button_and_a_forged_post_is_refused(support):
    before = _latest_run_id()

    page = support.get(PAGE).content.decode()
    forged = support.post(REINDEX, {"action_id": "a" * 32})

    assert "Reindex now" not in page and 'name="action_id"' not in page
    assert forged.status_code == 403 and _latest_run_id() == before


def test_a_user_who_is_not_staff_is_sent_to_the_login(client):
    shopper(client)

    for response in (client.get(PAGE), client.post(REINDEX, {"action_id": "a" * 32})):
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_staff_without_the_catalog_permission_are_refused(client):
    logged_in(client, "no-role")

    assert client.get(PAGE).status_code == 403


# -- the reindex --------------------------------------------------------------------------------

def test_a_manager_reindexes_the_catalog_and_the_storefront_searches_the_new_index(managers, catalog):
    before = _live_indices()
    form = {"action_id": _action_id(managers.get(PAGE).content.decode())}

    started = managers.post(REINDEX, form, follow=True)
    result = _outcome("catalog_reindex")
    page = managers.get(PAGE).content.decode()
    again = managers.post(REINDEX, form, follow=True)

    assert "Reindex started" in _messages(started)
    assert isinstance(result, ReindexProgress) and result.phase == "finished"
    collections = len(services.list_collections())
    assert result.done == result.total == len(catalog.products) + collections
    assert result.requested_by == "catalog-manager"
    assert _testid(page, "reindex-outcome") == "completed" and _testid(page, "reindex-phase") == "finished"
    assert _testid(page, "reindex-done") == _testid(page, "reindex-total") == str(result.total)
    assert f'<progress value="{result.total}" max="{result.total}">' in page
    assert 'http-equiv="refresh"' not in page and "Reindex now" in page
    assert f"/workflows/{REINDEX_WORKFLOW_ID}/" in page
    after = _live_indices()
    assert all(len(after[alias]) == 1 and after[alias] != before[alias] for alias in after)
    assert _all_indices() == {index for indices in after.values() for index in indices}
    product = catalog.products[3]
    search = managers.get("/search/", {"q": product.name})
    assert search.status_code == 200 and f'href="/products/{product.slug}/' in search.content.decode()
    # The same form sent again applies once: it shows the reindex it started.
    assert "already started" in _messages(again) and _outcome() == result
    entry = LogEntry.objects.get(object_id=REINDEX_WORKFLOW_ID)
    assert entry.user.username == "catalog-manager" and "Started a reindex" in entry.change_message


def test_starting_a_reindex_while_one_runs_attaches_to_it(managers):
    @async_to_sync
    async def start_one_no_worker_picks_up():
        # A reindex that runs as long as the test needs: its task queue has no worker.
        handle = await (await connect()).start_workflow(
            InventoryWorkflows.CATALOG_REINDEX, ReindexInput(), id=REINDEX_WORKFLOW_ID,
            task_queue="catalog-reindex-unserved")
        return handle.result_run_id

    @async_to_sync
    async def stop(run_id: str):
        run = (await connect()).get_workflow_handle(REINDEX_WORKFLOW_ID, run_id=run_id)
        await run.terminate("test over")
        return (await run.describe()).status

    running = start_one_no_worker_picks_up()
    try:
        first = managers.post(REINDEX, {"action_id": "1" * 32}, follow=True)
        second = managers.post(REINDEX, {"action_id": "2" * 32}, follow=True)
        page = managers.get(PAGE).content.decode()
        latest = _latest_run_id()
    finally:
        status = stop(running)

    assert latest == running and status == WorkflowExecutionStatus.TERMINATED
    assert "already running" in _messages(first) and "already running" in _messages(second)
    assert _testid(page, "reindex-outcome") == "running"
    assert '<meta http-equiv="refresh" content="3">' in page and "Reindex now" not in page
    assert "has not answered yet" in page  # no worker serves it
    assert not LogEntry.objects.filter(object_id=REINDEX_WORKFLOW_ID).exists()


def test_a_failing_reindex_leaves_the_storefront_on_the_old_index_and_says_why(managers, catalog,
                                                                                unindexable_product):
    before, indices = _live_indices(), _all_indices()
    form = {"action_id": _action_id(managers.get(PAGE).content.decode())}

    managers.post(REINDEX, form)
    failure = _outcome("catalog_reindex_failed")
    page = managers.get(PAGE).content.decode()

    assert isinstance(failure, WorkflowFailureError)
    assert _testid(page, "reindex-outcome") == "failed" and _testid(page, "reindex-phase") == "failed"
    reason = _testid(page, "reindex-error")
    assert reason.startswith("Indexing products failed: the index refused") and unindexable_product in reason
    assert _live_indices() == before and _all_indices() == indices
    product = catalog.products[4]
    search = managers.get("/search/", {"q": product.name})
    assert search.status_code == 200 and f'href="/products/{product.slug}/' in search.content.decode()
    assert "Reindex now" in page  # a failed reindex may be tried again


def test_a_reindex_form_without_a_valid_action_id_starts_nothing(managers):
    before = _latest_run_id()

    response = managers.post(REINDEX, {"action_id": "not-an-id"}, follow=True)

    assert "expired" in _messages(response) and _latest_run_id() == before
    assert Counter(m.level_tag for m in response.context["messages"])["error"] == 1
