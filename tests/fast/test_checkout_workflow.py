"""The checkout workflow under the time-skipping server with fake activities: every step, guard and
branch (complete, declined, transient, failure after authorization, timeout, cancel, price change).
Histories of each branch are recorded for replay."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from checkout.contracts import (
    TASK_QUEUE,
    Address,
    AuthorizeRequest,
    CardToken,
    CheckoutActivities,
    CheckoutErrors,
    CheckoutInput,
    CheckoutLine,
    CheckoutOutcome,
    CheckoutStep,
    CheckoutView,
    HoldLinesRequest,
    PaymentErrors,
    PaymentResult,
    PriceCheck,
    ShippingChoice,
    SubmitRequest,
    checkout_workflow_id,
)
from checkout.workflows import CheckoutWorkflow
from identity.contracts import ShippingMethod, StoreConfig
from orders.contracts import OrderInput
from tests.histories import record

CONFIG = StoreConfig(tax_basis_points={"CA": 725, "OR": 0}, default_tax_basis_points=800,
                     shipping_methods=(ShippingMethod("standard", "Standard", 595, "3-5 days"),
                                       ShippingMethod("express", "Express", 1495, "1-2 days")),
                     checkout_step_timeout_seconds=3600, max_declined_attempts=3)
LINES = (CheckoutLine("SKU-A", "shirt", "Shirt", "Blue", "M", 2500, 2, "/i.svg", "cart-c1-SKU-A"),
         CheckoutLine("SKU-B", "hat", "Hat", "Red", "One Size", 1999, 1, "/i.svg", "cart-c1-SKU-B"))
CARD = CardToken("tok_good", "Visa", "4242", 12, 2030)


def _address(state: str = "CA") -> Address:
    return Address("ada@example.com", "Ada Lovelace", "1 Loop Rd", "", "San Francisco", state, "94110")


@dataclass
class Fakes:
    """What the activities were asked to do, and how they should fail."""

    held: list[HoldLinesRequest] = field(default_factory=list)
    released: list[HoldLinesRequest] = field(default_factory=list)
    confirmed: list[HoldLinesRequest] = field(default_factory=list)
    authorized: list[AuthorizeRequest] = field(default_factory=list)
    voided: list[str] = field(default_factory=list)
    orders: list[OrderInput] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    prices: dict[str, int] = field(default_factory=dict)
    decline: str = ""  # a PaymentErrors type to refuse with
    transient_failures: int = 0
    fail_write: bool = False

    def activities(self):
        @activity.defn(name=CheckoutActivities.HOLD_LINES)
        async def hold_lines(request: HoldLinesRequest) -> None:
            self.held.append(request)

        @activity.defn(name=CheckoutActivities.RELEASE_LINES)
        async def release_lines(request: HoldLinesRequest) -> int:
            self.released.append(request)
            return len(request.lines)

        @activity.defn(name=CheckoutActivities.CONFIRM_HOLDS)
        async def confirm_holds(request: HoldLinesRequest) -> None:
            self.confirmed.append(request)

        @activity.defn(name=CheckoutActivities.PRICE_LINES)
        async def price_lines(skus: list[str]) -> PriceCheck:
            return PriceCheck(unit_prices={sku: self.prices[sku] for sku in skus if sku in self.prices})

        @activity.defn(name=CheckoutActivities.AUTHORIZE_PAYMENT)
        async def authorize(request: AuthorizeRequest) -> PaymentResult:
            if self.decline:
                raise ApplicationError("Your card was declined.", type=self.decline, non_retryable=True)
            if self.transient_failures:
                self.transient_failures -= 1
                raise RuntimeError("processor busy")
            self.authorized.append(request)
            return PaymentResult(request.idempotency_key, "authorize", "authorized", request.amount_cents)

        @activity.defn(name=CheckoutActivities.VOID_PAYMENT)
        async def void(key: str) -> PaymentResult:
            self.voided.append(key)
            return PaymentResult(f"void:{key}", "void", "voided", 0, key)

        @activity.defn(name=CheckoutActivities.WRITE_ORDER)
        async def write_order(order: OrderInput) -> None:
            if self.fail_write:
                raise ApplicationError("order store refused", type="OrderNumberTaken", non_retryable=True)
            self.orders.append(order)

        @activity.defn(name=CheckoutActivities.START_ORDER)
        async def start_order(order: OrderInput) -> None:
            self.started.append(order.order_number)

        @activity.defn(name=CheckoutActivities.SEND_CONFIRMATION)
        async def send(number: str) -> None:
            self.emails.append(number)

        return [hold_lines, release_lines, confirm_holds, price_lines, authorize, void, write_order, start_order,
                send]


@workflow.defn(name="Cart", sandboxed=False)
class FakeCart:
    """Stands in for the cart: receives the checkout's outcome."""

    def __init__(self) -> None:
        self.outcome: CheckoutOutcome | None = None

    @workflow.run
    async def run(self) -> CheckoutOutcome:
        await workflow.wait_condition(lambda: self.outcome is not None)
        return self.outcome

    @workflow.signal(name="checkout_finished")
    def checkout_finished(self, outcome: CheckoutOutcome) -> None:
        self.outcome = outcome


