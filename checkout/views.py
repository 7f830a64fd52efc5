"""The checkout pages: thin async views over checkout.services. Every change is a POST with CSRF,
answered with a redirect to the step the checkout is at (visiting a step out of order lands there)."""

from __future__ import annotations

import uuid
from dataclasses import replace

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cart.services import CartUnavailable
from cart.views import cart_id_for
from checkout import services
from checkout.contracts import Address, CheckoutErrors, CheckoutStep, ShippingChoice, checkout_workflow_id
from checkout.forms import PaymentForm, ShippingForm, SubmitForm
from commerce.views import unavailable
from identity import accounts
from identity.services import astore_config
from orders.services import remember_placed_order

CART_SESSION_KEY = "cart_id"
COUNT_SESSION_KEY = "cart_count"
LAST_CHECKOUT_KEY = "last_checkout_id"
# The checkout whose review page was shown: its submit goes straight to it (see `submit`).
REVIEWED_CHECKOUT_KEY = "reviewed_checkout_id"
STEP_PAGES = {
    CheckoutStep.SHIPPING: "checkout:shipping",
    CheckoutStep.PAYMENT: "checkout:payment",
    CheckoutStep.REVIEW: "checkout:review",
    CheckoutStep.PROCESSING: "checkout:processing",
    CheckoutStep.COMPLETE: "checkout:complete",
}
# Each form page may be shown at its own step or, going back, from a later one.
PAGE_SHOWN_AT = {
    "shipping": (CheckoutStep.SHIPPING, CheckoutStep.PAYMENT, CheckoutStep.REVIEW),
    "payment": (CheckoutStep.PAYMENT, CheckoutStep.REVIEW),
    "review": (CheckoutStep.REVIEW,),
    "processing": (CheckoutStep.PROCESSING,),
}
UNAVAILABLE = "Checkout is unavailable right now; your cart is safe. Please try again in a moment."


ADDRESSES_UNAVAILABLE = "Your saved addresses cannot be shown just now; enter the address below."
NOT_SAVED = "The address is used for this order but was not saved to your account: {reason}"


def _to_step(view):
    return redirect(STEP_PAGES.get(view.step, "cart"))


async def _cart_id(request) -> str | None:
    """The request's cart (a signed-in shopper's from their account: the cart follows them)."""
    try:
        return await cart_id_for(request)
    except CartUnavailable as error:
        raise services.CheckoutUnavailable(str(error)) from error


async def _checkout(request, page: str):
    """(view, None) when `page` may be shown now, else (None, the response to send instead)."""
    try:
        view = await services.current(await _cart_id(request))
    except services.CheckoutUnavailable:
        return None, unavailable(request, UNAVAILABLE)
    if view is None:
        messages.info(request, "Your cart is not in checkout.")
        return None, redirect("cart")
    if view.step == CheckoutStep.COMPLETE:
        await _remember_completed(request, view)
        return None, redirect("checkout:complete")
    if view.step in (CheckoutStep.CANCELLED, CheckoutStep.FAILED):
        if view.message:
            messages.error(request, view.message)
        return None, redirect("cart")
    if view.step not in PAGE_SHOWN_AT[page]:
        return None, _to_step(view)
    return view, None


async def _remember_completed(request, view) -> None:
    """The order is placed: the next visit starts a fresh cart, and this session may see the order."""
    await request.session.apop(CART_SESSION_KEY, None)
    await request.session.apop(REVIEWED_CHECKOUT_KEY, None)
    await request.session.aset(COUNT_SESSION_KEY, 0)
    await request.session.aset(LAST_CHECKOUT_KEY, view.checkout_id)
    await remember_placed_order(request.session, view.order_number)


async def _page(request, template: str, view, status: int = 200, **context):
    steps = [(step, STEP_PAGES[step], CheckoutStep.FORM_STEPS.index(step)) for step in CheckoutStep.FORM_STEPS]
    current = CheckoutStep.FORM_STEPS.index(view.step) if view.step in CheckoutStep.FORM_STEPS else len(steps)
    return render(request, template, {"checkout": view, "steps": steps, "current_index": current,
                                      "config": await astore_config(), **context}, status=status)


