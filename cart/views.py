"""The cart pages: thin async views over cart.services. Every change is a POST with CSRF,
answered with a redirect and a message (the cart is never changed by a GET).

When the cart service does not answer, a change is answered 503 with the same form, nonce included,
so sending it again applies it once; a cart that cannot be read is a 503 page, never an empty cart.
"""

import logging

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from cart import services
from cart.forms import AddToCartForm, CouponForm, RemoveItemForm, SetQuantityForm, first_error
from commerce import ratelimit

logger = logging.getLogger(__name__)

CART_SESSION_KEY = "cart_id"
COUNT_SESSION_KEY = "cart_count"
# A guest cart whose merge into the shopper's cart did not finish at sign-in: tried again on the
# next cart request (the merge's update id applies it once).
MERGE_PENDING_KEY = "cart_merge_pending"
MERGE_LATER = ("Your cart from before you signed in could not be added to your account's cart just now; "
               "it will be added shortly.")
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


async def _shopper_id(request) -> str:
    """The signed-in shopper's id ("" for a guest)."""
    user = await request.auser()
    return str(user.pk) if user.is_authenticated else ""


async def cart_id_for(request) -> str | None:
    """This request's cart: a signed-in shopper's from `carts_by_shopper` (one read by key, so the
    cart follows them to any browser), a guest's from the session. The session mirrors the shopper's
    cart id. Raises services.CartUnavailable when the pointer cannot be read."""
    shopper_id = await _shopper_id(request)
    if not shopper_id:
        return await request.session.aget(CART_SESSION_KEY)
    if pending := await request.session.aget(MERGE_PENDING_KEY):
        await _adopt(request, shopper_id, pending, quiet=True, resume=True)
    cart_id = await services.shopper_cart_id(shopper_id) or None
    session_cart = await request.session.aget(CART_SESSION_KEY)
    if session_cart and session_cart != cart_id and not await request.session.aget(MERGE_PENDING_KEY):
        # This session has a cart that is not the shopper's: signed in some other way than the sign-in
        # page, or the shopper's cart moved on elsewhere (an order placed). Brought along as at sign-in
        # (a cart that has ended is just dropped).
        await _adopt(request, shopper_id, session_cart)
        if not await request.session.aget(MERGE_PENDING_KEY):
            return await request.session.aget(CART_SESSION_KEY) or None
    if await request.session.aget(MERGE_PENDING_KEY):
        # The merge is not done yet: the shopper's cart is used meanwhile, or this session's if they
        # have none; the session keeps the guest cart's id until the merge is done.
        return cart_id or session_cart
    if cart_id != session_cart:
        if cart_id:
            await request.session.aset(CART_SESSION_KEY, cart_id)
        else:
            await request.session.apop(CART_SESSION_KEY, None)
    return cart_id


async def _new_cart(request, shopper_id: str, nonce: str, replacing: str = "") -> str:
    """A new cart's id; a signed-in shopper's is claimed in `carts_by_shopper` first (compare-and-set:
    when another request gave them a cart meanwhile, that one is used)."""
    cart_id = services.new_cart_id(nonce)
    if shopper_id:
        cart_id = await services.claim_cart(shopper_id, cart_id, replacing=replacing)
    await request.session.aset(CART_SESSION_KEY, cart_id)
    return cart_id


async def _change(request, form_class, call, creates_cart: bool = False):
    """`call(cart_id, cleaned_data, new_cart)` makes the change; `new_cart` when this request made the id."""
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect(_back_url(request))
    shopper_id = await _shopper_id(request)
    new_cart = False
    try:
        cart_id = await cart_id_for(request)
        if cart_id is None:
            if not creates_cart:
                messages.info(request, NO_CART)
                return redirect(_back_url(request))
            if not await ratelimit.allow("cart-creation", request.META.get("REMOTE_ADDR", ""),
                                         settings.CART_CREATIONS_PER_MINUTE):
                messages.error(request, TOO_MANY_CARTS)
                return _retry(request, form, status=429)
            cart_id = await _new_cart(request, shopper_id, form.cleaned_data["nonce"])
            new_cart = True
        try:
            view = await call(cart_id, form.cleaned_data, new_cart)
        except services.CartCompleted:
            # The cart became an order (the shopper left before its confirmation): start afresh.
            await request.session.apop(CART_SESSION_KEY, None)
            if not creates_cart:
                messages.info(request, NO_CART)
                return redirect(_back_url(request))
            cart_id = await _new_cart(request, shopper_id, form.cleaned_data["nonce"], replacing=cart_id)
            view = await call(cart_id, form.cleaned_data, True)
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