@dataclass
class Running:
    checkout: WorkflowHandle
    cart: WorkflowHandle

    async def update(self, name, *args) -> CheckoutView:
        return await self.checkout.execute_update(name, args=list(args), result_type=CheckoutView)

    async def view(self) -> CheckoutView:
        return await self.checkout.query(CheckoutWorkflow.get_checkout)


async def _start(env, fakes: Fakes, coupon: str = "") -> tuple[Worker, Running]:
    cart_id = uuid.uuid4().hex
    worker = Worker(env.client, task_queue=TASK_QUEUE, workflows=[CheckoutWorkflow, FakeCart],
                    activities=fakes.activities())
    cart = await env.client.start_workflow(FakeCart.run, id=f"cart-{cart_id}", task_queue=TASK_QUEUE)
    checkout_id = checkout_workflow_id(cart_id, 1)
    handle = await env.client.start_workflow(
        CheckoutWorkflow.run, CheckoutInput(cart_id, checkout_id, LINES, coupon, CONFIG), id=checkout_id,
        task_queue=TASK_QUEUE)
    return worker, Running(handle, cart)


async def _to_review(running: Running, state: str = "CA") -> CheckoutView:
    await running.update(CheckoutWorkflow.set_shipping, ShippingChoice(_address(state), "standard"))
    return await running.update(CheckoutWorkflow.set_payment, CARD)


async def test_a_checkout_goes_from_shipping_to_a_placed_order_charging_the_reviewed_total(env):
    fakes = Fakes()
    worker, running = await _start(env, fakes, coupon="WELCOME10")
    async with worker:
        assert (await running.view()).step == CheckoutStep.SHIPPING
        payment = await running.update(CheckoutWorkflow.set_shipping, ShippingChoice(_address("CA"), "standard"))
        assert payment.step == CheckoutStep.PAYMENT
        review = await running.update(CheckoutWorkflow.set_payment, CARD)
        processing = await running.update(CheckoutWorkflow.submit, SubmitRequest(review.totals.total_cents))
        outcome = await running.checkout.result()
        told = await running.cart.result()
        await record(running.checkout, "checkout_complete")

    # 2 x $25.00 + $19.99 = $69.99; 10% off = $6.99 -> $63.00; CA 7.25% = $4.57; + $5.95 shipping = $73.52.
    assert (review.step, review.totals.subtotal_cents, review.totals.discount_cents) == ("review", 6999, 699)
    assert (review.totals.tax_cents, review.totals.shipping_cents, review.totals.total_cents) == (457, 595, 7352)
    assert processing.step == CheckoutStep.PROCESSING
    assert [a.amount_cents for a in fakes.authorized] == [review.totals.total_cents]
    assert outcome.step == CheckoutStep.COMPLETE and outcome.order_number.startswith("HC-")
    assert told == outcome and fakes.started == [outcome.order_number] == fakes.emails
    assert fakes.orders[0].totals == review.totals and fakes.voided == [] and fakes.released == []