async def _call(request, call, fallback: str):
    """Run a change; a refusal comes back as a message on the page it came from."""
    try:
        return await call(), None
    except services.CheckoutRefusal as refusal:
        messages.error(request, str(refusal))
        return None, redirect(fallback)
    except services.CheckoutUnavailable:
        return None, unavailable(request, UNAVAILABLE)


@require_POST
async def start(request):
    try:
        cart_id = await _cart_id(request)
    except services.CheckoutUnavailable:
        return unavailable(request, UNAVAILABLE)
    if not cart_id:
        messages.error(request, "Your cart is empty.")
        return redirect("cart")
    customer = str(request.user.pk) if (await request.auser()).is_authenticated else ""
    view, refused = await _call(request, lambda: services.begin(cart_id, customer), "cart")
    return refused or _to_step(view)


async def _saved_addresses(request, shopper_id: str) -> tuple:
    """The shopper's saved addresses; none (with a note) when the accounts store does not answer."""
    if not shopper_id:
        return ()
    try:
        return await accounts.saved_addresses(shopper_id)
    except accounts.AccountsUnavailable:
        messages.warning(request, ADDRESSES_UNAVAILABLE)
        return ()


async def _shipping_address(request, form, user, saved) -> Address | None:
    """The address to ship to: a saved one loaded by its id (never from the posted fields), or the
    form's, saved to the account when asked. None when the chosen saved address is not the shopper's."""
    data = form.cleaned_data
    if not user.is_authenticated:
        return Address(data["email"], data["full_name"], data["line1"], data["line2"], data["city"], data["state"],
                       data["postal_code"], data["country"])
    chosen = form.chosen_address_id
    if chosen:
        found = next((item for item in saved if item.address_id == chosen), None)
        return replace(found.address, email=user.email) if found else None
    address = Address(user.email, data["full_name"], data["line1"], data["line2"], data["city"], data["state"],
                      data["postal_code"], data["country"])
    if data.get("save_address"):
        try:
            await accounts.save_address(str(user.pk), replace(address, email=""))
        except (accounts.AccountRefusal, accounts.AccountsUnavailable) as error:
            messages.warning(request, NOT_SAVED.format(reason=error))
        else:
            messages.success(request, "The address is saved to your account.")
    return address


@require_http_methods(["GET", "HEAD", "POST"])
async def shipping(request):
    view, elsewhere = await _checkout(request, "shipping")
    if elsewhere:
        return elsewhere
    config = await astore_config()
    user = await request.auser()
    shopper_id = str(user.pk) if user.is_authenticated else ""
    saved = await _saved_addresses(request, shopper_id)
    form_options = {"methods": config.shipping_methods, "signed_in": bool(shopper_id), "saved": saved}
    if request.method == "POST":
        form = ShippingForm(request.POST, **form_options)
        if form.is_valid():
            address = await _shipping_address(request, form, user, saved)
            if address is not None:
                choice = ShippingChoice(address, form.cleaned_data["shipping_method"])
                view, refused = await _call(request, lambda: services.set_shipping(view.checkout_id, choice),
                                            "checkout:shipping")
                return refused or _to_step(view)
            form.add_error("saved_address", "Choose one of your saved addresses, or a new address.")
        return await _page(request, "checkout/shipping.html", view, form=form, status=400)
    initial = {"shipping_method": config.shipping_methods[0].code, "country": "US"}
    if saved:
        initial["saved_address"] = saved[0].address_id
    if view.shipping:
        initial.update(vars(view.shipping.address), shipping_method=view.shipping.shipping_method)
        same = next((item for item in saved if item.address == replace(view.shipping.address, email="")), None)
        initial["saved_address"] = same.address_id if same else "new"
    return await _page(request, "checkout/shipping.html", view, form=ShippingForm(initial=initial, **form_options))