@require_safe
async def cart_page(request):
    try:
        view = await services.get_cart(await cart_id_for(request))
    except services.CartUnavailable as unavailable:
        messages.error(request, str(unavailable))
        return render(request, "cart/cart.html", {"cart": None}, status=503)
    await request.session.aset(COUNT_SESSION_KEY, view.item_count)
    return render(request, "cart/cart.html", {"cart": view, "can_check_out": _route_exists(CHECKOUT_ROUTE)})


@require_POST
async def add(request):
    return await _change(request, AddToCartForm, lambda cart_id, data, new_cart: services.add_item(
        cart_id, data["sku"], data["quantity"], data["nonce"], new_cart=new_cart), creates_cart=True)


@require_POST
async def update(request):
    return await _change(request, SetQuantityForm, lambda cart_id, data, _new: services.set_quantity(
        cart_id, data["sku"], data["quantity"]))


@require_POST
async def remove(request):
    return await _change(request, RemoveItemForm, lambda cart_id, data, _new: services.remove_item(
        cart_id, data["sku"]))


@require_POST
async def coupon(request):
    return await _change(request, CouponForm, lambda cart_id, data, _new: services.apply_coupon(
        cart_id, data["code"]))


async def _adopt(request, shopper_id: str, guest_id: str, quiet: bool = False, resume: bool = False) -> None:
    """Bring the guest cart along to the shopper's (services.adopt_guest_cart); when it cannot finish
    now, it is tried again (`resume`) on the next cart request."""
    try:
        adoption = await services.adopt_guest_cart(shopper_id, guest_id, resume=resume)
    except services.CartCompleted as completed:
        # The cart the lines were going into became an order meanwhile (a pending merge whose first
        # answer was lost, then a checkout): nothing is left to merge into; the next add starts afresh.
        logger.warning("cart: merge of %s for shopper %s dropped: %s became an order", guest_id, shopper_id,
                       completed)
        await request.session.apop(MERGE_PENDING_KEY, None)
        await request.session.apop(CART_SESSION_KEY, None)
        return
    except (services.CartUnavailable, services.CartRefusal) as error:
        logger.warning("cart: merge of %s for shopper %s not done: %s", guest_id, shopper_id, error)
        await request.session.aset(MERGE_PENDING_KEY, guest_id)
        if not quiet:
            messages.warning(request, MERGE_LATER)
        return
    await request.session.apop(MERGE_PENDING_KEY, None)
    if adoption.cart_id:
        await request.session.aset(CART_SESSION_KEY, adoption.cart_id)
    else:
        await request.session.apop(CART_SESSION_KEY, None)
    for text in adoption.messages:
        messages.success(request, text)
    for text in adoption.warnings:
        messages.warning(request, text)


async def after_login(request) -> None:
    """Called by the login view right after `alogin`: this session's guest cart follows the shopper.
    No cart of theirs yet: it becomes theirs. Both: it merges into theirs (capped lines named in a
    message) and ends. Never fails the sign-in: a merge that cannot finish now is retried later."""
    shopper_id = await _shopper_id(request)
    if not shopper_id:
        return
    guest_id = await request.session.aget(CART_SESSION_KEY) or ""
    await _adopt(request, shopper_id, guest_id)
    await _recount(request)


async def _recount(request) -> None:
    """The page header's count becomes the shopper's cart's (empty when it cannot be read now: the
    next cart page sets it)."""
    count = 0
    cart_id = await request.session.aget(CART_SESSION_KEY)
    if cart_id and not await request.session.aget(MERGE_PENDING_KEY):
        try:
            count = (await services.get_cart(cart_id)).item_count
        except services.CartUnavailable:
            pass
    await request.session.aset(COUNT_SESSION_KEY, count)