async def test_going_back_from_review_to_shipping_in_another_state_changes_the_tax(env):
    fakes = Fakes()
    worker, running = await _start(env, fakes)
    async with worker:
        in_california = await _to_review(running, "CA")
        in_oregon = await running.update(CheckoutWorkflow.set_shipping, ShippingChoice(_address("OR"), "express"))
        await running.checkout.terminate("test done")

    assert in_oregon.step == CheckoutStep.REVIEW  # the card is known: straight back to review
    assert in_california.totals.tax_cents == 507 and in_oregon.totals.tax_cents == 0
    assert in_oregon.totals.total_cents == 6999 + 1495


async def test_steps_out_of_order_and_a_tampered_total_are_refused(env):
    fakes = Fakes()
    worker, running = await _start(env, fakes)
    async with worker:
        refusals = []
        for name, arg in ((CheckoutWorkflow.set_payment, CARD), (CheckoutWorkflow.submit, SubmitRequest(1))):
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await running.update(name, arg)
            refusals.append(refused.value.cause.type)
        with pytest.raises(WorkflowUpdateFailedError) as bad_state:
            await running.update(CheckoutWorkflow.set_shipping, ShippingChoice(_address("ZZ"), "standard"))
        with pytest.raises(WorkflowUpdateFailedError) as bad_method:
            await running.update(CheckoutWorkflow.set_shipping, ShippingChoice(_address(), "teleport"))
        review = await _to_review(running)
        with pytest.raises(WorkflowUpdateFailedError) as tampered:
            await running.update(CheckoutWorkflow.submit, SubmitRequest(review.totals.total_cents - 1))
        still = await running.view()
        await running.checkout.terminate("test done")

    assert refusals == [CheckoutErrors.WRONG_STEP, CheckoutErrors.WRONG_STEP]
    assert bad_state.value.cause.type == CheckoutErrors.INVALID_ADDRESS
    assert bad_method.value.cause.type == CheckoutErrors.UNKNOWN_SHIPPING_METHOD
    assert tampered.value.cause.type == CheckoutErrors.WRONG_STEP and still.step == CheckoutStep.REVIEW
    assert fakes.authorized == []


async def test_a_declined_card_returns_to_payment_and_too_many_lock_the_checkout(env):
    fakes = Fakes(decline=PaymentErrors.DECLINED)
    worker, running = await _start(env, fakes)
    async with worker:
        views = []
        review = await _to_review(running)
        for _ in range(CONFIG.max_declined_attempts):
            await running.update(CheckoutWorkflow.submit, SubmitRequest(review.totals.total_cents))
            views.append(await _wait_for_step(running, CheckoutStep.PAYMENT))
            if len(views) < CONFIG.max_declined_attempts:
                review = await running.update(CheckoutWorkflow.set_payment, CARD)
        with pytest.raises(WorkflowUpdateFailedError) as locked:
            await running.update(CheckoutWorkflow.set_payment, CARD)
        await record(running.checkout, "checkout_declined")
        await running.checkout.terminate("test done")

    assert all(v.step == CheckoutStep.PAYMENT and "declined" in v.message for v in views)
    assert views[0].card is None and views[-1].cards_locked_until
    assert locked.value.cause.type == CheckoutErrors.CARDS_LOCKED and fakes.voided == []


async def test_a_transient_processor_failure_is_retried_and_the_order_placed(env):
    fakes = Fakes(transient_failures=2)
    worker, running = await _start(env, fakes)
    async with worker:
        review = await _to_review(running)
        await running.update(CheckoutWorkflow.submit, SubmitRequest(review.totals.total_cents))
        outcome = await running.checkout.result()

    assert outcome.step == CheckoutStep.COMPLETE and len(fakes.authorized) == 1


