"""Orders from checkout to delivered (or cancelled, or refunded) against the real stack: guest checkouts
over HTTP, the order and fulfillment workflows on real workers, the payment ledger, stock rows, the
status history and the `orders` index, with short simulated durations."""

import asyncio
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.core import mail
from django.test import AsyncClient

from checkout import payments
from commerce.search import es, index_name
from fulfillment import partner
from fulfillment import services as fulfillment
from orders import history, staff
from orders.contracts import OrderStatus, SupplierOrderStage
from tests.stock_helpers import fresh_sku, levels
from tests.test_checkout import GOOD_CARD, _add, _order_number, _submit, _to_review

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog", "running_workers")]

WAREHOUSE, DROPSHIP, WORKSHOP = "heron-warehouse", "northwind-dropship", "saltmarsh-workshop"
STAFF = "staff:ada"


@pytest.fixture(autouse=True)
def fast_fulfillment(settings):
    settings.CART_CREATIONS_PER_MINUTE = 1000
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.FULFILLMENT_PROCESSING_SECONDS = 0.2
    settings.FULFILLMENT_SHIPPING_SECONDS = 0.2
    settings.FULFILLMENT_DELIVERY_SECONDS = 0.2
    settings.DROPSHIP_POLL_SECONDS = 0.2
    settings.DROPSHIP_FAILURE_RATE = 0.0
    settings.FULFILLMENT_MANUAL = False
    settings.ORDER_APPROVAL_THRESHOLD_CENTS = 10_000_000


@pytest.fixture
def sku_of(catalog):
    """A fresh-stocked SKU of a product shipped by the given supplier (each call a new one)."""
    by_supplier: dict[str, list] = {}
    for product in catalog.products[150:]:
        by_supplier.setdefault(product.supplier_id, []).extend(product.variants)
    taken = {supplier: iter(variants) for supplier, variants in by_supplier.items()}

    def take(supplier: str, on_hand: int = 20) -> str:
        variant = next(taken[supplier])
        fresh_sku(on_hand, sku=variant.sku)
        return variant.sku

    return take


async def _place(*skus: str, quantity: int = 1, card=GOOD_CARD) -> tuple[AsyncClient, str]:
    client = AsyncClient()
    for sku in skus:
        await _add(client, sku, quantity)
    page, _ = await _submit(client, await _to_review(client, card=card))
    return client, _order_number(page)


async def _detail(number: str):
    return await sync_to_async(staff.order_detail)(number)


async def _until(number: str, predicate, what: str, seconds: float = 60):
    detail = None
    for _ in range(int(seconds / 0.1)):
        detail = await _detail(number)
        if detail is not None and predicate(detail):
            return detail
        await asyncio.sleep(0.1)
    raise AssertionError(f"order {number} never {what}: {detail and detail.status}, "
                         f"{detail and [s.stage for s in detail.supplier_orders]}")


async def _status(number: str, status: str, seconds: float = 60):
    return await _until(number, lambda detail: detail.status == status, f"became {status}", seconds)


async def _history(number: str, version: int) -> list:
    """The order's status history once the record of `version` has landed (it writes the history,
    then the index: the query can run ahead of both)."""
    await _indexed(number, version)
    return await sync_to_async(history.read_history)(number)


async def _statuses(number: str, version: int) -> list[str]:
    return [transition.to_status for transition in await _history(number, version)]


async def _indexed(number: str, version: int = 0) -> dict:
    """The order's document in the `orders` index once it carries `version` (or newer): the record
    activity writes it just after the workflow changed."""
    source: dict = {}
    for _ in range(100):
        es().indices.refresh(index=index_name("orders"))
        found = es().search(index=index_name("orders"), query={"term": {"order_number": number}})["hits"]["hits"]
        source = found[0]["_source"] if found else {}
        if source and source["version"] >= version:
            return source
        await asyncio.sleep(0.1)
    raise AssertionError(f"the orders index never caught up with {number} v{version}: {source}")


async def _mails(number: str, words: str, expected: int) -> list:
    """The order's emails whose subject has `words`, once `expected` have gone out (or after 10 s):
    the workflow sends them after the change they tell of; a count above `expected` still shows."""
    found: list = []
    for _ in range(100):
        found = [m for m in mail.outbox if number in m.subject and words in m.subject.lower()]
        if len(found) >= expected:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.3)  # a duplicate would come right after
    return [m for m in mail.outbox if number in m.subject and words in m.subject.lower()]


def _ledger(detail):
    """(kind, status, amount) of every ledger entry of every authorization the order used."""
    keys = {entry.authorization_key for entry in detail.payments if entry.authorization_key}
    keys.add(detail.order.payment_authorization_key)
    return [record for key in sorted(keys) for record in payments.ledger(key)]


async def _captured(detail) -> int:
    ledger = await sync_to_async(_ledger)(detail)
    return sum(record.amount_cents for record in ledger if record.kind == "capture")


