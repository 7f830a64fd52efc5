"""The order workflow's activities against the real stack: supplier orders planned from the stock rows
that hold each line (and the catalog when none does), forced manual fulfillment, the payment
processor's answers as the workflow sees them, the order emails sent once per key, stock released,
and fulfillment started once and told to cancel."""

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from checkout import payments
from checkout.contracts import Address, AuthorizeRequest, CheckoutLine, PaymentErrors, PaymentResult, Totals
from commerce.cassandra import session, table
from fulfillment.contracts import FulfillmentRequest, FulfillmentSignals, fulfillment_workflow_id
from identity.services import store_config
from inventory import stock
from orders import access, activities, emails
from orders import store as order_store
from orders.apportion import apportion
from orders.contracts import (
    CaptureRequest,
    FulfillmentStrategy,
    OrderEmailKind,
    OrderEmailRequest,
    OrderErrors,
    OrderInput,
    ReauthorizeRequest,
    RefundPaymentRequest,
    supplier_order_id,
)
from orders.numbers import ORDER_NUMBER_BITS, new_order_number
from tests.stock_helpers import fresh_sku, levels

pytestmark = pytest.mark.usefixtures("catalog")

WAREHOUSE, DROPSHIP, WORKSHOP = "heron-warehouse", "northwind-dropship", "saltmarsh-workshop"
NEXT_YEAR = str(datetime.now(UTC).year + 1)
REAUTH_DECLINED = "4000000000000341"
_rng = random.SystemRandom()


def run(activity_fn, *args):
    return ActivityEnvironment().run(activity_fn, *args)


def refusal(activity_fn, *args) -> ApplicationError:
    with pytest.raises(ApplicationError) as raised:
        run(activity_fn, *args)
    return raised.value


@pytest.fixture(scope="module")
def products_of(catalog):
    """Supplier id -> an iterator over its products (each test takes its own, so none share stock)."""
    found: dict[str, list] = {}
    for product in catalog.products[100:]:
        if product.variants:
            found.setdefault(product.supplier_id, []).append(product)
    return {supplier: iter(products) for supplier, products in found.items()}


def _line(product, quantity: int = 1, rid: str = "") -> CheckoutLine:
    variant = product.variants[0]
    return CheckoutLine(variant.sku, product.slug, product.name, variant.colour, variant.size, variant.price_cents,
                        quantity, "", rid or f"res-{uuid.uuid4().hex}")


def _held(product, quantity: int = 1) -> CheckoutLine:
    """A line of `product` whose units are held and confirmed, as the checkout leaves them."""
    line = _line(product, quantity)
    fresh_sku(20, sku=line.sku)
    stock.hold(line.reservation_id, line.sku, quantity, datetime.now(UTC) + timedelta(minutes=15))
    stock.confirm(line.reservation_id, line.sku)
    return line


def _order(lines: tuple[CheckoutLine, ...], shipping_cents: int = 595, tax_cents: int = 333,
           email: str = "Ada.Shopper@Example.com", authorization_key: str = "") -> OrderInput:
    subtotal = sum(line.line_total_cents for line in lines)
    cart_id = uuid.uuid4().hex
    return OrderInput(
        order_number=new_order_number(_rng.getrandbits(ORDER_NUMBER_BITS)), checkout_id=f"checkout-{cart_id}-1",
        cart_id=cart_id, email=email, customer_id="",
        shipping_address=Address(email.lower(), "Ada Shopper", "1 Main St", "", "Portland", "OR", "97201"),
        shipping_method="standard", lines=lines,
        totals=Totals(subtotal, 0, shipping_cents, tax_cents, subtotal + shipping_cents + tax_cents),
        payment_authorization_key=authorization_key or f"checkout-{cart_id}-1/payment-1", card_brand="Visa",
        card_last4="4242", placed_at=datetime.now(UTC).isoformat())


def _authorization(amount: int, number: str = "4242424242424242") -> str:
    token = payments.tokenize(number, "12", NEXT_YEAR, "123", "Ada Shopper")
    key = f"checkout-{uuid.uuid4().hex}-1/payment-1"
    payments.authorize(AuthorizeRequest(key, token.token, amount))
    return key


# -- settings and planning ---------------------------------------------------------------------------