@require_http_methods(["GET", "HEAD", "POST"])
async def payment(request):
    view, elsewhere = await _checkout(request, "payment")
    if elsewhere:
        return elsewhere
    if request.method == "POST":
        form = PaymentForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                view, refused = await _call(request, lambda: services.set_payment(
                    view.checkout_id, data["card_number"], data["exp_month"], data["exp_year"], data["cvc"],
                    data["cardholder"]), "checkout:payment")
            except services.CardRejected as rejected:
                form.add_error(rejected.field if rejected.field in form.fields else None, str(rejected))
            else:
                return refused or _to_step(view)
        # Never echo the card number or CVC back into the page.
        form.data = form.data.copy()
        for field in ("card_number", "cvc"):
            form.data[field] = ""
        return await _page(request, "checkout/payment.html", view, form=form)
    return await _page(request, "checkout/payment.html", view, form=PaymentForm())


@require_safe
async def review(request):
    view, elsewhere = await _checkout(request, "review")
    if elsewhere:
        return elsewhere
    if await request.session.aget(REVIEWED_CHECKOUT_KEY) != view.checkout_id:
        await request.session.aset(REVIEWED_CHECKOUT_KEY, view.checkout_id)
    return await _page(request, "checkout/review.html", view, nonce=uuid.uuid4().hex)


@require_POST
async def submit(request):
    form = SubmitForm(request.POST)
    if form.is_valid() and (checkout_id := await _reviewed_checkout(request)):
        # The checkout this session reviewed gets the submit at once: its validator checks the step
        # and the total, so the two queries that find the checkout are saved. A checkout not at review
        # any more, or a changed total (also WRONG_STEP), takes the path below: looked up and shown
        # where it is, or refused again there with its message.
        data = form.cleaned_data
        try:
            return _to_step(await services.submit(checkout_id, data["expected_total_cents"], data["nonce"]))
        except services.CheckoutRefusal as refusal:
            if refusal.error_type not in (CheckoutErrors.WRONG_STEP, CheckoutErrors.CHECKOUT_CLOSED):
                messages.error(request, str(refusal))
                return redirect("checkout:review")
        except services.CheckoutUnavailable:
            return unavailable(request, UNAVAILABLE)
    view, elsewhere = await _checkout(request, "review")
    if elsewhere:
        return elsewhere
    if not form.is_valid():
        messages.error(request, "This form is out of date; please review your order again.")
        return redirect("checkout:review")
    data = form.cleaned_data
    view, refused = await _call(request, lambda: services.submit(view.checkout_id, data["expected_total_cents"],
                                                                data["nonce"]), "checkout:review")
    return refused or _to_step(view)


async def _reviewed_checkout(request) -> str:
    """The checkout whose review page this session showed last, if it is a checkout of the request's
    cart ("" otherwise, or when the cart cannot be read now)."""
    checkout_id = await request.session.aget(REVIEWED_CHECKOUT_KEY) or ""
    if not checkout_id:
        return ""
    try:
        cart_id = await _cart_id(request)
    except services.CheckoutUnavailable:
        return ""
    # Checkout ids are `checkout-{cart_id}-{n}`: a checkout of another cart is not submitted from here.
    of_this_cart = checkout_workflow_id(cart_id, 0).removesuffix("0") if cart_id else None
    return checkout_id if of_this_cart and checkout_id.startswith(of_this_cart) else ""


@require_POST
async def cancel(request):
    try:
        view = await services.current(await _cart_id(request))
    except services.CheckoutUnavailable:
        return unavailable(request, UNAVAILABLE)
    if view is None or view.step in CheckoutStep.FINISHED:
        return redirect("cart")
    view, refused = await _call(request, lambda: services.cancel(view.checkout_id), "cart")
    if refused:
        return refused
    messages.success(request, "Checkout cancelled; your cart is as you left it.")
    return redirect("cart")


@require_safe
async def processing(request):
    view, elsewhere = await _checkout(request, "processing")
    if elsewhere:
        return elsewhere
    return await _page(request, "checkout/processing.html", view)


@require_safe
async def complete(request):
    checkout_id = await request.session.aget(LAST_CHECKOUT_KEY)
    try:
        view = await services.get(checkout_id) if checkout_id else None
    except services.CheckoutUnavailable:
        return unavailable(request, UNAVAILABLE)
    if view is None or view.step != CheckoutStep.COMPLETE:
        return redirect("cart")
    order_url = reverse("orders:detail", args=[view.order_number])
    return await _page(request, "checkout/complete.html", view, order_url=order_url)