async def test_a_guest_order_travels_to_delivered_through_the_simulated_supplier(sku_of):
    sku = sku_of(WAREHOUSE, on_hand=10)
    client, number = await _place(sku, quantity=2)

    detail = await _status(number, OrderStatus.DELIVERED)

    assert await _statuses(number, detail.version) == [
        OrderStatus.PLACED, OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.DELIVERED]
    assert await _captured(detail) == detail.order.totals.total_cents
    assert await sync_to_async(levels)(sku) == (8, 0, {})  # two units left the shelf, nothing held
    shipment = detail.supplier_orders[0]
    assert shipment.stage == SupplierOrderStage.DELIVERED and shipment.tracking_number
    shipped_mails = await _mails(number, "on its way", 1)
    assert len(shipped_mails) == 1 and shipment.tracking_number in shipped_mails[0].body
    page = (await client.get(f"/orders/{number}/")).content.decode()
    assert 'data-status="delivered"' in page and shipment.tracking_number in page
    indexed = await _indexed(number, detail.version)
    assert indexed["status"] == OrderStatus.DELIVERED and indexed["version"] == detail.version


async def test_a_mixed_supplier_order_ships_in_parts_and_captures_sum_to_the_authorization(sku_of):
    automatic, by_hand = sku_of(WAREHOUSE), sku_of(WORKSHOP)
    _, number = await _place(automatic, by_hand)

    detail = await _status(number, OrderStatus.PARTIALLY_SHIPPED)
    assert len(detail.supplier_orders) == 2
    assert {s.plan.supplier_id for s in detail.supplier_orders} == {WAREHOUSE, WORKSHOP}
    assert sum(s.plan.amount_cents for s in detail.supplier_orders) == detail.order.totals.total_cents
    assert (await _indexed(number, detail.version))["status"] == OrderStatus.PARTIALLY_SHIPPED
    manual = next(s for s in detail.supplier_orders if s.plan.supplier_id == WORKSHOP)

    await sync_to_async(fulfillment.mark_packed)(number, manual.plan.index, STAFF)
    await sync_to_async(fulfillment.mark_shipped)(number, manual.plan.index, STAFF, "TRACK-12345", "Heron Post")
    await _status(number, OrderStatus.SHIPPED)
    await sync_to_async(fulfillment.mark_delivered)(number, manual.plan.index, STAFF)
    detail = await _status(number, OrderStatus.DELIVERED)

    assert await _statuses(number, detail.version) == [
        OrderStatus.PLACED, OrderStatus.PROCESSING, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED,
        OrderStatus.DELIVERED]
    ledger = await sync_to_async(_ledger)(detail)
    captures = [record.amount_cents for record in ledger if record.kind == "capture"]
    assert len(captures) == 2 and sum(captures) == detail.order.totals.total_cents
    assert await sync_to_async(levels)(automatic) == (19, 0, {})
    assert await sync_to_async(levels)(by_hand) == (19, 0, {})


async def test_the_dropship_partner_fails_transiently_and_the_order_is_still_delivered(sku_of, settings):
    settings.DROPSHIP_FAILURE_RATE = 0.5
    _, number = await _place(sku_of(DROPSHIP))

    detail = await _status(number, OrderStatus.DELIVERED, seconds=90)

    assert detail.supplier_orders[0].tracking_number
    assert await _captured(detail) == detail.order.totals.total_cents
    view = await sync_to_async(fulfillment.supplier_order)(number, 1)
    partner_order = await sync_to_async(partner.read)(view.partner_order_id)
    assert partner_order.failures > 0 and partner_order.status == "delivered"  # it did fail, and got there


async def test_manual_mode_waits_for_staff_at_each_stage(sku_of, settings):
    settings.FULFILLMENT_MANUAL = True
    sku = sku_of(WAREHOUSE)
    _, number = await _place(sku)
    detail = await _until(number, lambda d: d.supplier_orders and d.supplier_orders[0].manual_actions,
                          "offered a manual step")
    assert detail.status == OrderStatus.PROCESSING
    assert detail.supplier_orders[0].plan.strategy == "manual"

    for _ in range(3):
        await sync_to_async(staff.advance)(number, STAFF)
        await asyncio.sleep(0.3)

    detail = await _status(number, OrderStatus.DELIVERED)
    assert detail.supplier_orders[0].tracking_number.startswith("MAN")
    assert await sync_to_async(levels)(sku) == (19, 0, {})


