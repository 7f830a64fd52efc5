"""Activities of identity: all of its I/O (Cassandra, Elasticsearch, other workflows)."""

from datetime import datetime

from temporalio import activity

from identity import config_store, housekeeping, tokens
from identity.contracts import (
    ApiTokenActivities,
    ExpireApiToken,
    IdentityActivities,
    PersistStoreConfig,
    SessionSweepActivities,
    SweptRows,
    TokenRevokeReasons,
)


@activity.defn(name=IdentityActivities.PERSIST_STORE_CONFIG)
def persist_store_config(request: PersistStoreConfig) -> None:
    """Write a new version of the store configuration and its change record to Cassandra."""
    config_store.write(request.config, request.change)


@activity.defn(name=ApiTokenActivities.EXPIRE)
def expire_api_token(request: ExpireApiToken) -> str:
    """Mark the token revoked ("expired") unless it already is; answers the reason it has now
    ("revoked" when the tokens page got there first, "" when no such token was ever stored)."""
    return tokens.mark_revoked(request.token_id, TokenRevokeReasons.EXPIRED, datetime.fromisoformat(request.at))


@activity.defn(name=SessionSweepActivities.SWEEP)
def sweep_expired_sessions() -> SweptRows:
    """Delete expired session rows and expired database-cache entries."""
    return housekeeping.sweep()