def test_load_settings_gives_the_store_config_and_the_authorization_validity(settings):
    settings.PAYMENT_AUTHORIZATION_VALIDITY_SECONDS = 3 * 24 * 3600
    settings.ORDER_APPROVAL_THRESHOLD_CENTS = 12_345

    loaded = run(activities.load_settings)

    assert loaded.authorization_validity_seconds == 3 * 24 * 3600
    assert loaded.config == store_config() and loaded.config.approval_threshold_cents == 12_345


def test_planning_splits_a_mixed_supplier_order_by_supplier_in_order_of_first_appearance(settings, products_of):
    settings.FULFILLMENT_MANUAL = False
    first, second = next(products_of[WAREHOUSE]), next(products_of[WAREHOUSE])
    lines = (_held(next(products_of[DROPSHIP]), 1), _held(first, 2), _held(second, 3))
    order = _order(lines)

    plans = run(activities.plan_supplier_orders, order)

    assert [(plan.index, plan.supplier_order_id, plan.supplier_id, plan.supplier_name, plan.strategy,
             plan.line_indexes) for plan in plans] == [
        (1, supplier_order_id(order.order_number, 1), DROPSHIP, "Northwind Dropship Partners",
         FulfillmentStrategy.DROPSHIP, (0,)),
        (2, supplier_order_id(order.order_number, 2), WAREHOUSE, "Heron Fulfilment Centre",
         FulfillmentStrategy.SIMULATED, (1, 2)),
    ]
    weights = [lines[0].line_total_cents, lines[1].line_total_cents + lines[2].line_total_cents]
    assert [plan.amount_cents for plan in plans] == apportion(order.totals.total_cents, weights)
    assert sum(plan.amount_cents for plan in plans) == order.totals.total_cents


def test_forced_manual_fulfillment_makes_every_supplier_order_manual(settings, products_of):
    settings.FULFILLMENT_MANUAL = True
    order = _order((_held(next(products_of[WAREHOUSE])), _held(next(products_of[DROPSHIP]))))

    plans = run(activities.plan_supplier_orders, order)

    assert [(plan.supplier_id, plan.strategy) for plan in plans] == [
        (WAREHOUSE, FulfillmentStrategy.MANUAL), (DROPSHIP, FulfillmentStrategy.MANUAL)]


def test_a_line_held_at_another_supplier_goes_to_the_supplier_holding_it(settings, products_of):
    settings.FULFILLMENT_MANUAL = False
    product = next(products_of[WAREHOUSE])
    sku = product.variants[0].sku
    fresh_sku(5, sku=sku)
    # The workshop stocks this SKU too, with more to give: a hold goes there.
    session().execute(f"INSERT INTO {table('inventory_stock')} (sku, supplier_id, on_hand, reserved, holds,"
                      " hold_expiry, applied) VALUES (%s, %s, 50, 0, {}, {}, {})", [sku, WORKSHOP])
    try:
        line = _line(product)
        stock.hold(line.reservation_id, sku, 1, datetime.now(UTC) + timedelta(minutes=15))
        stock.confirm(line.reservation_id, sku)

        [plan] = run(activities.plan_supplier_orders, _order((line,)))

        assert (plan.supplier_id, plan.supplier_name, plan.strategy) == (
            WORKSHOP, "Saltmarsh Workshop", FulfillmentStrategy.MANUAL)
    finally:
        stock.release(line.reservation_id, sku)
        session().execute(f"DELETE FROM {table('inventory_stock')} WHERE sku = %s AND supplier_id = %s",
                          [sku, WORKSHOP])


def test_a_line_no_stock_row_holds_any_more_goes_to_its_products_supplier(settings, products_of):
    settings.FULFILLMENT_MANUAL = False
    released = _held(next(products_of[DROPSHIP]))
    stock.release(released.reservation_id, released.sku)
    never_held = _line(next(products_of[WAREHOUSE]))
    unknown = CheckoutLine("NO-SUCH-SKU", "gone", "Gone", "", "", 1_000, 1, "", f"res-{uuid.uuid4().hex}")
    order = _order((released, never_held, unknown))

    plans = run(activities.plan_supplier_orders, order)

    assert [(plan.supplier_id, plan.strategy, plan.line_indexes) for plan in plans] == [
        (DROPSHIP, FulfillmentStrategy.DROPSHIP, (0,)), (WAREHOUSE, FulfillmentStrategy.SIMULATED, (1,)),
        ("", FulfillmentStrategy.MANUAL, (2,))]
    assert plans[2].supplier_name == activities.UNASSIGNED_SUPPLIER_NAME
    assert sum(plan.amount_cents for plan in plans) == order.totals.total_cents


