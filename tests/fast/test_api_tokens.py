"""API tokens without a store: the token string's format and bounds, the secret's hash, a token's
status at a given moment, and the requests create_token refuses before it touches anything."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from identity import token_services, tokens
from identity.contracts import TokenView


def test_a_new_token_parses_back_to_its_id_and_a_256_bit_secret_kept_only_as_sha256():
    token_id, secret, text = tokens.new_token()
    assert text == f"hc_{token_id}_{secret}" and tokens.parse_token(text) == (token_id, secret)
    assert len(secret) == 43  # 32 random bytes in URL-safe base64
    assert tokens.hash_secret(secret) == hashlib.sha256(secret.encode()).hexdigest()
    assert tokens.secret_matches(secret, tokens.hash_secret(secret))
    assert not tokens.secret_matches(secret[:-1] + "x", tokens.hash_secret(secret))
    assert not tokens.secret_matches(secret, "")
    assert len({tokens.new_token()[0] for _ in range(100)}) == 100


@pytest.mark.parametrize("text", ["", "hc_", "hc_0123456789abcdef_", "xx_0123456789abcdef_" + "a" * 43,
                                  "hc_0123456789ABCDEF_" + "a" * 43, "hc_0123456789abcdef_" + "a" * 42,
                                  "hc_0123456789abcdef_" + "a" * 44, "hc_0123456789abcdef_" + "a" * 42 + "!",
                                  "x" * 10_000, None, 42])
def test_anything_but_a_well_formed_token_is_refused_before_any_read(text):
    assert tokens.parse_token(text) is None


def test_a_tokens_status_follows_revocation_then_expiry():
    now = datetime(2026, 6, 1, tzinfo=UTC)
    token = TokenView("0123456789abcdef", "1", "n", ("catalog:read",), now - timedelta(days=1), now + timedelta(days=1))
    assert token.status_at(now) == "active" and token.active_at(now)
    assert token.status_at(now + timedelta(days=1)) == "expired"
    revoked = TokenView(**{**token.__dict__, "revoked_at": now, "revoked_reason": "revoked"})
    assert revoked.status_at(now) == "revoked" and not revoked.active_at(now)


@pytest.mark.parametrize("name,scopes,days,is_staff,message", [
    ("", ["catalog:read"], 30, False, "Give the token a name"),
    ("x" * 61, ["catalog:read"], 30, False, "at most 60"),
    ("tab\tin\x00name", ["catalog:read"], 30, False, "printable"),
    ("ok", [], 30, False, "at least one scope"),
    ("ok", "catalog:read", 30, False, "at least one scope"),
    ("ok", ["catalog:write"], 30, False, "from the list"),
    ("ok", ["orders:write"], 30, False, "Only staff"),
    ("ok", ["catalog:read"], 31, True, "expiry"),
    ("ok", ["catalog:read"], True, True, "expiry"),
])
async def test_create_token_refuses_a_bad_request_before_touching_a_store(name, scopes, days, is_staff, message):
    with pytest.raises(token_services.TokenRefused, match=message):
        await token_services.create_token("1", is_staff, name, scopes, days)


def test_only_staff_are_offered_orders_write():
    assert "orders:write" not in dict(token_services.scope_choices(False))
    assert "orders:write" in dict(token_services.scope_choices(True))
