"""Fulfillment and its supplier orders on the time-skipping server, with fake activities (the real
BEGIN_SHIPMENT activity, which asks a fake order workflow) and a fake order workflow that records the
stage reports and answers `begin_shipment` (accepting, or refusing as a cancelled order does): the
simulated, dropship and manual strategies, cancel before and after the shipment began, a refused
shipment, two supplier orders. Histories of each branch are recorded for replay."""

from __future__ import annotations

import asyncio
import re
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowHandle, WorkflowHistory, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from checkout.contracts import Address, CheckoutLine
from commerce.temporal import binary_path
from fulfillment.activities import begin_shipment
from fulfillment.contracts import (
    BeginShipment,
    CommitStock,
    FulfillmentActivities,
    FulfillmentCancel,
    FulfillmentErrors,
    FulfillmentRequest,
    FulfillmentTimings,
    ManualStepRequest,
    PartnerOrder,
    PartnerStage,
    PartnerStatus,
    SupplierOrderView,
    fulfillment_workflow_id,
    supplier_order_workflow_id,
)
from fulfillment.workflows import FulfillmentWorkflow, SupplierOrderWorkflow
from orders.contracts import (
    ActionResult,
    FulfillmentStrategy,
    OrderErrors,
    OrderSignals,
    OrderUpdates,
    OrderWorkflows,
    ShipmentRequest,
    SupplierOrderEvent,
    SupplierOrderPlan,
    SupplierOrderStage,
    order_workflow_id,
    supplier_order_id,
)
from orders.numbers import new_order_number
from tests.histories import HISTORY_DIR, record

ADDRESS = Address("ada@example.com", "Ada Lovelace", "1 Loop Rd", "", "Portland", "OR", "97201")
LINES = (CheckoutLine("SKU-A", "shirt", "Shirt", "Blue", "M", 2500, 2, "/a.svg", "cart-c1-SKU-A"),
         CheckoutLine("SKU-B", "hat", "Hat", "Red", "One Size", 1999, 1, "/b.svg", "cart-c1-SKU-B"))
MINUTES = FulfillmentTimings(processing_seconds=60, shipping_seconds=60, delivery_seconds=120,
                             partner_poll_seconds=5)
AT_ONCE = FulfillmentTimings(processing_seconds=0, shipping_seconds=0, delivery_seconds=0, partner_poll_seconds=1)
STAFF = "staff:ada"
FORWARD = [SupplierOrderStage.ACCEPTED, SupplierOrderStage.PACKED, SupplierOrderStage.SHIPPED,
           SupplierOrderStage.DELIVERED]


@workflow.defn(name=OrderWorkflows.ORDER, sandboxed=False)
class FakeOrder:
    """Stands in for the order: records every stage report, answers begin_shipment (refused once
    `cancel_order` was signalled, or from the start)."""

    @workflow.init
    def __init__(self, cancelled: bool) -> None:
        self.cancelled = cancelled
        self.events: list[SupplierOrderEvent] = []
        self.begun: list[str] = []

    @workflow.run
    async def run(self, cancelled: bool) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal(name=OrderSignals.SUPPLIER_ORDER_PROGRESS)
    def progress(self, event: SupplierOrderEvent) -> None:
        self.events.append(event)

    @workflow.signal
    def cancel_order(self) -> None:
        self.cancelled = True

    @workflow.update(name=OrderUpdates.BEGIN_SHIPMENT)
    def begin_shipment(self, request: ShipmentRequest) -> ActionResult:
        if self.cancelled:
            raise ApplicationError("The order was cancelled.", type=OrderErrors.ORDER_CANCELLED, non_retryable=True)
        if request.supplier_order_id not in self.begun:
            self.begun.append(request.supplier_order_id)
        return ActionResult(OrderUpdates.BEGIN_SHIPMENT, True, "processing")

    @workflow.query
    def reports(self) -> list[SupplierOrderEvent]:
        return self.events

    @workflow.query
    def shipments_begun(self) -> list[str]:
        return self.begun