def test_planning_refuses_an_order_with_a_line_out_of_bounds(products_of):
    line = _line(next(products_of[WAREHOUSE]))
    bad = CheckoutLine(line.sku, line.product_slug, line.name, line.colour, line.size, -5, 1, "", line.reservation_id)

    error = refusal(activities.plan_supplier_orders, _order((bad,)))

    assert (error.type, error.non_retryable) == (OrderErrors.INVALID_REQUEST, True)


# -- payments ----------------------------------------------------------------------------------------

def test_capture_refund_and_void_answer_the_processors_results():
    key = _authorization(10_000)

    captured = run(activities.capture_payment, CaptureRequest(key, 6_000, f"{key}/capture-so-1", "o-so-1"))
    again = run(activities.capture_payment, CaptureRequest(key, 6_000, f"{key}/capture-so-1", "o-so-1"))
    refunded = run(activities.refund_payment, RefundPaymentRequest(key, 1_000, f"{key}/refund-1"))
    voided = run(activities.void_payment, key)

    assert captured == again == PaymentResult(f"{key}/capture-so-1", "capture", "captured", 6_000, key)
    assert (refunded.status, refunded.amount_cents) == ("refunded", 1_000)
    assert (voided.status, voided.amount_cents) == ("voided", 4_000)
    assert run(activities.void_payment, f"checkout-{uuid.uuid4().hex}-1/payment-1").status == "nothing_to_void"


def test_a_capture_or_refund_beyond_what_is_left_is_a_non_retryable_refusal():
    key = _authorization(5_000)
    run(activities.capture_payment, CaptureRequest(key, 5_000, f"{key}/capture-1"))

    capture = refusal(activities.capture_payment, CaptureRequest(key, 1, f"{key}/capture-2"))
    refund = refusal(activities.refund_payment, RefundPaymentRequest(key, 5_001, f"{key}/refund-1"))

    for error in (capture, refund):
        assert (error.type, error.non_retryable) == (PaymentErrors.REFUSED, True)
    assert "Only 0 cents" in capture.message and "Only 5000 cents" in refund.message


def test_a_capture_past_the_validity_is_refused_as_expired_and_a_reauthorization_can_be_captured(settings):
    key = _authorization(8_000)
    settings.PAYMENT_AUTHORIZATION_VALIDITY_SECONDS = 0

    error = refusal(activities.capture_payment, CaptureRequest(key, 3_000, f"{key}/capture-1"))
    new = run(activities.reauthorize_payment, ReauthorizeRequest(key, 8_000, f"{key}/reauth-1"))
    settings.PAYMENT_AUTHORIZATION_VALIDITY_SECONDS = 3600
    captured = run(activities.capture_payment, CaptureRequest(new.authorization_key, 3_000, f"{key}/capture-1"))

    assert (error.type, error.non_retryable) == (PaymentErrors.AUTHORIZATION_EXPIRED, True)
    assert (new.authorization_key, new.amount_cents) == (f"{key}/reauth-1", 8_000)
    assert (captured.status, captured.authorization_key) == ("captured", f"{key}/reauth-1")


def test_a_declined_reauthorization_is_a_non_retryable_card_declined_with_the_processors_message():
    key = _authorization(4_000, REAUTH_DECLINED)

    error = refusal(activities.reauthorize_payment, ReauthorizeRequest(key, 4_000, f"{key}/reauth-1"))

    assert (error.type, error.message, error.non_retryable) == (
        PaymentErrors.DECLINED, "Your card was declined.", True)


def test_a_processor_that_cannot_answer_now_is_a_retryable_error():
    def unavailable():
        raise payments.PaymentTemporarilyUnavailable()

    with pytest.raises(ApplicationError) as raised:
        activities._payment(unavailable)

    assert (raised.value.type, raised.value.non_retryable) == ("PaymentTemporarilyUnavailable", False)


# -- stock -------------------------------------------------------------------------------------------

