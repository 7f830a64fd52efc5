"""The cart: a long-lived entity workflow per cart, `cart-{cart_id}`.

Changes arrive as updates (validated before they reach history) and are serialised by a lock,
so two requests for the same cart never interleave halfway. Prices come from the catalog, stock
is held for every line, and the snapshot is saved to Cassandra by the main loop after the update
has answered, outside its latency. Deterministic: no Django, no I/O here.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from cart.contracts import (
        CART_WORKFLOW,
        MAX_ACTOR_LENGTH,
        MAX_END_REASON_LENGTH,
        MAX_LINE_QUANTITY,
        MAX_MERGE_LINES,
        TASK_QUEUE,
        AddItem,
        ApplyCoupon,
        BeginCheckout,
        CartActivities,
        CartErrors,
        CartInput,
        CartLine,
        CartQueries,
        CartSignals,
        CartSnapshot,
        CartState,
        CartStatus,
        CartUpdates,
        CartView,
        EndCart,
        MergedLine,
        MergeLines,
        MergeResult,
        RemoveItem,
        SetQuantity,
    )
    from cart.coupons import COUPONS, discount_cents, normalise
    from checkout.contracts import TASK_QUEUE as CHECKOUT_TASK_QUEUE
    from checkout.contracts import (
        CheckoutInput,
        CheckoutLine,
        CheckoutOutcome,
        CheckoutStep,
        CheckoutWorkflows,
        checkout_workflow_id,
    )
    from identity.contracts import StoreConfig  # noqa: F401 - BeginCheckout's field, decoded in the sandbox
    from inventory.contracts import TASK_QUEUE as INVENTORY_TASK_QUEUE
    from inventory.contracts import (
        HeldVariant,
        HoldRequest,
        HoldResult,
        InventoryActivities,
        StockErrors,
        VariantInfo,
    )

REMEMBERED_UPDATE_IDS = 200
NO_SUCH_PRODUCT = "There is no such product."

# The stock calls' retry budget. They run as local activities inside an update, and an update makes
# at most STOCK_CALLS_PER_UPDATE of them in a row (look the SKU up, then hold it; since
# ONE_STOCK_CALL_PER_NEW_LINE one call does both). Each is bounded over
# all its attempts by its schedule-to-close timeout, so an update's stock work ends within 2 x 4 s = 8 s:
# inside the 10 s the web tier waits for an update (settings.CART_UPDATE_TIMEOUT_SECONDS), with room for
# the workflow task and the round trips, and a refusal reaches the shopper as a refusal, not as a
# timeout (cart.checks warns when the setting is too short for this budget). One attempt, a Cassandra
# compare-and-set of milliseconds, may take 2 s, so a stuck attempt is retried within the budget.
STOCK_CALLS_PER_UPDATE = 2
STOCK_CALL = dict(
    schedule_to_close_timeout=timedelta(seconds=4),
    start_to_close_timeout=timedelta(seconds=2),
    retry_policy=RetryPolicy(maximum_attempts=4, initial_interval=timedelta(milliseconds=100),
                             maximum_interval=timedelta(seconds=1),
                             non_retryable_error_types=list(StockErrors.NON_RETRYABLE)),
)
# Patch ids: each marks a change of the workflow's commands; histories from before it replay unchanged.
EXPIRY_WAITS_FOR_HANDLERS = "expiry-waits-for-handlers"
COUPON_LAPSE_WAKES_THE_CART = "coupon-lapse-wakes-the-cart"
ONE_STOCK_CALL_PER_NEW_LINE = "one-stock-call-per-new-line"
BACKGROUND_CALL = dict(start_to_close_timeout=timedelta(seconds=30),
                       retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                                maximum_interval=timedelta(minutes=1)))


def _refusal(message: str, error_type: str, *details) -> ApplicationError:
    return ApplicationError(message, *details, type=error_type, non_retryable=True)


def _label(line: CartLine) -> str:
    details = ", ".join(part for part in (line.colour, line.size) if part)
    return f"{line.name} ({details})" if details else line.name


def _business_error(error: ActivityError | ApplicationError) -> ApplicationError:
    """The refusal an activity raised (out of stock, unknown SKU), passed on to the caller.
    A failed local activity raises its ApplicationError itself; a remote one wraps it."""
    cause = error.cause if isinstance(error, ActivityError) else error
    if isinstance(cause, ApplicationError) and cause.type:
        return _refusal(cause.message, cause.type, *cause.details)
    return _refusal("The shop could not update your cart just now; please try again.", CartErrors.UNAVAILABLE)


@workflow.defn(name=CART_WORKFLOW)
class CartWorkflow:
    @workflow.init
    def __init__(self, input: CartInput) -> None:
        self.config = input.config
        self.state = input.state or CartState(cart_id=input.cart_id)
        self.lock = asyncio.Lock()
        self.dirty = input.unsaved
        self.changed_skus: set[str] = set(input.changed_skus)
        self.end_message = ""  # who ended the cart and why: the run's result says it

    # -- the main loop: persistence, continue-as-new, idle expiry ---------------------------
    @workflow.run
    async def run(self, input: CartInput) -> CartView:
        idle = timedelta(seconds=self.config.idle_expiry_seconds)
        while True:
            wait = self._wait_for_a_change(idle)
            try:
                await workflow.wait_condition(
                    lambda: self.dirty or self._continue_due() or self._completed() or self._ended(), timeout=wait)
            except TimeoutError:
                if self.state.status == CartStatus.CHECKING_OUT:
                    continue  # the checkout has a timeout of its own and tells the cart how it ended
                if wait < idle:
                    self.dirty = True  # the applied coupon lapsed: save the totals without its discount
                elif not workflow.patched(EXPIRY_WAITS_FOR_HANDLERS):
                    return await self._expire()
                else:
                    # An update that came in as the cart went idle finishes first (the run must not
                    # end under it); if it changed the cart, the cart is not idle after all.
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    if not self.dirty and not self._ended():
                        view = await self._expire()
                        # Updates that were waiting for the lock find the cart closed and refuse.
                        await workflow.wait_condition(workflow.all_handlers_finished)
                        return view
            if self._ended():
                # Staff ended the cart: its update released the holds and saved the snapshot. The run
                # ends as the update completes; a shopper's change waiting for the lock meanwhile is
                # refused as closed, which the storefront answers with a fresh cart.
                await workflow.wait_condition(workflow.all_handlers_finished)
                return self._view(self.end_message)
            if self._completed():
                # The order owns the units now: nothing is released; the cart's work is done.
                await workflow.wait_condition(workflow.all_handlers_finished)
                await self._persist()
                return self._view("Your order is placed.")
            if self.dirty and not self._continue_due():
                await workflow.sleep(timedelta(seconds=self.config.snapshot_delay_seconds))
                await self._persist()
            if self._continue_due():
                # Nothing is awaited between the handlers finishing and the hand-over, so no update
                # can start in between; what is not yet saved is saved by the next run.
                await workflow.wait_condition(workflow.all_handlers_finished)
                self.state.updates = 0
                workflow.continue_as_new(CartInput(self.state.cart_id, self.config, self.state,
                                                   unsaved=self.dirty, changed_skus=sorted(self.changed_skus)))

    def _wait_for_a_change(self, idle: timedelta) -> timedelta:
        """The idle time, or less when the applied coupon lapses sooner: the cart wakes then, so its
        query and snapshot stop showing the discount without waiting for the next change."""
        coupon = COUPONS.get(self.state.coupon_code)
        if coupon is None or coupon.expires_at is None or coupon.expired(workflow.now()):
            return idle
        left = coupon.expires_at - workflow.now()
        if left >= idle or not workflow.patched(COUPON_LAPSE_WAKES_THE_CART):
            return idle
        return left

    def _completed(self) -> bool:
        return self.state.status == CartStatus.COMPLETED

    def _ended(self) -> bool:
        return self.state.status == CartStatus.ENDED

    def _continue_due(self) -> bool:
        # An ended cart finishes its run instead.
        return self.state.updates >= self.config.continue_as_new_after and not self._ended()

    async def _persist(self) -> None:
        self.dirty = False
        changed, self.changed_skus = sorted(self.changed_skus), set()
        snapshot = CartSnapshot.of(self._view(), workflow.now().isoformat())
        calls = [workflow.execute_activity(CartActivities.SAVE_SNAPSHOT, snapshot, task_queue=TASK_QUEUE,
                                           **BACKGROUND_CALL)]
        if changed:
            calls.append(workflow.execute_activity(InventoryActivities.NOTIFY_STOCK_CHANGED, changed,
                                                   task_queue=INVENTORY_TASK_QUEUE, **BACKGROUND_CALL))
        await asyncio.gather(*calls)

    async def _expire(self) -> CartView:
        async with self.lock:
            await self._close(CartStatus.EXPIRED)
            return self._view("This cart expired after a long time without changes.")

    async def _close(self, status: str) -> None:
        """Release every hold of the cart, mark it closed and save it (the caller holds the lock). The
        lines stay, so the snapshot and the run's result show what the cart held."""
        rids = [self._reservation_id(line.sku) for line in self.state.lines]
        if rids:
            await workflow.execute_activity(InventoryActivities.RELEASE_HOLDS, rids,
                                            task_queue=INVENTORY_TASK_QUEUE, **BACKGROUND_CALL)
        self.changed_skus.update(line.sku for line in self.state.lines)
        self.state.status = status
        self._touch()
        await self._persist()

    # -- updates ---------------------------------------------------------------------------
    @workflow.update(name=CartUpdates.ADD_ITEM)
    async def add_item(self, request: AddItem) -> CartView:
        async with self.lock:
            self._validate_active()  # the cart may have expired while this update waited for the lock
            if self._seen_before():
                return self._view()  # the same form submitted twice: added once
            line = self._line(request.sku)
            quantity = (line.quantity if line else 0) + request.quantity
            if quantity > self.config.max_units_per_sku:
                raise self._too_many(line)
            if line is None and len(self.state.lines) >= self.config.max_lines:
                raise _refusal(f"A cart holds at most {self.config.max_lines} different items.",
                               CartErrors.CART_FULL)
            if line is None and workflow.patched(ONE_STOCK_CALL_PER_NEW_LINE):
                line = await self._hold_new_line(request.sku, quantity)
            else:
                if line is None:
                    info = await self._lookup(request.sku)
                    line = CartLine(info.sku, info.product_slug, info.name, info.colour, info.size, info.price_cents,
                                    0, info.image_url)
                await self._hold(line, quantity)
            self._put(replace(line, quantity=quantity))
            self._remember_update()
            return self._changed(line.sku, f"Added {request.quantity} × {line.name} to your cart.")

    @add_item.validator
    def _validate_add(self, request: AddItem) -> None:
        self._validate_active()
        self._validate_sku(request.sku)
        if not 1 <= request.quantity <= MAX_LINE_QUANTITY:
            raise _refusal(f"Quantity must be between 1 and {MAX_LINE_QUANTITY}.", CartErrors.INVALID_QUANTITY)
        if request.quantity > self.config.max_units_per_sku:
            raise self._too_many(None)

    @workflow.update(name=CartUpdates.SET_QUANTITY)
    async def set_quantity(self, request: SetQuantity) -> CartView:
        async with self.lock:
            self._validate_active()
            line = self._line(request.sku)
            if line is None:
                raise _refusal("That item is not in your cart.", CartErrors.NOT_IN_CART)
            if request.quantity == 0:
                await self._release(line)
                return self._changed(line.sku, f"Removed {line.name} from your cart.")
            if request.quantity != line.quantity:
                await self._hold(line, request.quantity)
                line = replace(line, quantity=request.quantity)
                self._put(line)
            return self._changed(line.sku, f"{line.name}: quantity is now {line.quantity}.")

    @set_quantity.validator
    def _validate_set(self, request: SetQuantity) -> None:
        self._validate_active()
        self._validate_sku(request.sku)
        if not 0 <= request.quantity <= MAX_LINE_QUANTITY:
            raise _refusal(f"Quantity must be between 0 and {MAX_LINE_QUANTITY}.", CartErrors.INVALID_QUANTITY)
        if request.quantity > self.config.max_units_per_sku:
            raise self._too_many(None)

    @workflow.update(name=CartUpdates.REMOVE_ITEM)
    async def remove_item(self, request: RemoveItem) -> CartView:
        async with self.lock:
            self._validate_active()
            line = self._line(request.sku)
            if line is None:
                return self._view()  # already gone: a repeated remove changes nothing
            await self._release(line)
            return self._changed(line.sku, f"Removed {line.name} from your cart.")

    @remove_item.validator
    def _validate_remove(self, request: RemoveItem) -> None:
        self._validate_active()
        self._validate_sku(request.sku)

    @workflow.update(name=CartUpdates.APPLY_COUPON)
    async def apply_coupon(self, request: ApplyCoupon) -> CartView:
        async with self.lock:
            self._validate_active()
            code = normalise(request.code)
            if not code:
                self.state.coupon_code = ""
                return self._changed(None, "Coupon removed.")
            coupon = COUPONS.get(code)
            if coupon is None:
                raise _refusal(f"We don't know the code {code}.", CartErrors.UNKNOWN_COUPON)
            if coupon.expired(workflow.now()):
                raise _refusal(f"The code {code} has expired.", CartErrors.EXPIRED_COUPON)
            if self._subtotal() < coupon.minimum_subtotal_cents:
                minimum = coupon.minimum_subtotal_cents
                raise _refusal(f"{code} needs a subtotal of at least ${minimum // 100}.{minimum % 100:02d}.",
                               CartErrors.COUPON_NOT_APPLICABLE)
            self.state.coupon_code = code
            return self._changed(None, f"Coupon {code} applied: {coupon.label}.")

    @apply_coupon.validator
    def _validate_coupon(self, request: ApplyCoupon) -> None:
        self._validate_active()
        if len(request.code) > 64:
            raise _refusal("That is not a coupon code.", CartErrors.UNKNOWN_COUPON)

    @workflow.update(name=CartUpdates.BEGIN_CHECKOUT)
    async def begin_checkout(self, request: BeginCheckout) -> CartView:
        """Hold every line again for the checkout (a lapsed hold is placed anew) and start it as a
        child that outlives the cart's run; while it runs the cart refuses changes."""
        async with self.lock:
            if self.state.status == CartStatus.CHECKING_OUT:
                return self._view()  # a second click: the checkout already running
            self._validate_active()
            if not self.state.lines:
                raise _refusal("Your cart is empty.", CartErrors.CART_EMPTY)
            config = request.config
            expires_at = workflow.now() + timedelta(seconds=config.checkout_step_timeout_seconds + 300)
            for line in self.state.lines:
                await self._hold_for_checkout(line, expires_at)
            self.state.checkouts += 1
            checkout_id = checkout_workflow_id(self.state.cart_id, self.state.checkouts)
            view = self._view()
            lines = tuple(CheckoutLine(line.sku, line.product_slug, line.name, line.colour, line.size,
                                       line.unit_price_cents, line.quantity, line.image_url,
                                       self._reservation_id(line.sku)) for line in self.state.lines)
            await workflow.start_child_workflow(
                CheckoutWorkflows.CHECKOUT,
                CheckoutInput(self.state.cart_id, checkout_id, lines,
                              view.coupon_code if view.discount_cents else "", config,
                              cart_hold_ttl_seconds=self.config.hold_ttl_seconds, customer_id=request.customer_id),
                id=checkout_id, task_queue=CHECKOUT_TASK_QUEUE, parent_close_policy=ParentClosePolicy.ABANDON)
            self.state.status = CartStatus.CHECKING_OUT
            self.state.checkout_id = checkout_id
            return self._changed(None, "")

    @begin_checkout.validator
    def _validate_begin_checkout(self, request: BeginCheckout) -> None:
        if self.state.status != CartStatus.CHECKING_OUT:
            self._validate_active()
            if not self.state.lines:
                raise _refusal("Your cart is empty.", CartErrors.CART_EMPTY)

    @workflow.update(name=CartUpdates.END)
    async def end_cart(self, request: EndCart) -> CartView:
        """Staff end an abandoned cart: every hold is released, the cart closes and its run finishes.
        A re-sent update (same id) applies once: Temporal answers it from the first."""
        async with self.lock:
            self._validate_endable()  # a checkout may have begun while this update waited for the lock
            self.end_message = f"Ended by {request.actor.strip()}: {request.reason.strip()}"
            await self._close(CartStatus.ENDED)
            return self._view(self.end_message)

    @end_cart.validator
    def _validate_end(self, request: EndCart) -> None:
        if not request.actor.strip() or len(request.actor) > MAX_ACTOR_LENGTH:
            raise _refusal("Say who is ending the cart.", CartErrors.INVALID_REQUEST)
        if not request.reason.strip() or len(request.reason) > MAX_END_REASON_LENGTH:
            raise _refusal(f"Give a reason of at most {MAX_END_REASON_LENGTH} characters.",
                           CartErrors.INVALID_REQUEST)
        self._validate_endable()

    @workflow.update(name=CartUpdates.MERGE)
    async def merge_lines(self, request: MergeLines) -> MergeResult:
        """A guest cart's lines join this one as its shopper signs in: quantities add up, capped by the
        stock there is, the per-item cap and the cart's line cap; each capped line says so. The guest
        cart has ended first (its holds released), so its units count as available here. Sent with
        the id `merge-{source}`: a retry applies once, across continue-as-new too."""
        async with self.lock:
            self._validate_active()
            if self._seen_before():
                return MergeResult(self._view())
            merged: list[MergedLine] = []
            changed = False
            for incoming in request.lines:
                line = self._line(incoming.sku)
                have = line.quantity if line else 0
                wanted = min(have + incoming.quantity, self.config.max_units_per_sku)
                if line is None and len(self.state.lines) >= self.config.max_lines:
                    merged.append(MergedLine(incoming.sku, _label(incoming), incoming.quantity, 0, 0,
                                             f"a cart holds at most {self.config.max_lines} different items"))
                    continue
                base = line or replace(incoming, quantity=0)
                held = await self._hold_up_to(base, wanted)
                if held > have:
                    self._put(replace(base, quantity=held))
                    self.changed_skus.add(incoming.sku)
                    changed = True
                reason = ""
                if held < have + incoming.quantity:
                    reason = (f"you can hold at most {self.config.max_units_per_sku} of one item"
                              if held == self.config.max_units_per_sku else "that is all there is in stock")
                merged.append(MergedLine(incoming.sku, _label(incoming), incoming.quantity, max(0, held - have),
                                         held, reason))
            self._remember_update()
            kept = sum(line.kept for line in merged)
            plural = "s" if kept != 1 else ""
            message = f"Added {kept} item{plural} from before you signed in to your cart." if kept else ""
            view = self._changed(None, message) if changed else self._view(message)
            return MergeResult(view, tuple(merged))

    @merge_lines.validator
    def _validate_merge(self, request: MergeLines) -> None:
        self._validate_active()
        if len(request.lines) > MAX_MERGE_LINES:
            raise _refusal("Too many lines to merge.", CartErrors.INVALID_REQUEST)
        for line in request.lines:
            self._validate_sku(line.sku)
            if not 1 <= line.quantity <= MAX_LINE_QUANTITY:
                raise _refusal(f"Quantity must be between 1 and {MAX_LINE_QUANTITY}.", CartErrors.INVALID_QUANTITY)

    async def _hold_up_to(self, line: CartLine, quantity: int) -> int:
        """Hold `quantity` units of the line, or as many as there are (never fewer than it holds now):
        the units held. A stock call that used up its retry budget keeps the line as it was."""
        expires_at = (workflow.now() + timedelta(seconds=self.config.hold_ttl_seconds)).isoformat()
        while quantity > line.quantity:
            request = HoldRequest(self._reservation_id(line.sku), line.sku, quantity, expires_at, self.state.cart_id)
            try:
                await workflow.execute_local_activity(InventoryActivities.HOLD_STOCK, request, result_type=HoldResult,
                                                      **STOCK_CALL)
                return quantity
            except (ActivityError, ApplicationError) as error:
                refusal = _business_error(error)
                if refusal.type != CartErrors.OUT_OF_STOCK or not refusal.details:
                    return line.quantity
                most = int(refusal.details[0])
                if most >= quantity:  # the stock moved between the calls: try once more at the same level
                    most = quantity - 1
                quantity = most
        return line.quantity

    @workflow.signal(name=CartSignals.CHECKOUT_FINISHED)
    def checkout_finished(self, outcome: CheckoutOutcome) -> None:
        if self.state.status != CartStatus.CHECKING_OUT or outcome.checkout_id != self.state.checkout_id:
            return  # a stale or repeated outcome
        if outcome.step == CheckoutStep.COMPLETE:
            self.state.status = CartStatus.COMPLETED
        else:
            # Cancelled, timed out or failed: the cart is the shopper's again, as it was.
            self.state.status = CartStatus.ACTIVE
            self.state.checkout_id = ""
        self.state.updates += 1
        self._touch()
        self.dirty = True

    @workflow.query(name=CartQueries.GET)
    def get_cart(self) -> CartView:
        return self._view()

    # -- helpers ---------------------------------------------------------------------------
    def _validate_active(self) -> None:
        if self.state.status == CartStatus.CHECKING_OUT:
            raise _refusal("Your cart is in checkout: finish or cancel the checkout to change it.",
                           CartErrors.IN_CHECKOUT)
        if self.state.status != CartStatus.ACTIVE:
            raise _refusal("This cart can no longer be changed.", CartErrors.CART_CLOSED)

    def _validate_endable(self) -> None:
        if self.state.status == CartStatus.CHECKING_OUT:
            raise _refusal(f"This cart is in checkout ({self.state.checkout_id}): the checkout holds its stock "
                           "until it ends, so the cart cannot be ended now.", CartErrors.IN_CHECKOUT)
        if self.state.status != CartStatus.ACTIVE:
            label = CartStatus.LABELS.get(self.state.status, self.state.status)
            raise _refusal(f"This cart is already closed ({label}).", CartErrors.CART_CLOSED)

    @staticmethod
    def _validate_sku(sku: str) -> None:
        if not sku or len(sku) > 64 or not sku.replace("-", "").isalnum():
            raise _refusal(NO_SUCH_PRODUCT, CartErrors.UNKNOWN_SKU)

    def _seen_before(self) -> bool:
        """A form submitted twice carries one nonce, used as the update id: the second adds nothing.
        Temporal deduplicates within a run; this list carries the guarantee across continue-as-new."""
        return workflow.current_update_info().id in self.state.recent_update_ids

    def _remember_update(self) -> None:
        update_id = workflow.current_update_info().id
        self.state.recent_update_ids = (self.state.recent_update_ids + [update_id])[-REMEMBERED_UPDATE_IDS:]

    def _line(self, sku: str) -> CartLine | None:
        return next((line for line in self.state.lines if line.sku == sku), None)

    def _put(self, line: CartLine) -> None:
        """Add the line, or replace the line of its SKU in place."""
        lines = self.state.lines
        index = next((i for i, old in enumerate(lines) if old.sku == line.sku), len(lines))
        lines[index:index + 1] = [line]

    def _too_many(self, line: CartLine | None) -> ApplicationError:
        message = f"You can hold at most {self.config.max_units_per_sku} of one item."
        if line is not None:
            message += f" You have {line.quantity} × {line.name} in your cart."
        return _refusal(message, CartErrors.TOO_MANY_OF_ONE_ITEM)

    def _reservation_id(self, sku: str) -> str:
        return f"cart-{self.state.cart_id}-{sku}"

    async def _lookup(self, sku: str) -> VariantInfo:
        try:
            return await workflow.execute_local_activity(InventoryActivities.LOOKUP_VARIANT, sku,
                                                         result_type=VariantInfo, **STOCK_CALL)
        except (ActivityError, ApplicationError) as error:
            refusal = _business_error(error)
            if refusal.type == CartErrors.UNKNOWN_SKU:
                raise _refusal(NO_SUCH_PRODUCT, CartErrors.UNKNOWN_SKU) from None
            raise refusal from None

    async def _hold_new_line(self, sku: str, quantity: int) -> CartLine:
        """A line not yet in the cart: looked up and held in one local activity (one round trip of
        the update through the worker instead of two)."""
        expires_at = workflow.now() + timedelta(seconds=self.config.hold_ttl_seconds)
        request = HoldRequest(self._reservation_id(sku), sku, quantity, expires_at.isoformat(), self.state.cart_id)
        try:
            held = await workflow.execute_local_activity(InventoryActivities.HOLD_VARIANT, request,
                                                         result_type=HeldVariant, **STOCK_CALL)
        except (ActivityError, ApplicationError) as error:
            refusal = _business_error(error)
            if refusal.type == CartErrors.UNKNOWN_SKU:
                raise _refusal(NO_SUCH_PRODUCT, CartErrors.UNKNOWN_SKU) from None
            raise refusal from None
        info = held.variant
        return CartLine(info.sku, info.product_slug, info.name, info.colour, info.size, info.price_cents, quantity,
                        info.image_url)

    async def _hold(self, line: CartLine, quantity: int) -> HoldResult:
        expires_at = workflow.now() + timedelta(seconds=self.config.hold_ttl_seconds)
        request = HoldRequest(self._reservation_id(line.sku), line.sku, quantity, expires_at.isoformat(),
                              self.state.cart_id)
        try:
            return await workflow.execute_local_activity(InventoryActivities.HOLD_STOCK, request,
                                                         result_type=HoldResult, **STOCK_CALL)
        except (ActivityError, ApplicationError) as error:
            refusal = _business_error(error)
            if refusal.type == CartErrors.OUT_OF_STOCK and line.quantity:
                can_add = max(0, (refusal.details[0] if refusal.details else 0) - line.quantity)
                raise _refusal(f"Sorry, only {can_add} more of {line.name} can be added "
                               f"(you have {line.quantity} in your cart).", CartErrors.OUT_OF_STOCK, can_add) from None
            raise refusal from None

    async def _hold_for_checkout(self, line: CartLine, expires_at) -> None:
        request = HoldRequest(self._reservation_id(line.sku), line.sku, line.quantity, expires_at.isoformat(),
                              self.state.cart_id)
        try:
            await workflow.execute_local_activity(InventoryActivities.HOLD_STOCK, request, result_type=HoldResult,
                                                  **STOCK_CALL)
        except (ActivityError, ApplicationError) as error:
            refusal = _business_error(error)
            if refusal.type == CartErrors.OUT_OF_STOCK:
                left = refusal.details[0] if refusal.details else 0
                raise _refusal(f"{line.name} ({line.colour}, {line.size}): only {left} left now; change the "
                               "quantity to check out.", CartErrors.OUT_OF_STOCK, left) from None
            raise refusal from None

    async def _release(self, line: CartLine) -> None:
        try:
            await workflow.execute_local_activity(InventoryActivities.RELEASE_STOCK, self._reservation_id(line.sku),
                                                  **STOCK_CALL)
        except (ActivityError, ApplicationError) as error:
            raise _business_error(error) from None
        self.state.lines = [other for other in self.state.lines if other.sku != line.sku]

    def _changed(self, sku: str | None, message: str) -> CartView:
        if sku:
            self.changed_skus.add(sku)
        self.state.updates += 1
        self._touch()
        self.dirty = True
        return self._view(message)

    def _touch(self) -> None:
        """The cart changed now (its "last update" in the staff console)."""
        self.state.updated_at = workflow.now().isoformat()

    def _subtotal(self) -> int:
        return sum(line.line_total_cents for line in self.state.lines)

    def _view(self, message: str = "") -> CartView:
        subtotal = self._subtotal()
        coupon = COUPONS.get(self.state.coupon_code)
        # A coupon valid when applied may expire since: checked again whenever totals are computed.
        coupon_expired = coupon is not None and coupon.expired(workflow.now())
        discount = discount_cents(coupon, subtotal) if coupon and not coupon_expired else 0
        return CartView(
            cart_id=self.state.cart_id,
            status=self.state.status,
            lines=tuple(self.state.lines),
            coupon_code=self.state.coupon_code,
            coupon_label=coupon.label if coupon else "",
            coupon_expired=coupon_expired,
            subtotal_cents=subtotal,
            discount_cents=discount,
            total_cents=subtotal - discount,
            item_count=sum(line.quantity for line in self.state.lines),
            message=message,
            checkout_id=self.state.checkout_id,
            updated_at=self.state.updated_at,
        )
