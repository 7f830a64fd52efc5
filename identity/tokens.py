"""API tokens in Cassandra (`api_tokens`, `api_tokens_by_owner`) and how a token string is made and checked.

A token is `hc_<token_id>_<secret>`: `token_id` is 16 hex digits (the row's key, shown on the tokens
page), `secret` is 32 random bytes (256 bits) in URL-safe base64. Only `sha256(secret)` is stored.
A fast hash is enough here, unlike for passwords: the secret is random and 256 bits long, so there is
nothing to guess from a leaked hash and no dictionary to slow down, and the API checks a token on every
request, where Argon2's deliberate cost (tens of milliseconds and megabytes each) would be paid per
call. The comparison is constant-time.

No Temporal here: the services start the token's workflow; its activity calls `mark_revoked`.
Revocation is a lightweight transaction (`IF revoked_at = null`), so the first reason stands: a token
revoked from the page is never later relabelled "expired", nor the other way round.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime

from commerce.cassandra import prepare, session, table
from identity.contracts import TOKEN_PREFIX, TokenView
from identity.models import ApiToken, ApiTokenByOwner

_TOKEN = re.compile(rf"{TOKEN_PREFIX}_([0-9a-f]{{16}})_([A-Za-z0-9_-]{{43}})")
TOKEN_ID = re.compile(r"[0-9a-f]{16}")
MAX_TOKEN_LENGTH = 100
# last_used_at is written at most this often per token: a busy partner costs no write per request.
LAST_USED_RESOLUTION_SECONDS = 60


def new_token() -> tuple[str, str, str]:
    """(token_id, secret, the token string the owner is shown once)."""
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return token_id, secret, f"{TOKEN_PREFIX}_{token_id}_{secret}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(text: str) -> tuple[str, str] | None:
    """(token_id, secret) of a well-formed token string, else None."""
    if not isinstance(text, str) or len(text) > MAX_TOKEN_LENGTH:
        return None
    found = _TOKEN.fullmatch(text.strip())
    return (found.group(1), found.group(2)) if found else None


def secret_matches(secret: str, secret_hash: str) -> bool:
    return bool(secret_hash) and hmac.compare_digest(hash_secret(secret), secret_hash)


def _utc(moment: datetime | None) -> datetime | None:
    """Cassandra's timestamps come back naive (UTC)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _view(row: ApiToken) -> TokenView:
    return TokenView(token_id=row.token_id, owner_id=row.owner_id, name=row.name,
                     scopes=tuple(sorted(row.scopes or ())),
                     created_at=_utc(row.created_at), expires_at=_utc(row.expires_at),
                     last_used_at=_utc(row.last_used_at), revoked_at=_utc(row.revoked_at),
                     revoked_reason=row.revoked_reason or "")


def _millis(moment: datetime) -> datetime:
    """As Cassandra keeps it (milliseconds), so what is written is what is read back."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def write_token(token_id: str, owner_id: str, name: str, scopes: tuple[str, ...], secret_hash: str,
                created_at: datetime, expires_at: datetime) -> TokenView:
    """The token's row, then its owner's list row. Raises the driver's errors."""
    created_at, expires_at = _millis(created_at), _millis(expires_at)
    row = ApiToken.create(token_id=token_id, owner_id=owner_id, name=name, scopes=set(scopes), secret_hash=secret_hash,
                          created_at=created_at, expires_at=expires_at, revoked_reason="")
    ApiTokenByOwner.create(owner_id=owner_id, created_at=created_at, token_id=token_id)
    return _view(row)


def read_token(token_id: str) -> tuple[TokenView, str] | None:
    """The token and its secret's hash, or None."""
    if not TOKEN_ID.fullmatch(token_id or ""):
        return None
    row = ApiToken.objects.filter(token_id=token_id).first()
    return (_view(row), row.secret_hash or "") if row is not None else None


def tokens_of(owner_id: str, limit: int) -> list[TokenView]:
    """An owner's tokens, newest first (a list row whose token row is gone is skipped)."""
    ids = [row.token_id for row in ApiTokenByOwner.objects.filter(owner_id=owner_id).limit(limit)]
    if not ids:
        return []
    rows = {row.token_id: row for row in ApiToken.objects.filter(token_id__in=ids)}
    return [_view(rows[token_id]) for token_id in ids if token_id in rows and rows[token_id].owner_id == owner_id]


def mark_revoked(token_id: str, reason: str, at: datetime) -> str:
    """Mark the token revoked for `reason` unless it already is; the reason it has now ("" when
    there is no such token). Raises the driver's errors."""
    found = read_token(token_id)
    if found is None:
        return ""  # never create a row: `IF revoked_at = null` would on a missing one
    if found[0].revoked_at is not None:
        return found[0].revoked_reason or reason
    # cqlengine has no "IF column = null": the lightweight transaction is raw CQL.
    statement = prepare(f"UPDATE {table('api_tokens')} SET revoked_at = ?, revoked_reason = ? "
                        f"WHERE token_id = ? IF revoked_at = null")
    if session().execute(statement, [_millis(at), reason, token_id]).was_applied:
        return reason
    found = read_token(token_id)
    return (found[0].revoked_reason or reason) if found else ""


def touch(token: TokenView, now: datetime) -> None:
    """Record a use, at most once a LAST_USED_RESOLUTION_SECONDS per token."""
    if token.last_used_at is not None and (now - token.last_used_at).total_seconds() < LAST_USED_RESOLUTION_SECONDS:
        return
    ApiToken.objects.filter(token_id=token.token_id).update(last_used_at=_millis(now))
