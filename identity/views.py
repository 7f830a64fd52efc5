"""Web views of identity: thin, they call services (identity.accounts).

Shopper accounts: register, sign in and out, the profile (name, verified email, saved addresses),
password change and reset by email, email verification. Every change is a CSRF-protected POST
answered with a redirect and a message; bad input re-renders the form with its message (400) and
changes nothing. Sign-in goes through Django's `authenticate` with the request, so django-axes
counts failures per email and address and refuses a locked-out login (429, `locked_out`).
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import alogin, alogout, aupdate_session_auth_hash, authenticate
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cart import views as cart_views
from commerce import ratelimit
from commerce.views import unavailable
from identity import accounts
from identity.forms import (
    AddressDeleteForm,
    AddressForm,
    LoginForm,
    NameForm,
    PasswordResetRequestForm,
    RegisterForm,
)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
BAD_LOGIN = "That email and password do not match an account."
TOO_MANY_REGISTRATIONS = "Too many accounts were created from here in the last hour; please try again later."
TOO_MANY_VERIFY_EMAILS = "We sent you several links already; please wait a while before asking again."


def _client(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _next(request, target: str | None) -> str:
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return reverse("identity:profile")


async def _signed_in(request):
    """The signed-in user, or None."""
    user = await request.auser()
    return user if user.is_authenticated else None


def _private(response):
    # Account pages (and the links with tokens) stay out of search engines and other sites' referrers.
    # Not "no-referrer": browsers then send `Origin: null` with the page's form POSTs, and Django's CSRF
    # check refuses them (403).
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    return response


# -- register, sign in, sign out ---------------------------------------------------------------------

@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
async def register(request):
    if await _signed_in(request):
        return redirect("identity:profile")
    if request.method != "POST":
        return _private(render(request, "identity/register.html", {"form": RegisterForm()}))
    form = RegisterForm(request.POST)
    if not await sync_to_async(form.is_valid)():
        return _private(render(request, "identity/register.html", {"form": form}, status=400))
    if not await ratelimit.allow("register", _client(request), settings.ACCOUNT_REGISTRATIONS_PER_HOUR, 3600):
        messages.error(request, TOO_MANY_REGISTRATIONS)
        return _private(render(request, "identity/register.html", {"form": form}, status=429))
    data = form.cleaned_data
    try:
        user = await accounts.register(data["email"], data["full_name"], data["password1"])
    except accounts.AccountRefusal as refusal:
        form.add_error("email", str(refusal))
        return _private(render(request, "identity/register.html", {"form": form}, status=400))
    await alogin(request, user, backend=MODEL_BACKEND)
    await cart_views.after_login(request)
    try:
        await accounts.send_verification(user, data["full_name"])
        messages.success(request, f"Welcome! We sent a link to {user.email}: open it to verify your email.")
    except accounts.AccountsUnavailable as error:
        messages.warning(request, f"Welcome! {error} Send the verification link again from this page.")
    return redirect("identity:profile")


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
async def login(request):
    if request.method != "POST":
        if await _signed_in(request):
            return redirect(_next(request, request.GET.get("next")))
        form = LoginForm(initial={"next": request.GET.get("next", "")[:500]})
        return _private(render(request, "identity/login.html", {"form": form}))
    form = LoginForm(request.POST)
    if not form.is_valid():
        return _private(render(request, "identity/login.html", {"form": form}, status=400))
    data = form.cleaned_data
    # Sync `authenticate` in a thread: django-axes' backend has no async variant; Argon2 runs off the loop.
    user = await sync_to_async(authenticate)(request, username=data["username"], password=data["password"])
    if user is None:
        if getattr(request, "axes_locked_out", False):
            return locked_out(request)
        form.add_error(None, BAD_LOGIN)
        return _private(render(request, "identity/login.html", {"form": form}, status=400))
    await alogin(request, user)
    await cart_views.after_login(request)
    await accounts.link_on_sign_in(user)
    return redirect(_next(request, data.get("next")))


def locked_out(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the shop's page for a locked-out sign-in (429); the password is not
    checked while locked, right or wrong."""
    cooloff = settings.AXES_COOLOFF_TIME
    minutes = max(1, int(cooloff.total_seconds() // 60)) if cooloff else 0
    response = render(request, "identity/locked_out.html", {"minutes": minutes}, status=429)
    if minutes:
        response["Retry-After"] = str(minutes * 60)
    return _private(response)


@require_POST
async def logout(request):
    """Ends the session (its row is deleted): the cart stays with the account for the next sign-in."""
    await alogout(request)
    messages.info(request, "You are signed out.")
    return redirect("home")


# -- the profile ---------------------------------------------------------------------------------------

async def _profile_page(request, user, status: int = 200, name_form=None, address_form=None):
    try:
        shopper = await accounts.profile(user)
        addresses = await accounts.saved_addresses(shopper.shopper_id)
    except accounts.AccountsUnavailable as error:
        return unavailable(request, str(error))
    return _private(render(request, "identity/profile.html", {
        "shopper": shopper,
        "addresses": addresses,
        "max_addresses": settings.ACCOUNT_MAX_ADDRESSES,
        "name_form": name_form or NameForm(initial={"full_name": shopper.full_name}),
        "address_form": address_form or AddressForm(initial={"full_name": shopper.full_name}),
    }, status=status))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
async def profile(request):
    """GET: the profile; POST: change the name."""
    user = await request.auser()
    if request.method != "POST":
        return await _profile_page(request, user)
    form = NameForm(request.POST)
    if not form.is_valid():
        return await _profile_page(request, user, status=400, name_form=form)
    try:
        await accounts.update_name(user, form.cleaned_data["full_name"])
    except accounts.AccountRefusal as refusal:
        messages.error(request, str(refusal))
    except accounts.AccountsUnavailable as error:
        return unavailable(request, str(error))
    else:
        messages.success(request, "Your name is saved.")
    return redirect("identity:profile")


@require_POST
@login_required
async def address_add(request):
    user = await request.auser()
    form = AddressForm(request.POST)
    if not form.is_valid():
        return await _profile_page(request, user, status=400, address_form=form)
    try:
        await accounts.save_address(str(user.pk), form.address())
    except accounts.AccountRefusal as refusal:
        messages.error(request, str(refusal))
        return await _profile_page(request, user, status=400, address_form=form)
    except accounts.AccountsUnavailable as error:
        return unavailable(request, str(error))
    messages.success(request, "The address is saved.")
    return redirect("identity:profile")


@require_POST
@login_required
async def address_delete(request):
    user = await request.auser()
    form = AddressDeleteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That address is not one of yours.")
        return redirect("identity:profile")
    try:
        await accounts.delete_address(str(user.pk), form.cleaned_data["address_id"])
    except accounts.AccountsUnavailable as error:
        return unavailable(request, str(error))
    messages.success(request, "The address is deleted.")
    return redirect("identity:profile")


# -- verifying the email ----------------------------------------------------------------------------

@require_POST
@login_required
async def verify_send(request):
    """Send the verification link again (ACCOUNT_VERIFY_EMAILS_PER_HOUR per shopper)."""
    user = await request.auser()
    try:
        shopper = await accounts.profile(user)
        if shopper.verified:
            messages.info(request, "Your email is already verified.")
        elif not await accounts.may_send_verification(shopper.shopper_id):
            messages.error(request, TOO_MANY_VERIFY_EMAILS)
        else:
            await accounts.send_verification(user, shopper.full_name)
            messages.success(request, f"We sent a new link to {shopper.email}.")
    except accounts.AccountsUnavailable as error:
        messages.error(request, str(error))
    return redirect("identity:profile")


@never_cache
@require_safe
async def verify(request, token: str):
    try:
        outcome = await accounts.verify_email(token)
    except accounts.AccountRefusal as refusal:
        return _private(render(request, "identity/verify.html", {"error": str(refusal)}, status=400))
    except accounts.AccountsUnavailable as error:
        return unavailable(request, str(error))
    return _private(render(request, "identity/verify.html", {"outcome": outcome}))


# -- passwords -----------------------------------------------------------------------------------------

@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
async def password_change(request):
    user = await request.auser()
    form = PasswordChangeForm(user, request.POST if request.method == "POST" else None)
    if request.method != "POST":
        return _private(render(request, "identity/password_change.html", {"form": form}))
    if not await sync_to_async(form.is_valid)():
        return _private(render(request, "identity/password_change.html", {"form": form}, status=400))
    await sync_to_async(form.save)()
    await aupdate_session_auth_hash(request, user)  # this session stays signed in; others are signed out
    messages.success(request, "Your password is changed.")
    return redirect("identity:profile")


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
async def password_reset(request):
    if request.method != "POST":
        return _private(render(request, "identity/password_reset.html", {"form": PasswordResetRequestForm()}))
    form = PasswordResetRequestForm(request.POST)
    if not form.is_valid():
        return _private(render(request, "identity/password_reset.html", {"form": form}, status=400))
    try:
        await accounts.send_password_reset(form.cleaned_data["email"], _client(request))
    except accounts.AccountsUnavailable as error:
        messages.error(request, str(error))
        return _private(render(request, "identity/password_reset.html", {"form": form}, status=503))
    return redirect("identity:password-reset-sent")


@never_cache
@require_safe
async def password_reset_sent(request):
    return _private(render(request, "identity/password_reset_sent.html", {}))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
async def password_reset_confirm(request, uidb64: str, token: str):
    """The emailed link: a form for the new password while the link is good. A used link (the password
    changed since), an expired or a tampered one is refused with a page saying so (400)."""
    user = await accounts.password_reset_user(uidb64, token)
    if user is None:
        return _private(render(request, "identity/password_reset_confirm.html", {"invalid": True}, status=400))
    form = SetPasswordForm(user, request.POST if request.method == "POST" else None)
    if request.method != "POST":
        return _private(render(request, "identity/password_reset_confirm.html", {"form": form}))
    if not await sync_to_async(form.is_valid)():
        return _private(render(request, "identity/password_reset_confirm.html", {"form": form}, status=400))
    await accounts.set_password_from_reset(form)
    messages.success(request, "Your password is set. Sign in with it now.")
    return redirect("identity:login")
