"""The simulated dropship partner against the real Cassandra: submit is idempotent by reference, the
order moves through its stages over real time (short durations set on the settings), release and
cancel follow the partner's rules, and transient failures happen at the configured rate and are
counted in the order's row."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest

from checkout.contracts import Address, CheckoutLine
from commerce.cassandra import session, table
from fulfillment import partner
from fulfillment.contracts import PartnerOrder, PartnerStage, PartnerStatus

pytestmark = pytest.mark.usefixtures("cassandra_schema")

ADDRESS = Address("ada@example.com", "Ada Lovelace", "1 Loop Rd", "", "Portland", "OR", "97201")
LINES = (CheckoutLine("SKU-A", "shirt", "Shirt", "Blue", "M", 2500, 2, "/a.svg", "r-a"),
         CheckoutLine("SKU-B", "hat", "Hat", "Red", "One Size", 1999, 1, "/b.svg", "r-b"))


@pytest.fixture(autouse=True)
def partner_settings(settings):
    settings.FULFILLMENT_PROCESSING_SECONDS = 0.3
    settings.FULFILLMENT_SHIPPING_SECONDS = 0.3
    settings.FULFILLMENT_DELIVERY_SECONDS = 0.3
    settings.DROPSHIP_FAILURE_RATE = 0.0
    return settings


def _order(reference: str = "") -> PartnerOrder:
    return PartnerOrder(reference or f"HC-TEST{uuid.uuid4().hex[:8].upper()}-so-1", LINES, ADDRESS)


def _until(partner_order_id: str, stage: str, seconds: float = 20) -> PartnerStatus:
    status = None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = partner.status(partner_order_id)
        if status.stage == stage:
            return status
        time.sleep(0.05)
    raise AssertionError(f"{partner_order_id} never became {stage}: {status}")


def test_submitting_the_same_reference_twice_gives_the_same_partner_order():
    order = _order()

    first = partner.submit(order)
    again = partner.submit(order)

    assert first == again and first.startswith("DS-")
    claims = list(session().execute(f"SELECT partner_order_id FROM {table('dropship_orders_by_reference')}"
                                    " WHERE reference = %s", [order.reference]))
    assert [row["partner_order_id"] for row in claims] == [first]
    record = partner.read(first)
    assert record.reference == order.reference and record.status == PartnerStage.ACCEPTED
    assert dict(record.units) == {"SKU-A": 2, "SKU-B": 1} and record.calls == 2 and record.failures == 0


def test_an_order_becomes_ready_then_ships_with_a_tracking_number_after_release_then_is_delivered():
    partner_order_id = partner.submit(_order())

    assert partner.status(partner_order_id).stage == PartnerStage.ACCEPTED
    ready = _until(partner_order_id, PartnerStage.READY)
    time.sleep(0.4)  # longer than the shipping time: without a release nothing ships
    still = partner.status(partner_order_id)
    partner.release(partner_order_id)
    partner.release(partner_order_id)  # a retried release changes nothing
    released = partner.read(partner_order_id)
    shipped = _until(partner_order_id, PartnerStage.SHIPPED)
    delivered = _until(partner_order_id, PartnerStage.DELIVERED)
    record = partner.read(partner_order_id)

    assert ready.tracking_number == "" and still.stage == PartnerStage.READY
    assert shipped.tracking_number.startswith("NW") and shipped.tracking_number[2:].isdigit()
    assert len(shipped.tracking_number) == 14 and shipped.carrier == "Northwind Parcel"
    assert delivered.tracking_number == shipped.tracking_number == released.tracking_number
    assert record.status == PartnerStage.DELIVERED
    assert record.released_at < record.shipped_at < record.delivered_at
    # Stages are recorded at the times the partner's durations give, whenever a call noticed them.
    assert record.shipped_at - record.released_at == timedelta(seconds=0.3)
    assert record.delivered_at - record.shipped_at == timedelta(seconds=0.3)


def test_release_before_ready_and_after_cancel_is_refused_and_cancel_after_shipment_is_refused():
    early = partner.submit(_order())
    with pytest.raises(partner.PartnerRefused, match="not packed"):
        partner.release(early)
    partner.cancel(early)
    partner.cancel(early)  # idempotent
    assert partner.status(early).stage == PartnerStage.CANCELLED
    with pytest.raises(partner.PartnerRefused, match="cancelled"):
        partner.release(early)

    gone = partner.submit(_order())
    _until(gone, PartnerStage.READY)
    partner.release(gone)
    _until(gone, PartnerStage.SHIPPED)
    with pytest.raises(partner.PartnerRefused, match="shipped"):
        partner.cancel(gone)
    assert partner.read(gone).status in (PartnerStage.SHIPPED, PartnerStage.DELIVERED)

    with pytest.raises(partner.PartnerRefused, match="no order"):
        partner.status("DS-0000000000000000")
    with pytest.raises(partner.PartnerRefused, match="reference"):
        partner.submit(PartnerOrder("", LINES, ADDRESS))


def test_a_released_order_can_still_be_cancelled_before_it_ships(settings):
    settings.FULFILLMENT_SHIPPING_SECONDS = 60
    partner_order_id = partner.submit(_order())
    _until(partner_order_id, PartnerStage.READY)
    partner.release(partner_order_id)

    partner.cancel(partner_order_id)

    assert partner.status(partner_order_id).stage == PartnerStage.CANCELLED
    assert partner.read(partner_order_id).cancelled_at is not None


def test_at_a_failure_rate_of_one_half_about_half_the_calls_fail_and_every_failure_is_counted(settings):
    settings.FULFILLMENT_PROCESSING_SECONDS = 3600  # it stays accepted: every call is a plain status
    settings.DROPSHIP_FAILURE_RATE = 0.5
    order = _order()
    submit_failures, partner_order_id = 0, None
    while partner_order_id is None:
        try:
            partner_order_id = partner.submit(order)
        except partner.PartnerUnavailable:
            submit_failures += 1  # the order exists all the same: the retry finds it
    failures = 0
    for _ in range(200):
        try:
            assert partner.status(partner_order_id).stage == PartnerStage.ACCEPTED
        except partner.PartnerUnavailable:
            failures += 1

    record = partner.read(partner_order_id)
    assert record.calls == 201 + submit_failures
    assert record.failures == failures + submit_failures
    assert 60 <= failures <= 140  # binomial(200, 0.5): far outside this only by a broken rate
    # The decision is a hash of (reference, call number): the same calls fail again.
    assert sum(partner.fails(order.reference, call, 0.5) for call in range(1, record.calls + 1)) == record.failures
