"""The dropship partner behind a small interface, and its one implementation: a simulated partner
with its own state in Cassandra (it stands in for an outside system, so it keeps real time).

    submit(PartnerOrder) -> partner order id       idempotent by `reference` (the supplier order id)
    status(partner_order_id) -> PartnerStatus
    release(partner_order_id) -> None              the order may ship now (only once it is ready)
    cancel(partner_order_id) -> None               refused once it has shipped
    read(partner_order_id) -> DropshipRecord | None   (tests, operators)

Stages over real time, with the durations of settings (FULFILLMENT_PROCESSING_SECONDS,
FULFILLMENT_SHIPPING_SECONDS, FULFILLMENT_DELIVERY_SECONDS) as they are at the call:
accepted -> ready `processing` after creation; once released, shipped `shipping` after the release
(tracking number "NW" + 12 digits, carrier Northwind Parcel) and delivered `delivery` after that.
A stage is recorded in the row when a call notices it (compare-and-set on the status read).

Idempotency. `dropship_orders_by_reference` is claimed first (`INSERT ... IF NOT EXISTS`): a second
submit of the same reference, or a retry after a lost answer, finds the first partner order. The order's
row is then written `IF NOT EXISTS`, so a crash between the two writes is finished by the retry.

Transient failures. Every call about an order is counted in its row (`calls`, by compare-and-set) and
fails with PartnerUnavailable when `fails(reference, call number, DROPSHIP_FAILURE_RATE)` says so,
counted in `failures`. The decision is a hash of the reference and the call's number: deterministic,
so a test can rely on about `rate` of many calls failing. A call fails after it was counted and before
it acts (submit: after the order exists, as if the answer were lost), so a retry is always safe.
`PartnerRefused` (a ValueError) is a request that can never succeed: an unknown order, a release
before the order is ready or after it was cancelled, a cancel after shipment, a bad reference.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from cassandra import ConsistencyLevel, OperationTimedOut, WriteTimeout
from cassandra.query import SimpleStatement
from django.conf import settings

from commerce.attempts import Attempts
from commerce.cassandra import session, table
from fulfillment.contracts import FulfillmentErrors, PartnerOrder, PartnerStage, PartnerStatus

log = logging.getLogger(__name__)

CARRIER = "Northwind Parcel"
TRACKING_PREFIX = "NW"
TRACKING_DIGITS = 12
CAS_BUDGET_SECONDS = 2.0
MAX_REFERENCE_LENGTH = 200
MAX_LINES = 200
MAX_UNITS = 10_000
MAX_STAGE_SECONDS = 30 * 24 * 3600.0
_PARTNER_ORDER_ID = re.compile(r"DS-[0-9A-F]{16}")
_COLUMNS = ("partner_order_id, reference, status, units, ship_to, tracking_number, carrier, created_at,"
            " released_at, shipped_at, delivered_at, cancelled_at, calls, failures")


# -- errors -----------------------------------------------------------------------------------

class PartnerError(Exception):
    kind = "PartnerError"
    retryable = False


class PartnerUnavailable(PartnerError):
    """The partner did not answer this time; the same call, retried, may succeed."""

    kind = FulfillmentErrors.PARTNER_UNAVAILABLE
    retryable = True


class PartnerRefused(PartnerError, ValueError):
    """A request the partner can never accept (a retry gives the same answer)."""

    kind = "PartnerRefused"


# -- the records ------------------------------------------------------------------------------

@dataclass(frozen=True)
class DropshipRecord:
    """One row of `dropship_orders`."""

    partner_order_id: str
    reference: str
    status: str
    units: tuple[tuple[str, int], ...]  # (SKU, units)
    ship_to: str
    tracking_number: str
    carrier: str
    created_at: datetime
    released_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    calls: int
    failures: int


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _now() -> datetime:
    # Cassandra keeps milliseconds: compute with what it will store.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _record(row: dict) -> DropshipRecord:
    return DropshipRecord(
        row["partner_order_id"], row["reference"] or "", row["status"] or "",
        tuple(sorted((row["units"] or {}).items())), row["ship_to"] or "", row["tracking_number"] or "",
        row["carrier"] or "", _utc(row["created_at"]) or _now(), _utc(row["released_at"]),
        _utc(row["shipped_at"]), _utc(row["delivered_at"]), _utc(row["cancelled_at"]),
        row["calls"] or 0, row["failures"] or 0)


def fails(reference: str, call: int, rate: float) -> bool:
    """Whether call number `call` about `reference` fails transiently: a hash, so the same call
    always gets the same answer and about `rate` of many calls fail."""
    rate = min(max(float(rate), 0.0), 1.0)
    digest = hashlib.sha256(f"{reference}#{call}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64 < rate


def _seconds(name: str) -> timedelta:
    value = float(getattr(settings, name))
    return timedelta(seconds=min(max(value, 0.0), MAX_STAGE_SECONDS))


def _attempts() -> Attempts:
    """Compare-and-set attempts within CAS_BUDGET_SECONDS; past it the caller should retry later."""
    return Attempts(CAS_BUDGET_SECONDS, lambda: PartnerUnavailable("The dropship partner is busy; try again."))


def _lwt(cql: str, values: list):
    """One lightweight transaction: its result, or None when it timed out (it may or may not have
    applied: the caller re-reads at SERIAL and decides)."""
    try:
        return session().execute(cql, values)
    except (WriteTimeout, OperationTimedOut):
        return None


# -- the interface ------------------------------------------------------------------------------

class DropshipPartner(Protocol):
    def submit(self, order: PartnerOrder) -> str: ...

    def status(self, partner_order_id: str) -> PartnerStatus: ...

    def release(self, partner_order_id: str) -> None: ...

    def cancel(self, partner_order_id: str) -> None: ...


class SimulatedPartner:
    """The partner's API over its tables `dropship_orders` and `dropship_orders_by_reference`."""

    # -- reads -----------------------------------------------------------------------------------
    def read(self, partner_order_id: str) -> DropshipRecord | None:
        """What Paxos committed for the order (SERIAL): the truth every compare-and-set is based on."""
        if not isinstance(partner_order_id, str) or not _PARTNER_ORDER_ID.fullmatch(partner_order_id):
            return None
        statement = SimpleStatement(f"SELECT {_COLUMNS} FROM {table('dropship_orders')} WHERE partner_order_id = %s",
                                    consistency_level=ConsistencyLevel.SERIAL)
        row = session().execute(statement, [partner_order_id]).one()
        return _record(row) if row else None

    def _existing(self, partner_order_id: str) -> DropshipRecord:
        record = self.read(partner_order_id)
        if record is None:
            raise PartnerRefused(f"The dropship partner has no order {str(partner_order_id)[:40]!r}.")
        return record

    # -- the API ---------------------------------------------------------------------------------
    def submit(self, order: PartnerOrder) -> str:
        reference = order.reference
        if not isinstance(reference, str) or not 1 <= len(reference) <= MAX_REFERENCE_LENGTH \
                or not reference.isprintable():
            raise PartnerRefused(f"A reference is 1 to {MAX_REFERENCE_LENGTH} printable characters.")
        if not 1 <= len(order.lines) <= MAX_LINES:
            raise PartnerRefused(f"An order has 1 to {MAX_LINES} lines.")
        units: dict[str, int] = {}
        for line in order.lines:
            if isinstance(line.quantity, bool) or not isinstance(line.quantity, int) \
                    or not 1 <= line.quantity <= MAX_UNITS:
                raise PartnerRefused(f"A line has 1 to {MAX_UNITS:,} units.")
            units[line.sku] = units.get(line.sku, 0) + line.quantity
        partner_order_id = self._claim(reference)
        record = self.read(partner_order_id) or self._create(partner_order_id, reference, units, order)
        self._count_call(record)
        log.info("dropship order %s accepted for %s", partner_order_id, reference)
        return partner_order_id

    def status(self, partner_order_id: str) -> PartnerStatus:
        record = self._advance(self._count_call(self._existing(partner_order_id)))
        shipped = record.status in (PartnerStage.SHIPPED, PartnerStage.DELIVERED)
        return PartnerStatus(record.partner_order_id, record.status,
                             record.tracking_number if shipped else "", record.carrier if shipped else "")

    def release(self, partner_order_id: str) -> None:
        record = self._count_call(self._existing(partner_order_id))
        for _ in _attempts():
            record = self._advance(record)
            if record.status == PartnerStage.CANCELLED:
                raise PartnerRefused(f"Order {partner_order_id} was cancelled: it cannot be released.")
            if record.released_at is not None:
                return  # released before: a retry changes nothing
            if record.status != PartnerStage.READY:
                raise PartnerRefused(f"Order {partner_order_id} is not packed yet: it can be released once ready.")
            tracking = TRACKING_PREFIX + f"{secrets.randbelow(10 ** TRACKING_DIGITS):0{TRACKING_DIGITS}d}"
            result = _lwt(f"UPDATE {table('dropship_orders')} SET released_at = %s, tracking_number = %s,"
                          " carrier = %s WHERE partner_order_id = %s IF status = %s AND released_at = null",
                          [_now(), tracking, CARRIER, partner_order_id, PartnerStage.READY])
            if result is not None and result.was_applied:
                return
            record = self._existing(partner_order_id)
        raise AssertionError("unreachable")

    def cancel(self, partner_order_id: str) -> None:
        record = self._count_call(self._existing(partner_order_id))
        for _ in _attempts():
            record = self._advance(record)
            if record.status == PartnerStage.CANCELLED:
                return
            if record.status in (PartnerStage.SHIPPED, PartnerStage.DELIVERED):
                raise PartnerRefused(f"Order {partner_order_id} has shipped: it can no longer be cancelled.")
            result = _lwt(f"UPDATE {table('dropship_orders')} SET status = %s, cancelled_at = %s"
                          " WHERE partner_order_id = %s IF status = %s",
                          [PartnerStage.CANCELLED, _now(), partner_order_id, record.status])
            if result is not None and result.was_applied:
                return
            record = self._existing(partner_order_id)
        raise AssertionError("unreachable")

    # -- the writes ------------------------------------------------------------------------------
    def _claim(self, reference: str) -> str:
        """The partner order id of `reference`: claimed now, or the one claimed before."""
        for _ in _attempts():
            candidate = "DS-" + secrets.token_hex(8).upper()
            result = _lwt(f"INSERT INTO {table('dropship_orders_by_reference')} (reference, partner_order_id,"
                          " created_at) VALUES (%s, %s, %s) IF NOT EXISTS", [reference, candidate, _now()])
            if result is not None:
                if result.was_applied:
                    return candidate
                return result.one()["partner_order_id"]
            statement = SimpleStatement(
                f"SELECT partner_order_id FROM {table('dropship_orders_by_reference')} WHERE reference = %s",
                consistency_level=ConsistencyLevel.SERIAL)
            row = session().execute(statement, [reference]).one()
            if row is not None:
                return row["partner_order_id"]
        raise AssertionError("unreachable")

    def _create(self, partner_order_id: str, reference: str, units: dict[str, int],
                order: PartnerOrder) -> DropshipRecord:
        address = order.shipping_address
        ship_to = f"{address.full_name}, {address.city} {address.state} {address.postal_code}"[:200]
        _lwt(f"INSERT INTO {table('dropship_orders')} (partner_order_id, reference, status, units, ship_to,"
             " tracking_number, carrier, created_at, calls, failures) VALUES (%s, %s, %s, %s, %s, '', '', %s, 0, 0)"
             " IF NOT EXISTS", [partner_order_id, reference, PartnerStage.ACCEPTED, units, ship_to, _now()])
        record = self.read(partner_order_id)
        if record is None:
            raise PartnerUnavailable("The dropship partner did not record the order; try again.")
        return record

    def _count_call(self, record: DropshipRecord) -> DropshipRecord:
        """Count this call in the row; raise PartnerUnavailable when it is one that fails."""
        rate = float(settings.DROPSHIP_FAILURE_RATE)
        for _ in _attempts():
            call = record.calls + 1
            failed = fails(record.reference, call, rate)
            result = _lwt(f"UPDATE {table('dropship_orders')} SET calls = %s, failures = %s"
                          " WHERE partner_order_id = %s IF calls = %s",
                          [call, record.failures + failed, record.partner_order_id, record.calls])
            if result is not None and result.was_applied:
                if failed:
                    raise PartnerUnavailable(f"The dropship partner did not answer (call {call} about "
                                             f"{record.partner_order_id}).")
                return replace(record, calls=call)
            record = self._existing(record.partner_order_id)
        raise AssertionError("unreachable")

    def _advance(self, record: DropshipRecord) -> DropshipRecord:
        """Record the stage the order has reached by now (real time), once, by compare-and-set."""
        for _ in _attempts():
            stage, shipped_at, delivered_at = _reached(record, _now())
            if stage == record.status:
                return record
            result = _lwt(f"UPDATE {table('dropship_orders')} SET status = %s, shipped_at = %s, delivered_at = %s"
                          " WHERE partner_order_id = %s IF status = %s",
                          [stage, shipped_at, delivered_at, record.partner_order_id, record.status])
            if result is not None and result.was_applied:
                return replace(record, status=stage, shipped_at=shipped_at, delivered_at=delivered_at)
            record = self._existing(record.partner_order_id)
        raise AssertionError("unreachable")