async def test_a_failure_after_authorization_voids_it_and_releases_the_holds(env):
    fakes = Fakes(fail_write=True)
    worker, running = await _start(env, fakes)
    async with worker:
        review = await _to_review(running)
        await running.update(CheckoutWorkflow.submit, SubmitRequest(review.totals.total_cents))
        outcome = await running.checkout.result()
        await record(running.checkout, "checkout_failed_after_authorization")

    assert outcome.step == CheckoutStep.FAILED and "not charged" in outcome.message
    assert fakes.voided == [fakes.authorized[0].idempotency_key]
    assert [r.lines for r in fakes.released] == [LINES] and fakes.started == []


async def test_a_price_change_at_submit_goes_back_to_review_without_charging(env):
    fakes = Fakes(prices={"SKU-A": 2700})
    worker, running = await _start(env, fakes)
    async with worker:
        review = await _to_review(running)
        await running.update(CheckoutWorkflow.submit, SubmitRequest(review.totals.total_cents))
        back = await _wait_for_step(running, CheckoutStep.REVIEW)
        await running.checkout.terminate("test done")

    assert "Prices changed" in back.message and back.totals.subtotal_cents == 6999 + 400
    assert fakes.authorized == []


async def test_a_step_left_idle_for_an_hour_ends_the_checkout_and_releases_the_holds(env):
    fakes = Fakes()
    worker, running = await _start(env, fakes)
    async with worker:
        await running.update(CheckoutWorkflow.set_shipping, ShippingChoice(_address(), "standard"))
        await env.sleep(timedelta(minutes=40))
        await running.update(CheckoutWorkflow.set_shipping, ShippingChoice(_address("OR"), "standard"))
        await env.sleep(timedelta(minutes=40))
        # 80 minutes since the start, 40 since the last step: a step, not the whole checkout, has an hour.
        still = await running.view()
        await env.sleep(timedelta(minutes=21))
        outcome = await running.checkout.result()
        told = await running.cart.result()
        await record(running.checkout, "checkout_timeout")

    assert still.step == CheckoutStep.PAYMENT
    assert outcome.step == CheckoutStep.CANCELLED and "hour" in outcome.message
    assert [r.lines for r in fakes.released] == [LINES] and told.step == CheckoutStep.CANCELLED
    assert fakes.held  # a step extends the holds


async def test_cancel_gives_the_lines_back_to_the_cart_with_the_carts_hold_lifetime(env):
    fakes = Fakes()
    worker, running = await _start(env, fakes)
    async with worker:
        await running.update(CheckoutWorkflow.cancel)
        outcome = await running.checkout.result()
        await record(running.checkout, "checkout_cancelled")

    assert outcome.step == CheckoutStep.CANCELLED and fakes.released == []
    assert [r.lines for r in fakes.held] == [LINES]


async def _wait_for_step(running: Running, step: str) -> CheckoutView:
    for _ in range(100):
        view = await running.view()
        if view.step == step:
            return view
        await running.checkout.describe()  # lets the time-skipping server move on
    raise AssertionError(f"the checkout never reached {step}: {view}")


async def test_a_processor_that_never_answers_sends_the_shopper_back_to_payment_and_voids_the_attempt(env):
    fakes = Fakes(transient_failures=100)
    worker, running = await _start(env, fakes)
    async with worker:
        review = await _to_review(running)
        await running.update(CheckoutWorkflow.submit, SubmitRequest(review.totals.total_cents))
        await env.sleep(timedelta(minutes=5))  # every retry of the authorization, on workflow time
        back = await _wait_for_step(running, CheckoutStep.PAYMENT)
        await record(running.checkout, "checkout_processor_down")
        await running.checkout.terminate("test done")

    assert "not answering" in back.message and back.declined_attempts == 0
    assert fakes.voided == [f"{running.checkout.id}/payment-1"] and fakes.authorized == []
