"""The cart pages: thin async views over cart.services. Every change is a POST with CSRF,
answered with a redirect and a message (the cart is never changed by a GET)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from cart import services
from cart.forms import AddToCartForm, CouponForm, RemoveItemForm, SetQuantityForm, first_error

CART_SESSION_KEY = "cart_id"
COUNT_SESSION_KEY = "cart_count"


async def _cart_id(request, create: bool) -> str | None:
    cart_id = await request.session.aget(CART_SESSION_KEY)
    if cart_id is None and create:
        cart_id = services.new_cart_id()
        await request.session.aset(CART_SESSION_KEY, cart_id)
    return cart_id


async def _remember_count(request, view) -> None:
    await request.session.aset(COUNT_SESSION_KEY, view.item_count)


def _back(request, fallback: str = "/cart/"):
    target = request.POST.get("next") or request.headers.get("referer") or fallback
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = fallback
    return redirect(target)


async def _change(request, form_class, call, fallback="/cart/"):
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return _back(request, fallback)
    cart_id = await _cart_id(request, create=True)
    try:
        view = await call(cart_id, form.cleaned_data)
    except services.CartRefusal as refusal:
        messages.error(request, str(refusal))
        return _back(request, fallback)
    await _remember_count(request, view)
    if view.message:
        messages.success(request, view.message)
    return _back(request, fallback)


@require_GET
async def cart_page(request):
    view = await services.get_cart(await _cart_id(request, create=False))
    await _remember_count(request, view)
    return render(request, "cart/cart.html", {"cart": view})


@require_POST
async def add(request):
    return await _change(request, AddToCartForm, lambda cart_id, data: services.add_item(
        cart_id, data["sku"], data["quantity"], data["nonce"]))


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