@dataclass
class Fakes:
    """The activities' fakes: a log of what they were asked, and a partner that moves a stage every
    few status calls and fails every `fail_every`-th call of any kind transiently."""

    timings: FulfillmentTimings = AT_ONCE
    log: list[str] = field(default_factory=list)
    commits: list[CommitStock] = field(default_factory=list)
    submitted: list[PartnerOrder] = field(default_factory=list)
    partner_stage: str = PartnerStage.ACCEPTED
    polls_per_stage: int = 2
    never_ready: bool = False
    fail_every: int = 0
    partner_calls: int = 0
    partner_failures: int = 0
    polls: int = 0
    loaded: asyncio.Event | None = None  # when set, LOAD_TIMINGS answers only once it is

    def _partner_call(self, name: str) -> None:
        self.partner_calls += 1
        if self.fail_every and self.partner_calls % self.fail_every == 0:
            self.partner_failures += 1
            raise ApplicationError("partner busy", type=FulfillmentErrors.PARTNER_UNAVAILABLE)
        self.log.append(name)

    def activities(self):
        @activity.defn(name=FulfillmentActivities.LOAD_TIMINGS)
        async def load_timings() -> FulfillmentTimings:
            if self.loaded is not None:
                await self.loaded.wait()
            return self.timings

        @activity.defn(name=FulfillmentActivities.BEGIN_SHIPMENT)
        async def begin(request: BeginShipment) -> None:
            self.log.append("begin")
            await begin_shipment(request)  # the real one: it asks the (fake) order workflow

        @activity.defn(name=FulfillmentActivities.COMMIT_STOCK)
        async def commit(request: CommitStock) -> None:
            self.log.append("commit")
            self.commits.append(request)

        @activity.defn(name=FulfillmentActivities.PARTNER_SUBMIT)
        async def submit(order: PartnerOrder) -> str:
            self._partner_call("submit")
            self.submitted.append(order)
            return "DS-" + order.reference.upper().replace("-", "")[-16:]

        @activity.defn(name=FulfillmentActivities.PARTNER_STATUS)
        async def status(partner_order_id: str) -> PartnerStatus:
            self._partner_call("status")
            self.polls += 1
            following = {PartnerStage.ACCEPTED: PartnerStage.READY, PartnerStage.SHIPPED: PartnerStage.DELIVERED,
                         "released": PartnerStage.SHIPPED}
            if self.polls >= self.polls_per_stage and self.partner_stage in following and not self.never_ready:
                self.partner_stage, self.polls = following[self.partner_stage], 0
            stage = PartnerStage.READY if self.partner_stage == "released" else self.partner_stage
            shipped = stage in (PartnerStage.SHIPPED, PartnerStage.DELIVERED)
            return PartnerStatus(partner_order_id, stage, "NW000123456789" if shipped else "",
                                 "Northwind Parcel" if shipped else "")

        @activity.defn(name=FulfillmentActivities.PARTNER_RELEASE)
        async def release(partner_order_id: str) -> None:
            self._partner_call("release")
            self.partner_stage, self.polls = "released", 0

        @activity.defn(name=FulfillmentActivities.PARTNER_CANCEL)
        async def cancel(partner_order_id: str) -> None:
            self._partner_call("cancel")
            self.partner_stage = PartnerStage.CANCELLED

        return [load_timings, begin, commit, submit, status, release, cancel]


@pytest.fixture(scope="module")
async def env():
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(binary_path("temporal-test-server")))
    yield environment
    await environment.shutdown()


def _plan(number: str, index: int, strategy: str, line_indexes=(0, 1)) -> SupplierOrderPlan:
    return SupplierOrderPlan(supplier_order_id(number, index), index, f"supplier-{strategy}", strategy.title(),
                             strategy, tuple(line_indexes), 1000 * index)


@dataclass
class Run:
    env: WorkflowEnvironment
    number: str
    order: WorkflowHandle
    parent: WorkflowHandle

    def child(self, index: int = 1) -> WorkflowHandle:
        return self.env.client.get_workflow_handle(supplier_order_workflow_id(self.number, index))

    async def reports(self, index: int | None = None) -> list[SupplierOrderEvent]:
        events = await self.order.query(FakeOrder.reports)
        return [e for e in events if index is None or e.supplier_order_id == supplier_order_id(self.number, index)]

    async def stages(self, index: int = 1) -> list[str]:
        return [event.stage for event in await self.reports(index)]

    async def until_reported(self, stage: str, index: int = 1) -> None:
        for _ in range(300):
            if stage in await self.stages(index):
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"{stage} never reported: {await self.stages(index)}")

    async def step(self, update: str, request: ManualStepRequest, index: int = 1,
                   update_id: str | None = None) -> SupplierOrderView:
        return await self.child(index).execute_update(update, request, id=update_id, result_type=SupplierOrderView)

    async def refused(self, update: str, request: ManualStepRequest, index: int = 1) -> ApplicationError:
        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await self.step(update, request, index)
        assert isinstance(failure.value.cause, ApplicationError)
        return failure.value.cause