async def test_an_order_above_the_threshold_waits_for_approval_and_staff_approve_it_once(sku_of, settings):
    settings.ORDER_APPROVAL_THRESHOLD_CENTS = 1
    _, number = await _place(sku_of(WAREHOUSE))
    detail = await _status(number, OrderStatus.AWAITING_APPROVAL)
    assert "approve" in detail.allowed_actions
    assert (await _indexed(number, detail.version))["needs_approval"] is True

    action = uuid.uuid4().hex
    first = await sync_to_async(staff.approve)(number, STAFF, action_id=action)
    again = await sync_to_async(staff.approve)(number, STAFF, action_id=action)

    assert first.applied and (again == first or not again.applied)
    delivered = await _status(number, OrderStatus.DELIVERED)
    approvals = [t for t in await _history(number, delivered.version)
                 if t.from_status == OrderStatus.AWAITING_APPROVAL]
    assert [(t.to_status, t.actor) for t in approvals] == [(OrderStatus.PROCESSING, STAFF)]


async def test_cancel_before_shipment_voids_releases_and_emails_once_and_cancel_after_it_is_refused(
        sku_of, settings):
    settings.FULFILLMENT_MANUAL = True
    sku = sku_of(WAREHOUSE)
    _, number = await _place(sku, quantity=3)
    await _until(number, lambda d: d.supplier_orders and d.supplier_orders[0].manual_actions, "planned")
    assert await sync_to_async(levels)(sku) == (20, 3, {}) or (await sync_to_async(levels)(sku))[1] == 3

    result = await sync_to_async(staff.cancel)(number, STAFF, "Customer asked by phone")
    assert result.status == OrderStatus.CANCELLED

    detail = await _until(number, lambda d: d.supplier_orders[0].stage == SupplierOrderStage.CANCELLED,
                          "cancelled its supplier order")
    ledger = await sync_to_async(_ledger)(detail)
    assert [record.kind for record in ledger] == ["authorize", "void"]
    for _ in range(50):
        if (await sync_to_async(levels)(sku))[1] == 0:
            break
        await asyncio.sleep(0.1)
    assert await sync_to_async(levels)(sku) == (20, 0, {})
    assert len(await _mails(number, "cancelled", 1)) == 1
    with pytest.raises(staff.ActionRefused, match="fulfil|cancel|ship"):
        await sync_to_async(fulfillment.mark_packed)(number, 1, STAFF)

    # Another order: once its shipment has left, cancel is refused with the workflow's reason.
    _, shipped = await _place(sku_of(WAREHOUSE))
    await sync_to_async(fulfillment.mark_packed)(shipped, 1, STAFF)
    await sync_to_async(fulfillment.mark_shipped)(shipped, 1, STAFF, "TRACK-99999", "Heron Post")
    await _status(shipped, OrderStatus.SHIPPED)
    with pytest.raises(staff.ActionRefused, match="cannot become cancelled|a shipment has left"):
        await sync_to_async(staff.cancel)(shipped, STAFF, "Too late")
    assert (await _detail(shipped)).status == OrderStatus.SHIPPED


async def test_refunds_partial_then_full_and_never_beyond_what_was_captured(sku_of):
    first, second = sku_of(WAREHOUSE), sku_of(WAREHOUSE)
    _, number = await _place(first, second)
    detail = await _status(number, OrderStatus.DELIVERED)
    total = detail.order.totals.total_cents

    partial = await sync_to_async(staff.refund)(number, STAFF, "Scratched", amount_cents=100)
    assert partial.applied
    by_line = await sync_to_async(staff.refund)(number, STAFF, "Wrong size", skus=(first,))
    assert by_line.applied
    detail = await _detail(number)
    assert detail.status == OrderStatus.DELIVERED and first in detail.refunded_skus
    with pytest.raises(staff.ActionRefused, match="captured|refund"):
        await sync_to_async(staff.refund)(number, STAFF, "Too much", amount_cents=total)

    rest = total - detail.refunded_cents
    await sync_to_async(staff.refund)(number, STAFF, "Returned", amount_cents=rest)
    detail = await _status(number, OrderStatus.REFUNDED)
    ledger = await sync_to_async(_ledger)(detail)
    assert sum(r.amount_cents for r in ledger if r.kind == "refund") == total
    assert len(await _mails(number, "refund", 3)) == 3
    assert (await _indexed(number, detail.version))["status"] == OrderStatus.REFUNDED


async def test_illegal_actions_are_refused_with_the_workflows_reason(sku_of, settings):
    settings.FULFILLMENT_MANUAL = True
    _, number = await _place(sku_of(WAREHOUSE))
    await _status(number, OrderStatus.PROCESSING)

    with pytest.raises(staff.ActionRefused, match="approv"):
        await sync_to_async(staff.approve)(number, STAFF)
    with pytest.raises(staff.ActionRefused, match="refund|ship"):
        await sync_to_async(staff.refund)(number, STAFF, "Nothing shipped", amount_cents=100)
    with pytest.raises(staff.ActionRefused, match="stage|pack"):
        await sync_to_async(fulfillment.mark_delivered)(number, 1, STAFF)
    detail = await _detail(number)
    assert detail.status == OrderStatus.PROCESSING
    assert await _statuses(number, detail.version) == [OrderStatus.PLACED, OrderStatus.PROCESSING]