def test_release_stock_gives_the_orders_units_back_once(products_of):
    lines = (_held(next(products_of[WAREHOUSE]), 2), _held(next(products_of[DROPSHIP]), 3))

    released = run(activities.release_stock, lines)
    again = run(activities.release_stock, lines)

    assert (released, again) == (2, 0)
    for line in lines:
        on_hand, reserved, holds = levels(line.sku)
        assert (on_hand, reserved) == (20, 0) and line.reservation_id not in holds


# -- email -------------------------------------------------------------------------------------------

@pytest.fixture
def outbox(settings, mailoutbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return mailoutbox


def test_each_order_email_is_sent_once_per_key_with_the_order_link(settings, outbox, products_of):
    shirt, mug = _line(next(products_of[WAREHOUSE]), 2), _line(next(products_of[DROPSHIP]))
    order = _order((shirt, mug))
    order_store.write_order(order)
    number = order.order_number
    shipped = OrderEmailRequest(number, OrderEmailKind.SHIPPED, f"shipped:{number}-so-1",
                                tracking_number="HRN123456789012", carrier="Heron Post", skus=(shirt.sku,))
    cancelled = OrderEmailRequest(number, OrderEmailKind.CANCELLED, "cancelled", reason="Sold out at the supplier")
    refunded = OrderEmailRequest(number, OrderEmailKind.REFUNDED, "refund:upd-1", amount_cents=1_234)

    for request in (shipped, shipped, cancelled, refunded, cancelled, refunded):
        run(activities.send_email, request)

    assert [message.subject for message in outbox] == [
        f"Your order {number} from {settings.SHOP_NAME} is on its way",
        f"Your order {number} at {settings.SHOP_NAME} was cancelled",
        f"A refund for your order {number} at {settings.SHOP_NAME}",
    ]
    link = access.order_url(number, settings.SHOP_BASE_URL)
    for message in outbox:
        assert message.to == [order.email] and link in message.body and link in message.alternatives[0][0]
    ship_text, ship_html = outbox[0].body, outbox[0].alternatives[0][0]
    assert "HRN123456789012" in ship_text and "Heron Post" in ship_text and "HRN123456789012" in ship_html
    assert shirt.name in ship_text and mug.name not in ship_text  # only the parcel's items
    assert "Sold out at the supplier" in outbox[1].body
    assert "$12.34" in outbox[2].body and "$12.34" in outbox[2].alternatives[0][0]
    for key in (shipped.key, "cancelled", "refund:upd-1"):
        assert emails.email_sent(number, key)


def test_an_email_for_an_unknown_order_or_of_an_unknown_kind_is_refused_for_good(outbox):
    missing = new_order_number(_rng.getrandbits(ORDER_NUMBER_BITS))

    unknown_order = refusal(activities.send_email, OrderEmailRequest(missing, OrderEmailKind.CANCELLED, "cancelled"))
    unknown_kind = refusal(activities.send_email, OrderEmailRequest(missing, "surprise", "surprise"))

    assert (unknown_order.type, unknown_order.non_retryable) == (activities.ORDER_NOT_FOUND, True)
    assert (unknown_kind.type, unknown_kind.non_retryable) == (OrderErrors.INVALID_REQUEST, True)
    assert outbox == []


# -- fulfillment -------------------------------------------------------------------------------------

async def test_fulfillment_is_started_once_and_told_to_cancel_and_a_finished_or_missing_one_is_fine(
        temporal_client):
    order = _order((CheckoutLine("SKU-X", "x", "X", "", "", 1_000, 1, "", "res-x"),))
    request = FulfillmentRequest(order.order_number, order.shipping_address, order.lines, ())
    environment = ActivityEnvironment(client=temporal_client)
    handle = temporal_client.get_workflow_handle(fulfillment_workflow_id(order.order_number))

    await environment.run(activities.start_fulfillment, request)
    first = await handle.describe()
    await environment.run(activities.start_fulfillment, request)  # a retry
    await environment.run(activities.cancel_fulfillment, order.order_number)
    second = await handle.describe()
    signals = [event.workflow_execution_signaled_event_attributes.signal_name
               async for event in handle.fetch_history_events()
               if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]
    await handle.terminate("test over")
    await environment.run(activities.cancel_fulfillment, order.order_number)  # finished: nothing to stop
    await environment.run(activities.cancel_fulfillment, _order(order.lines).order_number)  # never started

    assert first.run_id == second.run_id and first.status == WorkflowExecutionStatus.RUNNING
    assert signals == [FulfillmentSignals.CANCEL]