@asynccontextmanager
async def running(env, fakes: Fakes, *strategies: str, order_cancelled: bool = False):
    number = new_order_number(uuid.uuid4().int >> 78)
    queue, oms = f"fulfillment-{number}", f"oms-{number}"
    plans = tuple(_plan(number, index, strategy, (index - 1,) if len(strategies) > 1 else (0, 1))
                  for index, strategy in enumerate(strategies, start=1))
    async with Worker(env.client, task_queue=queue, workflows=[FulfillmentWorkflow, SupplierOrderWorkflow],
                      activities=fakes.activities()), \
            Worker(env.client, task_queue=oms, workflows=[FakeOrder]):
        order = await env.client.start_workflow(FakeOrder.run, order_cancelled, id=order_workflow_id(number),
                                                task_queue=oms)
        parent = await env.client.start_workflow(
            FulfillmentWorkflow.run, FulfillmentRequest(number, ADDRESS, LINES, plans),
            id=fulfillment_workflow_id(number), task_queue=queue)
        run = Run(env, number, order, parent)
        try:
            yield run
        finally:
            for handle in [parent, *(run.child(plan.index) for plan in plans), order]:
                try:
                    await handle.terminate("test done")
                except Exception:  # noqa: BLE001 - ended already
                    pass


async def _replays(*histories: WorkflowHistory) -> None:
    replayer = Replayer(workflows=[FulfillmentWorkflow, SupplierOrderWorkflow])
    for history in histories:
        replay = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        assert replay.replay_failure is None, f"{history.workflow_id}: {replay.replay_failure}"


async def test_a_simulated_supplier_order_travels_to_delivered_on_its_timers(env):
    fakes = Fakes(timings=MINUTES)
    async with running(env, fakes, FulfillmentStrategy.SIMULATED) as run:
        started = await env.get_current_time()
        views = await run.parent.result()
        took = await env.get_current_time() - started
        reports = await run.reports(1)
        begun = await run.order.query(FakeOrder.shipments_begun)
        histories = (await record(run.parent, "fulfillment_simulated"),
                     await record(run.child(1), "supplier_order_simulated"))

    assert [event.stage for event in reports] == FORWARD
    shipped, delivered = reports[2], reports[3]
    assert re.fullmatch(r"HRN\d{12}", shipped.tracking_number) and shipped.carrier == "Heron Post"
    assert delivered.tracking_number == shipped.tracking_number
    assert all(event.order_number == run.number and event.at for event in reports)
    assert took >= timedelta(seconds=240)  # workflow time: processing + shipping + delivery
    assert fakes.log == ["begin", "commit"] and fakes.commits == [CommitStock(supplier_order_id(run.number, 1), LINES)]
    assert begun == [supplier_order_id(run.number, 1)]
    assert [(v.stage, v.tracking_number, v.strategy) for v in views] == [
        (SupplierOrderStage.DELIVERED, shipped.tracking_number, FulfillmentStrategy.SIMULATED)]
    await _replays(*histories)


async def test_a_dropship_order_is_submitted_polled_released_and_delivered_through_transient_failures(env):
    fakes = Fakes(timings=MINUTES, fail_every=2)
    async with running(env, fakes, FulfillmentStrategy.DROPSHIP) as run:
        [view] = await run.parent.result()
        reports = await run.reports(1)
        history = await record(run.child(1), "supplier_order_dropship")

    so_id = supplier_order_id(run.number, 1)
    assert [event.stage for event in reports] == FORWARD
    assert fakes.partner_failures >= 3  # every second call failed, and was retried
    assert [order.reference for order in fakes.submitted] == [so_id]
    calls = [name for name in fakes.log if name != "status"]
    assert calls == ["submit", "begin", "release", "commit"]
    assert fakes.log.index("release") > fakes.log.index("begin") and fakes.log.count("status") >= 6
    assert reports[2].tracking_number == "NW000123456789" and reports[2].carrier == "Northwind Parcel"
    assert view.partner_order_id.startswith("DS-") and view.stage == SupplierOrderStage.DELIVERED
    await _replays(history)