def _reached(record: DropshipRecord, now: datetime) -> tuple[str, datetime | None, datetime | None]:
    """(stage, shipped_at, delivered_at) of an order as of `now`."""
    stage, shipped_at, delivered_at = record.status, record.shipped_at, record.delivered_at
    if stage in (PartnerStage.CANCELLED, PartnerStage.DELIVERED):
        return stage, shipped_at, delivered_at
    if stage == PartnerStage.ACCEPTED and now >= record.created_at + _seconds("FULFILLMENT_PROCESSING_SECONDS"):
        stage = PartnerStage.READY
    if record.released_at is not None:
        ship_at = shipped_at or record.released_at + _seconds("FULFILLMENT_SHIPPING_SECONDS")
        if now >= ship_at:
            stage, shipped_at = PartnerStage.SHIPPED, ship_at
            deliver_at = ship_at + _seconds("FULFILLMENT_DELIVERY_SECONDS")
            if now >= deliver_at:
                stage, delivered_at = PartnerStage.DELIVERED, deliver_at
    return stage, shipped_at, delivered_at


_partner = SimulatedPartner()


def partner() -> SimulatedPartner:
    """The partner the activities call."""
    return _partner


def submit(order: PartnerOrder) -> str:
    return _partner.submit(order)


def status(partner_order_id: str) -> PartnerStatus:
    return _partner.status(partner_order_id)


def release(partner_order_id: str) -> None:
    _partner.release(partner_order_id)


def cancel(partner_order_id: str) -> None:
    _partner.cancel(partner_order_id)


def read(partner_order_id: str) -> DropshipRecord | None:
    return _partner.read(partner_order_id)
