"""The cart pages: thin async views over cart.services. Every change is a POST with CSRF,
answered with a redirect and a message (the cart is never changed by a GET).

When the cart service does not answer, a change is answered 503 with the same form, nonce included,
so sending it again applies it once; a cart that cannot be read is a 503 page, never an empty cart.
"""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from cart import ratelimit, services
from cart.forms import AddToCartForm, CouponForm, RemoveItemForm, SetQuantityForm, first_error

CART_SESSION_KEY = "cart_id"
COUNT_SESSION_KEY = "cart_count"
CHECKOUT_ROUTE = "checkout:start"
TOO_MANY_CARTS = "You have started too many carts in the last minute; please wait a minute and try again."
NO_CART = "Your cart is empty."


def _route_exists(name: str) -> bool:
    """A page links to a route only once it exists."""
    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


def _back_url(request) -> str:
    target = request.POST.get("next") or request.headers.get("referer") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("cart")
    return target


def _retry(request, form, status: int):
    """The form as it was sent (nonce included), to send again: the change applies once."""
    return render(request, "cart/retry.html", {
        "action": request.path, "fields": form.cleaned_data.items(), "next": _back_url(request),
    }, status=status)


async def _change(request, form_class, call, creates_cart: bool = False):
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect(_back_url(request))
    cart_id = await request.session.aget(CART_SESSION_KEY)
    if cart_id is None:
        if not creates_cart:
            messages.info(request, NO_CART)
            return redirect(_back_url(request))
        if not await ratelimit.allow("cart-creation", request.META.get("REMOTE_ADDR", ""),
                                     settings.CART_CREATIONS_PER_MINUTE):
            messages.error(request, TOO_MANY_CARTS)
            return _retry(request, form, status=429)
        cart_id = services.new_cart_id(form.cleaned_data["nonce"])
        await request.session.aset(CART_SESSION_KEY, cart_id)
    try:
        try:
            view = await call(cart_id, form.cleaned_data)
        except services.CartCompleted:
            # The cart became an order (the shopper left before its confirmation): start afresh.
            await request.session.apop(CART_SESSION_KEY, None)
            if not creates_cart:
                messages.info(request, NO_CART)
                return redirect(_back_url(request))
            cart_id = services.new_cart_id(form.cleaned_data["nonce"])
            await request.session.aset(CART_SESSION_KEY, cart_id)
            view = await call(cart_id, form.cleaned_data)
    except services.CartRefusal as refusal:
        messages.error(request, str(refusal))
        return redirect(_back_url(request))
    except services.CartUnavailable as unavailable:
        messages.error(request, str(unavailable))
        return _retry(request, form, status=503)
    await request.session.aset(COUNT_SESSION_KEY, view.item_count)
    # The session carries the cart's id: it lives as long as an idle cart does, from each change.
    await request.session.aset_expiry(settings.CART_IDLE_EXPIRY_SECONDS)
    if view.message:
        messages.success(request, view.message)
    return redirect(_back_url(request))


@require_GET
async def cart_page(request):
    try:
        view = await services.get_cart(await request.session.aget(CART_SESSION_KEY))
    except services.CartUnavailable as unavailable:
        messages.error(request, str(unavailable))
        return render(request, "cart/cart.html", {"cart": None}, status=503)
    await request.session.aset(COUNT_SESSION_KEY, view.item_count)
    return render(request, "cart/cart.html", {"cart": view, "can_check_out": _route_exists(CHECKOUT_ROUTE)})


@require_POST
async def add(request):
    return await _change(request, AddToCartForm, lambda cart_id, data: services.add_item(
        cart_id, data["sku"], data["quantity"], data["nonce"]), creates_cart=True)


@require_POST
async def update(request):
    return await _change(request, SetQuantityForm, lambda cart_id, data: services.set_quantity(
        cart_id, data["sku"], data["quantity"]))


@require_POST
async def remove(request):
    return await _change(request, RemoveItemForm, lambda cart_id, data: services.remove_item(cart_id, data["sku"]))


@require_POST
async def coupon(request):
    return await _change(request, CouponForm, lambda cart_id, data: services.apply_coupon(cart_id, data["code"]))