async def test_a_manual_order_moves_only_by_staff_steps_and_wrong_steps_are_refused_with_a_reason(env):
    fakes = Fakes(timings=MINUTES)
    async with running(env, fakes, FulfillmentStrategy.MANUAL) as run:
        await run.until_reported(SupplierOrderStage.ACCEPTED)
        early = await run.refused("mark_delivered", ManualStepRequest(STAFF))
        early_ship = await run.refused("mark_shipped", ManualStepRequest(STAFF, "TRACK-1234"))
        packed = await run.step("mark_packed", ManualStepRequest(STAFF), update_id="pack-1")
        again = await run.step("mark_packed", ManualStepRequest(STAFF), update_id="pack-1")
        bad_tracking = [await run.refused("mark_shipped", ManualStepRequest(STAFF, tracking))
                        for tracking in ("ab", "TRACK 1234", "x" * 65, "")]
        nobody = await run.refused("mark_shipped", ManualStepRequest("  ", "TRACK-1234"))
        shipped = await run.step("mark_shipped", ManualStepRequest(STAFF, " TRACK-1234 ", "Heron Post"))
        twice = await run.refused("mark_shipped", ManualStepRequest(STAFF, "TRACK-5678"))
        delivered = await run.step("mark_delivered", ManualStepRequest(STAFF))
        [final] = await run.parent.result()
        reports = await run.reports(1)
        history = await record(run.child(1), "supplier_order_manual")
        await record(run.parent, "fulfillment_manual")

    assert early.type == FulfillmentErrors.WRONG_STAGE and "processing stage" in early.message
    assert "marked delivered only when it is shipped" in early.message
    assert early_ship.type == FulfillmentErrors.WRONG_STAGE
    assert packed.stage == SupplierOrderStage.PACKED and again == packed
    assert {error.type for error in bad_tracking} == {FulfillmentErrors.INVALID_TRACKING}
    assert nobody.type == OrderErrors.INVALID_REQUEST
    assert (shipped.stage, shipped.tracking_number, shipped.carrier) == ("shipped", "TRACK-1234", "Heron Post")
    assert twice.type == FulfillmentErrors.WRONG_STAGE and "shipped stage" in twice.message
    assert delivered == final and final.stage == SupplierOrderStage.DELIVERED
    assert [(event.stage, event.actor) for event in reports] == [
        ("accepted", "fulfillment"), ("packed", STAFF), ("shipped", STAFF), ("delivered", STAFF)]
    assert fakes.log == ["begin", "commit"]  # inside mark_shipped, once
    await _replays(history)


async def test_manual_steps_are_refused_on_a_supplier_order_its_supplier_fulfills(env):
    fakes = Fakes(timings=MINUTES)
    async with running(env, fakes, FulfillmentStrategy.SIMULATED) as run:
        await run.until_reported(SupplierOrderStage.ACCEPTED)
        refused = await run.refused("mark_packed", ManualStepRequest(STAFF))
        view = await run.child(1).query(SupplierOrderWorkflow.get_supplier_order)

    assert refused.type == FulfillmentErrors.NOT_MANUAL and "simulated" in refused.message
    assert view.stage == SupplierOrderStage.ACCEPTED


async def test_cancel_before_shipment_cancels_the_dropship_order_at_the_partner(env):
    fakes = Fakes(timings=MINUTES, never_ready=True)
    async with running(env, fakes, FulfillmentStrategy.DROPSHIP) as run:
        await run.until_reported(SupplierOrderStage.ACCEPTED)
        await run.parent.signal("cancel", FulfillmentCancel(STAFF, "Customer asked"))
        [view] = await run.parent.result()
        reports = await run.reports(1)
        histories = (await record(run.parent, "fulfillment_cancelled"),
                     await record(run.child(1), "supplier_order_dropship_cancelled"))

    assert [event.stage for event in reports] == [SupplierOrderStage.ACCEPTED, SupplierOrderStage.CANCELLED]
    assert reports[-1].actor == STAFF and "Customer asked" in reports[-1].message
    assert fakes.log[0] == "submit" and fakes.log[-1] == "cancel"
    assert "begin" not in fakes.log and "release" not in fakes.log and fakes.commits == []
    assert view.stage == SupplierOrderStage.CANCELLED and view.partner_order_id
    await _replays(*histories)


async def test_a_cancel_that_arrives_before_the_supplier_orders_started_reaches_each_of_them(env):
    fakes = Fakes(timings=MINUTES, loaded=asyncio.Event())
    async with running(env, fakes, FulfillmentStrategy.SIMULATED, FulfillmentStrategy.DROPSHIP) as run:
        await run.parent.signal("cancel", FulfillmentCancel(STAFF, "Changed my mind"))
        fakes.loaded.set()
        views = await run.parent.result()
        first, second = await run.stages(1), await run.stages(2)

    assert [view.stage for view in views] == [SupplierOrderStage.CANCELLED, SupplierOrderStage.CANCELLED]
    assert first == [SupplierOrderStage.ACCEPTED, SupplierOrderStage.CANCELLED]
    # The dropship child may have sent its order to the partner before the cancel reached it: then the
    # partner's order is cancelled too.
    assert second[-1] == SupplierOrderStage.CANCELLED and len(second) <= 2
    assert ("cancel" in fakes.log) == bool(fakes.submitted)
    assert "begin" not in fakes.log and fakes.commits == []


