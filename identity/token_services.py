"""What the tokens page and the partner API call for API tokens, returning contracts (async).

- `create_token` checks the request (name, scopes: `orders:write` for staff only, an expiry from
  TOKEN_EXPIRY_DAYS), starts the token's workflow (`token-{id}`: it revokes the token at expiry) and
  only then stores the token, so every stored token has a workflow; the token string is answered once
  and never again (only its secret's SHA-256 is kept).
- `revoke_token` marks the token revoked in Cassandra first (the API reads that row on every request,
  so the token is refused from that moment, whether or not Temporal answers), then signals its workflow
  to end. Why not an update that writes before answering: revocation is the one token action that must
  never wait on, or fail with, Temporal or its worker; the signal is only tidying up (a workflow that
  missed it would find the token revoked at expiry and change nothing).
- `authenticate` turns an `Authorization: Bearer` value into an `ApiPrincipal`, or raises
  `TokenInvalid` with the reason (unknown, malformed, revoked, expired, owner gone): the API answers 401.

Errors: `TokenRefused` (a bad request; its message says what), `TokenNotFound`, `TokensUnavailable`
(Cassandra or Temporal did not answer; nothing was changed, except as the message says).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from asgiref.sync import sync_to_async
from cassandra import DriverException
from cassandra.cluster import NoHostAvailable
from django.contrib.auth import get_user_model
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from commerce import ratelimit
from commerce.temporal import get_client
from identity import tokens
from identity.contracts import (
    MAX_ACTIVE_TOKENS,
    MAX_TOKEN_NAME_LENGTH,
    MAX_TOKENS_PER_OWNER,
    MAX_TOKENS_SCANNED,
    TASK_QUEUE,
    TOKEN_EXPIRY_DAYS,
    TOKENS_CREATED_PER_HOUR,
    ApiTokenInput,
    ApiTokenSignals,
    RevokeApiToken,
    TokenRevokeReasons,
    TokenScopes,
    TokenView,
    api_token_workflow_id,
)
from identity.workflows import ApiTokenWorkflow

__all__ = ["ApiPrincipal", "CreatedToken", "TokenError", "TokenInvalid", "TokenNotFound", "TokenRefused",
           "TokensUnavailable", "authenticate", "create_token", "owner_tokens", "revoke_token", "scope_choices"]

logger = logging.getLogger(__name__)

STORE_DOWN = "The token store (Cassandra) is not answering just now; try again in a moment."
TEMPORAL_DOWN = "The token service (Temporal) is not answering just now; no token was made. Try again in a moment."


class TokenError(Exception):
    """Base of what these functions raise: `str()` is the message to show."""


class TokenRefused(TokenError):
    pass


class TokenNotFound(TokenError):
    pass


class TokenInvalid(TokenError):
    pass


class TokensUnavailable(TokenError):
    pass


@dataclass(frozen=True)
class CreatedToken:
    token: TokenView
    secret: str  # the whole token string: shown once, never stored


@dataclass(frozen=True)
class ApiPrincipal:
    """Who an API request acts for: the token and its owner as the auth database has them now."""

    token: TokenView
    owner_id: str
    email: str
    username: str
    is_staff: bool
    user: object = field(default=None, compare=False, repr=False)  # the auth user, for permission checks

    async def has_perm(self, permission: str) -> bool:
        """The owner's Django permission (a staff member's role), checked now."""
        if self.user is None or not self.is_staff:
            return False
        return await sync_to_async(self.user.has_perm)(permission)

    def has_scope(self, scope: str) -> bool:
        # A staff-only scope stops working the moment its owner stops being staff.
        if scope in TokenScopes.STAFF_ONLY and not self.is_staff:
            return False
        return scope in self.token.scopes


def scope_choices(is_staff: bool) -> list[tuple[str, str]]:
    return [(scope, TokenScopes.LABELS[scope]) for scope in TokenScopes.ALL
            if is_staff or scope not in TokenScopes.STAFF_ONLY]


def _now() -> datetime:
    return datetime.now(UTC)


async def _store(call, *args):
    try:
        return await sync_to_async(call, thread_sensitive=False)(*args)
    except (NoHostAvailable, DriverException) as error:
        logger.warning("api tokens: cassandra unavailable: %s", error)
        raise TokensUnavailable(STORE_DOWN) from error


def _clean_name(name: str) -> str:
    text = " ".join(name.split()) if isinstance(name, str) else ""
    if not text:
        raise TokenRefused("Give the token a name (what will use it).")
    if len(text) > MAX_TOKEN_NAME_LENGTH or not text.isprintable():
        raise TokenRefused(f"A token's name is at most {MAX_TOKEN_NAME_LENGTH} printable characters.")
    return text


def _clean_scopes(scopes, is_staff: bool) -> tuple[str, ...]:
    if isinstance(scopes, str) or not scopes or len(scopes) > len(TokenScopes.ALL):
        raise TokenRefused("Choose at least one scope.")
    chosen = set(scopes)
    unknown = chosen - set(TokenScopes.ALL)
    if unknown:
        raise TokenRefused("Choose scopes from the list.")
    if not is_staff and chosen & set(TokenScopes.STAFF_ONLY):
        raise TokenRefused("Only staff members may give a token the orders:write scope.")
    return tuple(scope for scope in TokenScopes.ALL if scope in chosen)


async def create_token(owner_id: str, is_staff: bool, name: str, scopes, expires_in_days: int,
                       now: datetime | None = None) -> CreatedToken:
    """A new token for `owner_id` (the auth user's id). Raises TokenRefused, TokensUnavailable."""
    name = _clean_name(name)
    chosen = _clean_scopes(scopes, is_staff)
    if isinstance(expires_in_days, bool) or expires_in_days not in TOKEN_EXPIRY_DAYS:
        raise TokenRefused(f"Choose an expiry of {', '.join(map(str, TOKEN_EXPIRY_DAYS))} days.")
    created_at = now or _now()
    if not await ratelimit.allow("token-create", owner_id, TOKENS_CREATED_PER_HOUR, 3600):
        raise TokenRefused(f"An account may make {TOKENS_CREATED_PER_HOUR} tokens an hour; try again later.")
    # Every token of the account counts, not only the newest listed: an active one is never pushed
    # out of sight (and out of reach of its Revoke button) by newer ones.
    listed = await _store(tokens.tokens_of, owner_id, MAX_TOKENS_SCANNED)
    if sum(token.active_at(created_at) for token in listed) >= MAX_ACTIVE_TOKENS:
        raise TokenRefused(f"You have {MAX_ACTIVE_TOKENS} active tokens, the most one account may hold; "
                           f"revoke one you no longer use first.")
    expires_at = created_at + timedelta(days=expires_in_days)
    token_id, secret, text = tokens.new_token()
    try:
        client = await get_client()
        await client.start_workflow(ApiTokenWorkflow.run, ApiTokenInput(token_id, owner_id, expires_at.isoformat()),
                                    id=api_token_workflow_id(token_id), task_queue=TASK_QUEUE)
    except (RuntimeError, RPCError, WorkflowAlreadyStartedError) as error:
        logger.warning("api tokens: workflow for %s not started: %s", token_id, error)
        raise TokensUnavailable(TEMPORAL_DOWN) from error
    try:
        view = await _store(tokens.write_token, token_id, owner_id, name, chosen, tokens.hash_secret(secret),
                            created_at, expires_at)
    except TokensUnavailable:
        await _signal_revoke(token_id, "system")  # a workflow with no token: end it (best effort)
        raise
    return CreatedToken(view, text)


async def owner_tokens(owner_id: str) -> list[TokenView]:
    """The owner's tokens for the page, newest first: every active one, and the newest revoked or
    expired ones up to MAX_TOKENS_PER_OWNER in all. Raises TokensUnavailable."""
    listed = await _store(tokens.tokens_of, owner_id, MAX_TOKENS_SCANNED)
    now = _now()
    active = sum(token.active_at(now) for token in listed)
    room = max(0, MAX_TOKENS_PER_OWNER - active)
    shown = []
    for token in listed:
        if token.active_at(now):
            shown.append(token)
        elif room:
            shown.append(token)
            room -= 1
    return shown


async def _signal_revoke(token_id: str, actor: str) -> bool:
    try:
        client = await get_client()
        await client.get_workflow_handle(api_token_workflow_id(token_id)).signal(
            ApiTokenSignals.REVOKE, RevokeApiToken(actor, _now().isoformat()))
        return True
    except (RuntimeError, RPCError) as error:  # ended already, or Temporal down: the row decides
        logger.info("api tokens: revoke signal for %s not delivered: %s", token_id, error)
        return False


async def revoke_token(owner_id: str, token_id: str, actor: str) -> TokenView:
    """Revoke one of the owner's tokens now (a token already revoked or expired stays as it is).
    Raises TokenNotFound (not the owner's: the same as no such token), TokensUnavailable."""
    found = await _store(tokens.read_token, token_id) if isinstance(token_id, str) else None
    if found is None or found[0].owner_id != owner_id:
        raise TokenNotFound("There is no such token.")
    await _store(tokens.mark_revoked, token_id, TokenRevokeReasons.REVOKED, _now())
    await _signal_revoke(token_id, actor)
    found = await _store(tokens.read_token, token_id)
    return found[0]


async def authenticate(raw: str, now: datetime | None = None) -> ApiPrincipal:
    """The principal of a bearer token. Raises TokenInvalid (why), TokensUnavailable."""
    parsed = tokens.parse_token(raw)
    if parsed is None:
        raise TokenInvalid("That is not an API token of this shop.")
    token_id, secret = parsed
    found = await _store(tokens.read_token, token_id)
    if found is None or not tokens.secret_matches(secret, found[1]):
        raise TokenInvalid("That token is not valid.")
    token = found[0]
    now = now or _now()
    status = token.status_at(now)
    if status == TokenRevokeReasons.REVOKED:
        raise TokenInvalid("That token has been revoked.")
    if status == TokenRevokeReasons.EXPIRED:
        raise TokenInvalid("That token has expired.")
    user = await get_user_model().objects.filter(pk=_user_pk(token.owner_id), is_active=True).afirst()
    if user is None:
        raise TokenInvalid("That token's account is closed.")
    try:
        await sync_to_async(tokens.touch, thread_sensitive=False)(token, now)
    except (NoHostAvailable, DriverException) as error:  # a missed "last used" is not worth a refusal
        logger.warning("api tokens: last use of %s not recorded: %s", token_id, error)
    return ApiPrincipal(token=token, owner_id=token.owner_id, email=user.email or user.get_username(),
                        username=user.get_username(), is_staff=bool(user.is_staff), user=user)


def _user_pk(owner_id: str) -> int:
    return int(owner_id) if owner_id.isdigit() and len(owner_id) < 19 else -1
