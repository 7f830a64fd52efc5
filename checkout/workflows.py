"""The checkout saga: shipping -> payment -> review -> processing -> complete (or cancelled / failed).

A child of the cart (`checkout-{cart_id}-{n}`), started by the cart's `begin_checkout` after it
held every line again. Steps advance by updates with guards: shipping may be set from shipping,
payment or review, payment from payment or review, submit only from review. Each step extends the
holds; a step left idle for `checkout_step_timeout_seconds` ends the checkout and releases them;
cancel gives the lines back to the cart with the cart's hold lifetime.

Totals are computed once here from server prices and the StoreConfig input, shown on review and
authorized exactly. Submit answers at once with `processing`; the saga then re-reads prices (a
change sends the shopper back to review), authorizes, confirms the holds, writes the order, starts
the order workflow and sends the confirmation. Anything failing after the authorization voids it
and releases the holds. The outcome is signalled to the cart. Deterministic: no Django, no I/O.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from cart.contracts import CartSignals, cart_workflow_id
    from checkout.contracts import (
        AuthorizeRequest,
        CardToken,
        CheckoutActivities,
        CheckoutErrors,
        CheckoutInput,
        CheckoutOutcome,
        CheckoutQueries,
        CheckoutStep,
        CheckoutUpdates,
        CheckoutView,
        CheckoutWorkflows,
        HoldLinesRequest,
        PaymentErrors,
        PaymentResult,
        PriceCheck,
        ShippingChoice,
        SubmitRequest,
        Totals,
    )
    from checkout.pricing import compute_totals
    from identity.contracts import US_STATES
    from inventory.contracts import StockErrors
    from orders.contracts import OrderErrors, OrderInput
    from orders.numbers import ORDER_NUMBER_BITS, new_order_number

# Holds outlive the step timer by this much, so the checkout, not the sweeper, releases them.
HOLD_SLACK = timedelta(minutes=5)
STOCK_CALL = dict(start_to_close_timeout=timedelta(seconds=10),
                  retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=5,
                                           non_retryable_error_types=list(StockErrors.NON_RETRYABLE)))
# A processor error that is not a refusal is retried; the shopper's page polls meanwhile.
PAYMENT_CALL = dict(start_to_close_timeout=timedelta(seconds=15),
                    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                                             maximum_interval=timedelta(seconds=10), maximum_attempts=6,
                                             non_retryable_error_types=list(PaymentErrors.NON_RETRYABLE)))
ORDER_CALL = dict(start_to_close_timeout=timedelta(seconds=15),
                  retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                           maximum_interval=timedelta(seconds=10), maximum_attempts=8))
# Compensation must happen: it retries until it succeeds.
COMPENSATION_CALL = dict(start_to_close_timeout=timedelta(seconds=15),
                         retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                                  maximum_interval=timedelta(minutes=1)))
MAX_FIELD = 200


def _refusal(message: str, error_type: str) -> ApplicationError:
    return ApplicationError(message, type=error_type, non_retryable=True)


def _business_message(error: ActivityError) -> tuple[str, str] | None:
    """(type, message) of a refusal an activity raised; None for a failure a retry could not fix."""
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.non_retryable and cause.type:
        return cause.type, cause.message
    return None


@workflow.defn(name=CheckoutWorkflows.CHECKOUT)
class CheckoutWorkflow:
    @workflow.init
    def __init__(self, input: CheckoutInput) -> None:
        self.input = input
        self.config = input.config
        self.lines = list(input.lines)
        self.step = CheckoutStep.SHIPPING
        self.shipping: ShippingChoice | None = None
        self.card: CardToken | None = None
        self.totals: Totals | None = None
        self.message = ""
        self.order_number = ""
        self.declined_attempts = 0
        self.payment_attempts = 0
        self.cards_locked_until: datetime | None = None
        self.touches = 0
        self.submitted = False
        self.cancelled = False

    @workflow.run
    async def run(self, input: CheckoutInput) -> CheckoutOutcome:
        timeout = timedelta(seconds=self.config.checkout_step_timeout_seconds)
        while self.step not in CheckoutStep.FINISHED:
            touched = self.touches
            try:
                await workflow.wait_condition(
                    lambda touched=touched: self.touches != touched or self.submitted or self.cancelled,
                    timeout=timeout)
            except TimeoutError:
                await self._release_lines()
                self._finish(CheckoutStep.CANCELLED, "Your checkout ended after an hour without activity; "
                                                     "your cart is as you left it.")
                break
            if self.cancelled:
                await self._return_lines_to_cart()
                self._finish(CheckoutStep.CANCELLED, "Checkout cancelled; your cart is as you left it.")
                break
            if self.submitted:
                self.submitted = False
                await self._place_order()
                continue
            await self._hold_lines(workflow.now() + timeout + HOLD_SLACK)
        await workflow.wait_condition(workflow.all_handlers_finished)
        outcome = CheckoutOutcome(workflow.info().workflow_id, self.step, self.order_number, self.message)
        try:
            await workflow.get_external_workflow_handle(cart_workflow_id(input.cart_id)).signal(
                CartSignals.CHECKOUT_FINISHED, outcome)
        except Exception as error:  # noqa: BLE001 - the cart may have ended; the outcome stands
            workflow.logger.warning("cart %s not told of %s: %s", input.cart_id, outcome.step, error)
        return outcome

    # -- updates -----------------------------------------------------------------------------
    @workflow.update(name=CheckoutUpdates.SET_SHIPPING)
    async def set_shipping(self, choice: ShippingChoice) -> CheckoutView:
        self.shipping = choice
        self.step = CheckoutStep.REVIEW if self.card else CheckoutStep.PAYMENT
        self._changed()
        return self._view()

    @set_shipping.validator
    def _validate_shipping(self, choice: ShippingChoice) -> None:
        self._require_step(CheckoutStep.SHIPPING, CheckoutStep.PAYMENT, CheckoutStep.REVIEW)
        address = choice.address
        fields = (address.email, address.full_name, address.line1, address.line2, address.city, address.state,
                  address.postal_code, address.country)
        if any(not isinstance(value, str) or len(value) > MAX_FIELD for value in fields) or not all(
                (address.email, address.full_name, address.line1, address.city, address.postal_code)):
            raise _refusal("Please fill in the shipping address.", CheckoutErrors.INVALID_ADDRESS)
        if address.country != "US" or address.state not in US_STATES:
            raise _refusal("We ship to US states only.", CheckoutErrors.INVALID_ADDRESS)
        if self.config.shipping_method(choice.shipping_method) is None:
            raise _refusal("Choose a shipping method.", CheckoutErrors.UNKNOWN_SHIPPING_METHOD)

    @workflow.update(name=CheckoutUpdates.SET_PAYMENT)
    async def set_payment(self, card: CardToken) -> CheckoutView:
        self.card = card
        self.step = CheckoutStep.REVIEW
        self._changed()
        return self._view()

    @set_payment.validator
    def _validate_payment(self, card: CardToken) -> None:
        self._require_step(CheckoutStep.PAYMENT, CheckoutStep.REVIEW)
        if self.shipping is None:
            raise _refusal("Enter the shipping address first.", CheckoutErrors.WRONG_STEP)
        self._refuse_when_cards_locked()
        if not (card.token.startswith("tok_") and len(card.token) <= 64 and len(card.last4) == 4
                and card.last4.isdigit() and len(card.brand) <= 32):
            raise _refusal("Enter your card details again.", CheckoutErrors.INVALID_CARD)

    @workflow.update(name=CheckoutUpdates.SUBMIT)
    async def submit(self, request: SubmitRequest) -> CheckoutView:
        self.step = CheckoutStep.PROCESSING
        self.message = ""
        self.submitted = True
        return self._view()

    @submit.validator
    def _validate_submit(self, request: SubmitRequest) -> None:
        self._require_step(CheckoutStep.REVIEW)
        self._refuse_when_cards_locked()
        if self.totals is None or self.card is None:
            raise _refusal("Review your order first.", CheckoutErrors.WRONG_STEP)
        if request.expected_total_cents != self.totals.total_cents:
            raise _refusal("Your order total has changed; please review it again.", CheckoutErrors.WRONG_STEP)

    @workflow.update(name=CheckoutUpdates.CANCEL)
    async def cancel(self) -> CheckoutView:
        self.cancelled = True
        return self._view()

    @cancel.validator
    def _validate_cancel(self) -> None:
        self._require_step(CheckoutStep.SHIPPING, CheckoutStep.PAYMENT, CheckoutStep.REVIEW)

    @workflow.query(name=CheckoutQueries.GET)
    def get_checkout(self) -> CheckoutView:
        return self._view()

    # -- the saga ----------------------------------------------------------------------------
    async def _place_order(self) -> None:
        assert self.shipping is not None and self.card is not None and self.totals is not None
        # 1. Prices and the coupon as they are now: a different total goes back to review, uncharged.
        check = await workflow.execute_activity(
            CheckoutActivities.PRICE_LINES, [line.sku for line in self.lines], result_type=PriceCheck,
            **ORDER_CALL)
        repriced = [replace(line, unit_price_cents=check.unit_prices.get(line.sku, line.unit_price_cents))
                    for line in self.lines]
        totals = self._totals(repriced)
        if totals != self.totals:
            self.lines, self.totals = repriced, totals
            self.step = CheckoutStep.REVIEW
            self.message = "Prices changed since you reviewed your order; please check the new total."
            return
        # 2. Authorize, once per attempt: the key is the workflow id and the attempt's number.
        self.payment_attempts += 1
        authorization_key = f"{workflow.info().workflow_id}/payment-{self.payment_attempts}"
        try:
            await workflow.execute_activity(
                CheckoutActivities.AUTHORIZE_PAYMENT,
                AuthorizeRequest(authorization_key, self.card.token, self.totals.total_cents, self.config.currency),
                result_type=PaymentResult, **PAYMENT_CALL)
        except ActivityError as error:
            if _business_message(error) is None:
                # Out of retries: the processor may have recorded the authorization all the same.
                await workflow.execute_activity(CheckoutActivities.VOID_PAYMENT, authorization_key,
                                                **COMPENSATION_CALL)
            self._payment_refused(error)
            return
        # 3-6. Everything after the authorization is undone if it cannot be finished.
        try:
            await workflow.execute_activity(CheckoutActivities.CONFIRM_HOLDS, self._hold_request(None),
                                            **STOCK_CALL)
            order = await self._write_order(authorization_key)
            await workflow.execute_activity(CheckoutActivities.START_ORDER, order, **ORDER_CALL)
        except (ActivityError, ApplicationError) as error:
            refusal = _business_message(error) if isinstance(error, ActivityError) else None
            await self._compensate(authorization_key)
            reason = refusal[1] if refusal else "We could not place your order just now."
            self._finish(CheckoutStep.FAILED, f"{reason} Your card was not charged.")
            return
        self.order_number = order.order_number
        try:
            await workflow.execute_activity(CheckoutActivities.SEND_CONFIRMATION, order.order_number, **ORDER_CALL)
        except ActivityError:
            workflow.logger.warning("confirmation email for %s could not be sent", order.order_number)
        self._finish(CheckoutStep.COMPLETE, "Thank you! Your order is placed.")

    async def _write_order(self, authorization_key: str) -> OrderInput:
        """Write the order under a fresh random number; a number another checkout holds (50 random
        bits: practically never) is drawn again."""
        for _ in range(3):
            order = self._order(authorization_key)
            try:
                await workflow.execute_activity(CheckoutActivities.WRITE_ORDER, order, **ORDER_CALL)
                return order
            except ActivityError as error:
                refusal = _business_message(error)
                if refusal is None or refusal[0] != OrderErrors.NUMBER_TAKEN:
                    raise
        raise ApplicationError("no free order number", type=OrderErrors.NUMBER_TAKEN)

    def _payment_refused(self, error: ActivityError) -> None:
        refusal = _business_message(error)
        self.step = CheckoutStep.PAYMENT
        self.card = None
        if refusal is None:
            self.message = "The payment service is not answering; please try again in a moment."
            return
        self.declined_attempts += 1
        self.message = refusal[1]
        if self.declined_attempts >= self.config.max_declined_attempts:
            self.cards_locked_until = workflow.now() + timedelta(seconds=self.config.declined_lockout_seconds)
            self.message = (f"{refusal[1]} After {self.declined_attempts} declined cards this checkout takes no "
                            "more cards for a while.")

    async def _compensate(self, authorization_key: str) -> None:
        await workflow.execute_activity(CheckoutActivities.VOID_PAYMENT, authorization_key, **COMPENSATION_CALL)
        await self._release_lines()

    # -- holds -------------------------------------------------------------------------------
    def _hold_request(self, expires_at: datetime | None) -> HoldLinesRequest:
        return HoldLinesRequest(self.input.cart_id, tuple(self.lines), expires_at.isoformat() if expires_at else "")

    async def _hold_lines(self, expires_at: datetime) -> None:
        try:
            await workflow.execute_activity(CheckoutActivities.HOLD_LINES, self._hold_request(expires_at),
                                            **STOCK_CALL)
        except ActivityError as error:
            # A renewal can only fail if a hold was lost meanwhile; submit finds out and says so.
            workflow.logger.warning("holds of %s not extended: %s", workflow.info().workflow_id, error.cause)

    async def _release_lines(self) -> None:
        await workflow.execute_activity(CheckoutActivities.RELEASE_LINES, self._hold_request(None),
                                        **COMPENSATION_CALL)

    async def _return_lines_to_cart(self) -> None:
        await self._hold_lines(workflow.now() + timedelta(seconds=self.input.cart_hold_ttl_seconds))

    # -- helpers -----------------------------------------------------------------------------
    def _require_step(self, *allowed: str) -> None:
        if self.step in CheckoutStep.FINISHED:
            raise _refusal("This checkout has ended.", CheckoutErrors.CHECKOUT_CLOSED)
        if self.step not in allowed or self.submitted or self.cancelled:
            raise _refusal(f"That cannot be done now: the checkout is at the {self.step} step.",
                           CheckoutErrors.WRONG_STEP)

    def _refuse_when_cards_locked(self) -> None:
        if self.cards_locked_until is not None and workflow.now() < self.cards_locked_until:
            raise _refusal("Too many cards were declined; try again later.", CheckoutErrors.CARDS_LOCKED)

    def _changed(self) -> None:
        self.message = ""
        self.touches += 1
        if self.shipping is not None:
            self.totals = self._totals(self.lines)

    def _totals(self, lines) -> Totals:
        assert self.shipping is not None
        return compute_totals(lines, self.input.coupon_code, self.shipping.shipping_method,
                              self.shipping.address.state, self.config, workflow.now())

    def _finish(self, step: str, message: str) -> None:
        self.step, self.message = step, message

    def _order(self, authorization_key: str) -> OrderInput:
        assert self.shipping is not None and self.card is not None and self.totals is not None
        return OrderInput(
            order_number=new_order_number(workflow.random().getrandbits(ORDER_NUMBER_BITS)),
            checkout_id=workflow.info().workflow_id,
            cart_id=self.input.cart_id,
            email=self.shipping.address.email,
            customer_id=self.input.customer_id,
            shipping_address=self.shipping.address,
            shipping_method=self.shipping.shipping_method,
            lines=tuple(self.lines),
            totals=self.totals,
            payment_authorization_key=authorization_key,
            card_brand=self.card.brand,
            card_last4=self.card.last4,
            placed_at=workflow.now().isoformat(),
        )

    def _view(self) -> CheckoutView:
        return CheckoutView(
            checkout_id=workflow.info().workflow_id,
            cart_id=self.input.cart_id,
            step=self.step,
            lines=tuple(self.lines),
            coupon_code=self.input.coupon_code,
            shipping=self.shipping,
            card=self.card,
            totals=self.totals,
            message=self.message,
            order_number=self.order_number,
            declined_attempts=self.declined_attempts,
            cards_locked_until=self.cards_locked_until.isoformat() if self.cards_locked_until else "",
        )