async def test_a_refused_begin_shipment_cancels_the_supplier_order_without_committing_stock(env):
    fakes = Fakes(timings=AT_ONCE)
    async with running(env, fakes, FulfillmentStrategy.SIMULATED, order_cancelled=True) as run:
        [view] = await run.parent.result()
        reports = await run.reports(1)
        history = await record(run.child(1), "supplier_order_shipment_refused")

    assert [event.stage for event in reports] == [SupplierOrderStage.ACCEPTED, SupplierOrderStage.PACKED,
                                                 SupplierOrderStage.CANCELLED]
    assert "cancelled" in reports[-1].message and view.stage == SupplierOrderStage.CANCELLED
    assert fakes.log == ["begin"] and fakes.commits == []
    await _replays(history)


async def test_mark_shipped_of_a_cancelled_order_is_refused_to_staff_and_cancels_the_supplier_order(env):
    fakes = Fakes(timings=AT_ONCE)
    async with running(env, fakes, FulfillmentStrategy.MANUAL) as run:
        await run.until_reported(SupplierOrderStage.ACCEPTED)
        await run.step("mark_packed", ManualStepRequest(STAFF))
        await run.order.signal(FakeOrder.cancel_order)
        refused = await run.refused("mark_shipped", ManualStepRequest(STAFF, "TRACK-1234"))
        [view] = await run.parent.result()
        reports = await run.reports(1)
        history = await record(run.child(1), "supplier_order_manual_refused")

    assert refused.type == FulfillmentErrors.ORDER_CANCELLED and "cancelled" in refused.message
    assert reports[-1].stage == SupplierOrderStage.CANCELLED and view.stage == SupplierOrderStage.CANCELLED
    assert fakes.commits == [] and view.tracking_number == ""
    await _replays(history)


async def test_a_cancel_after_the_shipment_began_is_ignored_and_the_goods_are_delivered(env):
    fakes = Fakes(timings=FulfillmentTimings(processing_seconds=0, shipping_seconds=0, delivery_seconds=3600))
    async with running(env, fakes, FulfillmentStrategy.SIMULATED) as run:
        await run.until_reported(SupplierOrderStage.SHIPPED)
        await run.parent.signal("cancel", FulfillmentCancel(STAFF, "Too late"))
        [view] = await run.parent.result()
        stages = await run.stages(1)
        history = await record(run.child(1), "supplier_order_cancel_ignored")

    assert stages == FORWARD and view.stage == SupplierOrderStage.DELIVERED
    assert len(fakes.commits) == 1 and view.message == ""
    signalled = [event for event in history.events if event.HasField("workflow_execution_signaled_event_attributes")]
    assert [event.workflow_execution_signaled_event_attributes.signal_name for event in signalled] == ["cancel"]
    await _replays(history)


async def test_fulfillment_with_two_supplier_orders_ends_when_both_have(env):
    fakes = Fakes(timings=MINUTES)
    async with running(env, fakes, FulfillmentStrategy.SIMULATED, FulfillmentStrategy.MANUAL) as run:
        await run.until_reported(SupplierOrderStage.ACCEPTED, index=2)
        await run.until_reported(SupplierOrderStage.ACCEPTED, index=1)
        for update, request in (("mark_packed", ManualStepRequest(STAFF)),
                                ("mark_shipped", ManualStepRequest(STAFF, "TRACK-2222", "Heron Post")),
                                ("mark_delivered", ManualStepRequest(STAFF))):
            await run.step(update, request, index=2)
        views = await run.parent.result()
        first, second = await run.stages(1), await run.stages(2)
        history = await record(run.parent, "fulfillment_two_suppliers")

    assert first == FORWARD and second == FORWARD
    assert [(v.supplier_order_id, v.strategy, v.stage) for v in views] == [
        (supplier_order_id(run.number, 1), FulfillmentStrategy.SIMULATED, SupplierOrderStage.DELIVERED),
        (supplier_order_id(run.number, 2), FulfillmentStrategy.MANUAL, SupplierOrderStage.DELIVERED)]
    assert [commit.lines for commit in fakes.commits] in ([LINES[:1], LINES[1:]], [LINES[1:], LINES[:1]])
    await _replays(history)


async def test_the_recorded_fulfillment_histories_replay():
    paths = sorted([*HISTORY_DIR.glob("fulfillment_*.json"), *HISTORY_DIR.glob("supplier_order_*.json")])
    if not paths:
        pytest.skip("record them with RECORD_HISTORIES=1")
    await _replays(*(WorkflowHistory.from_json(path.stem, path.read_text()) for path in paths))
