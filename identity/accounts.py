"""Shopper accounts: what the account views (and the cart, the checkout and the API) call. Async.

- The login is Django auth (SQL): `User.username` and `User.email` are the normalized email
  (orders.store.normalize_email), which never changes; passwords hashed with Argon2 (settings).
- The shop's side is a Cassandra profile (`shoppers`: name, when the email was verified) and saved
  addresses (`shopper_addresses`), keyed by `shopper_id = str(user.pk)`; identity.shoppers holds the
  CQL. A profile missing (Cassandra was down at registration) is made on first read.
- Verifying the email is a signed, expiring link (`TimestampSigner`, salt `identity.verify-email`,
  like orders.access): it marks the profile verified and starts the orders app's linking workflow,
  which gives the email's guest orders to the shopper.

Errors: `AccountRefusal` (a message for the shopper: a taken email, a full address book, a bad
link), `AccountsUnavailable` (Cassandra, the mail server or Temporal did not answer; nothing is
half-done that a retry would not complete).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from asgiref.sync import sync_to_async
from cassandra import DriverException
from cassandra.cluster import NoHostAvailable
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.core.signing import BadSignature, SignatureExpired, TimestampSigner
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from checkout.contracts import Address
from commerce import ratelimit
from identity import shoppers
from identity.contracts import US_STATES
from orders import services as order_services
from orders.store import normalize_email

__all__ = [
    "AccountRefusal", "AccountsUnavailable", "SavedAddress", "ShopperProfile", "VerifyOutcome",
    "register", "profile", "update_name", "saved_addresses", "saved_address", "save_address", "delete_address",
    "verification_token", "verification_url", "send_verification", "verify_email", "link_on_sign_in",
    "send_password_reset",
    "password_reset_user", "set_password_from_reset", "axes_username", "normalize_email", "MAX_EMAIL_LENGTH",
    "MAX_NAME_LENGTH",
]

logger = logging.getLogger(__name__)

MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 100
MAX_TOKEN_LENGTH = 300
VERIFY_SALT = "identity.verify-email"
EMAIL_TAKEN = "An account with this email already exists. Sign in, or reset your password if you forgot it."
BAD_LINK = "This verification link is not valid. Send a new one from your profile."
EXPIRED_LINK = "This verification link has expired. Send a new one from your profile."
POSTAL_CODE = re.compile(r"^[0-9]{5}(-[0-9]{4})?$")
# Bounds of a saved address: the checkout's shipping form's (checkout/forms.py).
_ADDRESS_BOUNDS = {"full_name": (1, 100), "line1": (1, 100), "line2": (0, 100), "city": (1, 60)}


class AccountRefusal(Exception):
    """Refused, with a message for the shopper (`str()`); nothing changed."""


class AccountsUnavailable(Exception):
    """A store the accounts need did not answer; `str()` says which, for the shopper."""


@dataclass(frozen=True)
class SavedAddress:
    address_id: str
    address: Address  # email "" in storage: fill in the account email on use


@dataclass(frozen=True)
class ShopperProfile:
    shopper_id: str
    email: str
    full_name: str
    email_verified_at: datetime | None

    @property
    def verified(self) -> bool:
        return self.email_verified_at is not None


@dataclass(frozen=True)
class VerifyOutcome:
    profile: ShopperProfile
    newly_verified: bool  # False: the email was verified before (the link was used again)
    linking_started: bool  # False: Temporal did not take the linking workflow; open the link again


def _profile(row: shoppers.ShopperRow) -> ShopperProfile:
    return ShopperProfile(row.shopper_id, row.email, row.full_name, row.email_verified_at)


async def _cassandra(function, *args):
    """A blocking store call in a thread; Cassandra down is AccountsUnavailable."""
    try:
        return await sync_to_async(function, thread_sensitive=False)(*args)
    except (NoHostAvailable, DriverException) as error:
        logger.warning("accounts: cassandra unavailable: %s", error)
        raise AccountsUnavailable("Your account details are unavailable right now; please try again shortly.") \
            from error


# -- registration and the profile ------------------------------------------------------------------

def _create_user(email: str, password: str):
    users = get_user_model()
    if users.objects.filter(username=email).exists():
        raise AccountRefusal(EMAIL_TAKEN)
    try:
        with transaction.atomic():
            return users.objects.create_user(username=email, email=email, password=password)
    except IntegrityError:  # registered at the same moment by another request
        raise AccountRefusal(EMAIL_TAKEN) from None


async def register(email: str, full_name: str, password: str):
    """A new shopper: the Django user (username and email the normalized email, the password hashed
    with Argon2) and the Cassandra profile. Raises AccountRefusal when the email has an account. The
    form has validated the fields (lengths, Django's password validators). Returns the user."""
    email = normalize_email(email)
    if not email or len(email) > MAX_EMAIL_LENGTH:
        raise AccountRefusal("Enter a valid email address.")
    user = await sync_to_async(_create_user)(email, password)
    try:
        await _cassandra(shoppers.create_shopper, str(user.pk), email, full_name.strip()[:MAX_NAME_LENGTH])
    except AccountsUnavailable:
        logger.warning("accounts: profile of %s not written now; made on first read", user.pk)
    return user


async def profile(user) -> ShopperProfile:
    """The signed-in user's profile (made now from the account if it is missing). Raises
    AccountsUnavailable."""
    shopper_id = str(user.pk)
    row = await _cassandra(shoppers.read_shopper, shopper_id)
    if row is None:
        row = await _cassandra(shoppers.create_shopper, shopper_id, normalize_email(user.email or user.username), "")
    return _profile(row)


async def update_name(user, full_name: str) -> ShopperProfile:
    full_name = full_name.strip()
    if not 1 <= len(full_name) <= MAX_NAME_LENGTH:
        raise AccountRefusal(f"Enter your name (at most {MAX_NAME_LENGTH} characters).")
    current = await profile(user)
    await _cassandra(shoppers.set_full_name, current.shopper_id, full_name)
    return replace(current, full_name=full_name)


# -- saved addresses ---------------------------------------------------------------------------------

def _max_addresses() -> int:
    return settings.ACCOUNT_MAX_ADDRESSES


def _clean_address(address: Address) -> Address:
    """The address with fields stripped and email "", or AccountRefusal naming what is wrong."""
    if not isinstance(address, Address):
        raise AccountRefusal("That is not an address.")
    values = {}
    for name, (low, high) in _ADDRESS_BOUNDS.items():
        value = getattr(address, name)
        value = value.strip() if isinstance(value, str) else ""
        if not low <= len(value) <= high:
            label = {"full_name": "name", "line1": "address", "line2": "apartment or suite", "city": "city"}[name]
            raise AccountRefusal(f"Enter the {label} (at most {high} characters)." if low
                                 else f"The {label} is at most {high} characters.")
        values[name] = value
    state = address.state.strip().upper() if isinstance(address.state, str) else ""
    if state not in US_STATES:
        raise AccountRefusal("Choose a US state.")
    postal_code = address.postal_code.strip() if isinstance(address.postal_code, str) else ""
    if not POSTAL_CODE.fullmatch(postal_code):
        raise AccountRefusal("Enter a US ZIP code: 5 digits, or 5+4 like 94110-1234.")
    if address.country not in ("US", "", None):
        raise AccountRefusal("We ship to the United States only.")
    return Address(email="", state=state, postal_code=postal_code, country="US", **values)


def _same(one: Address, other: Address) -> bool:
    def key(address: Address) -> tuple:
        return tuple(" ".join(str(getattr(address, name)).split()).casefold()
                     for name in ("full_name", "line1", "line2", "city", "state", "postal_code", "country"))
    return key(one) == key(other)


def _saved(rows: list[tuple[str, Address]]) -> tuple[SavedAddress, ...]:
    return tuple(SavedAddress(address_id, address) for address_id, address in rows[:_max_addresses()])


async def saved_addresses(shopper_id: str) -> tuple[SavedAddress, ...]:
    """The shopper's saved addresses, oldest first (email ""). Raises AccountsUnavailable."""
    if not shopper_id:
        return ()
    return _saved(await _cassandra(shoppers.list_addresses, shopper_id))


async def saved_address(shopper_id: str, address_id: str) -> SavedAddress | None:
    """One of the shopper's own saved addresses by id, or None (another shopper's id finds nothing)."""
    if not isinstance(address_id, str) or len(address_id) > 40:
        return None
    return next((saved for saved in await saved_addresses(shopper_id) if saved.address_id == address_id), None)


async def save_address(shopper_id: str, address: Address) -> SavedAddress:
    """Save an address to the shopper's account: validated like the checkout's shipping form, an
    identical one already saved is returned instead of a copy, at most ACCOUNT_MAX_ADDRESSES.
    Raises AccountRefusal (invalid, or the limit reached) and AccountsUnavailable."""
    if not shopper_id:
        raise AccountRefusal("Sign in to save addresses.")
    address = _clean_address(address)
    limit = _max_addresses()
    current = await _cassandra(shoppers.list_addresses, shopper_id)
    for address_id, saved in current:
        if _same(saved, address):
            return SavedAddress(address_id, saved)
    if len(current) >= limit:
        raise AccountRefusal(f"You can save at most {limit} addresses; delete one first.")
    address_id = await _cassandra(shoppers.add_address, shopper_id, address)
    # Two saves at once may both have seen room for one more: the later ones step back.
    after = await _cassandra(shoppers.list_addresses, shopper_id)
    if address_id not in [saved_id for saved_id, _ in after[:limit]]:
        await _cassandra(shoppers.delete_address, shopper_id, address_id)
        raise AccountRefusal(f"You can save at most {limit} addresses; delete one first.")
    return SavedAddress(address_id, address)


async def delete_address(shopper_id: str, address_id: str) -> None:
    """Delete one of the shopper's saved addresses (an unknown id deletes nothing)."""
    if not shopper_id or not isinstance(address_id, str) or len(address_id) > 40:
        return
    await _cassandra(shoppers.delete_address, shopper_id, address_id)


# -- verifying the email -------------------------------------------------------------------------------

def _signer() -> TimestampSigner:
    return TimestampSigner(salt=VERIFY_SALT)


def verification_token(shopper_id: str, email: str) -> str:
    return _signer().sign_object({"s": shopper_id, "e": normalize_email(email)})


def verification_url(shopper_id: str, email: str) -> str:
    path = reverse("identity:verify", kwargs={"token": verification_token(shopper_id, email)})
    return f"{settings.SHOP_BASE_URL}{path}"


async def may_send_verification(shopper_id: str) -> bool:
    """Counts one "send the link again" against ACCOUNT_VERIFY_EMAILS_PER_HOUR for this shopper."""
    return await ratelimit.allow("verify-email", shopper_id, settings.ACCOUNT_VERIFY_EMAILS_PER_HOUR, 3600)


def _send(subject: str, template: str, context: dict, to: str) -> None:
    send_mail(subject, render_to_string(template, context), settings.DEFAULT_FROM_EMAIL, [to])


async def send_verification(user, full_name: str = "") -> None:
    """Email the verification link to the account email. Raises AccountsUnavailable when the mail
    server does not take it."""
    email = normalize_email(user.email or user.username)
    context = {"url": verification_url(str(user.pk), email), "full_name": full_name,
               "shop_name": settings.SHOP_NAME, "max_age_hours": settings.ACCOUNT_VERIFY_LINK_MAX_AGE_HOURS}
    try:
        await sync_to_async(_send, thread_sensitive=False)(
            f"Verify your email for {settings.SHOP_NAME}", "identity/email/verify.txt", context, email)
    except OSError as error:  # SMTP refused or unreachable
        logger.warning("accounts: verification email to %s not sent: %s", user.pk, error)
        raise AccountsUnavailable("We could not send the email just now; please try again shortly.") from error


async def verify_email(token: str) -> VerifyOutcome:
    """Check the link, mark the profile's email verified (the first time is kept) and start linking
    the email's guest orders. Raises AccountRefusal for a bad or expired link, AccountsUnavailable."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise AccountRefusal(BAD_LINK)
    try:
        claim = _signer().unsign_object(token, max_age=timedelta(hours=settings.ACCOUNT_VERIFY_LINK_MAX_AGE_HOURS))
    except SignatureExpired:
        raise AccountRefusal(EXPIRED_LINK) from None
    except (BadSignature, ValueError):
        raise AccountRefusal(BAD_LINK) from None
    if not isinstance(claim, dict) or not isinstance(claim.get("s"), str) or not isinstance(claim.get("e"), str):
        raise AccountRefusal(BAD_LINK)
    shopper_id, email = claim["s"], claim["e"]
    user = await get_user_model().objects.filter(pk=shopper_id if shopper_id.isdigit() else -1,
                                                 is_active=True).afirst()
    if user is None or normalize_email(user.email or user.username) != email:
        raise AccountRefusal(BAD_LINK)
    current = await profile(user)
    newly = await _cassandra(shoppers.mark_verified, shopper_id, email)
    if newly or current.email_verified_at is None:
        current = await profile(user)
    if current.email_verified_at is None:  # the profile holds another email: not this account's link
        raise AccountRefusal(BAD_LINK)
    try:
        await order_services.start_linking(shopper_id, email)
        started = True
    except order_services.LinkingUnavailable:
        started = False
    return VerifyOutcome(current, newly, started)


async def link_on_sign_in(user) -> None:
    """A verified shopper signing in: guest orders placed with the email since verification (signed
    out) join the account too. Best effort: a store or Temporal down leaves them for the next time."""
    try:
        current = await profile(user)
        if current.verified:
            await order_services.start_linking(current.shopper_id, current.email)
    except (AccountsUnavailable, order_services.LinkingUnavailable) as error:
        logger.info("accounts: no linking at sign-in of %s: %s", user.pk, error)


# -- password reset by email -------------------------------------------------------------------------

def _reset_target(email: str):
    users = get_user_model()
    user = users.objects.filter(username=email, is_active=True).first()
    return user if user is not None and user.has_usable_password() else None


async def send_password_reset(email: str, client: str) -> None:
    """Email a reset link when an active account has this email; say nothing either way (the page
    reads the same). At most ACCOUNT_PASSWORD_RESETS_PER_HOUR emails per address and per client."""
    email = normalize_email(email)
    if not email or len(email) > MAX_EMAIL_LENGTH:
        return
    limit = settings.ACCOUNT_PASSWORD_RESETS_PER_HOUR
    if not (await ratelimit.allow("password-reset-client", client, limit * 5, 3600)
            and await ratelimit.allow("password-reset-email", email, limit, 3600)):
        return
    user = await sync_to_async(_reset_target)(email)
    if user is None:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("identity:password-reset-confirm", kwargs={"uidb64": uid, "token": token})
    context = {"url": f"{settings.SHOP_BASE_URL}{path}", "shop_name": settings.SHOP_NAME,
               "max_age_hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600)}
    try:
        await sync_to_async(_send, thread_sensitive=False)(
            f"Reset your password for {settings.SHOP_NAME}", "identity/email/password_reset.txt", context, email)
    except OSError as error:
        logger.warning("accounts: reset email to %s not sent: %s", user.pk, error)
        raise AccountsUnavailable("We could not send the email just now; please try again shortly.") from error


async def password_reset_user(uidb64: str, token: str):
    """The user a reset link is for, or None when the link is malformed, used (the password changed
    since: the token covers the hash) or expired (PASSWORD_RESET_TIMEOUT)."""
    if not isinstance(uidb64, str) or not isinstance(token, str) or len(uidb64) > 40 or len(token) > 100:
        return None
    try:
        pk = force_str(urlsafe_base64_decode(uidb64))
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    if not pk.isdigit():
        return None
    user = await get_user_model().objects.filter(pk=int(pk), is_active=True).afirst()
    if user is None or not await sync_to_async(default_token_generator.check_token)(user, token):
        return None
    return user


async def set_password_from_reset(form) -> None:
    """Save the reset form's new password (the link dies with the old hash) and lift sign-in
    lockouts of the account: whoever reset it by email owns the mailbox."""
    from axes.utils import reset as reset_lockouts

    user = await sync_to_async(form.save)()
    await sync_to_async(reset_lockouts)(username=normalize_email(user.username))


# -- django-axes --------------------------------------------------------------------------------------

def axes_username(request, credentials: dict | None = None) -> str:
    """AXES_USERNAME_CALLABLE: failures count per normalized email (Grace@x and grace@x are one)."""
    value = (credentials or {}).get("username")
    if value is None and request is not None and request.method == "POST":
        value = request.POST.get("username", "")
    return normalize_email(str(value or ""))[:MAX_EMAIL_LENGTH]
