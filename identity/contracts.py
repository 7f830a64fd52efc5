"""Frozen dataclasses exchanged between views, workflows and activities of identity.

Standard library only: workflows import this module.

`StoreConfig` is the store's configuration as workflows see it: kept by the `store-config` workflow
entity (`StoreConfigWorkflow`), persisted to Cassandra, read by the web tier through
`identity.config.store_config()` (a per-process copy) and by activities fresh; workflows get it as
input (cart, checkout) or through an activity (the order's settings), never from Django settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

TASK_QUEUE = "identity"
# One store configuration per shop: an entity workflow on the identity queue.
STORE_CONFIG_WORKFLOW_ID = "store-config"

# US states and territories a shop ships to: code -> name (the shipping form's choices).
US_STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts",
    "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico",
    "NY": "New York", "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "PR": "Puerto Rico", "RI": "Rhode Island", "SC": "South Carolina",
    "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}


@dataclass(frozen=True)
class ShippingMethod:
    code: str
    label: str
    price_cents: int
    days: str  # "3-5 business days"


@dataclass(frozen=True)
class StoreConfig:
    store_name: str = "Heron & Co."
    currency: str = "USD"
    # Tax in basis points (1/100 of a percent) by destination state; others pay the default.
    tax_basis_points: dict[str, int] = field(default_factory=dict)
    default_tax_basis_points: int = 800
    shipping_methods: tuple[ShippingMethod, ...] = ()
    approval_threshold_cents: int = 100_000
    approval_timeout_seconds: int = 48 * 3600  # an order awaiting approval this long is cancelled
    refund_window_seconds: int = 30 * 24 * 3600  # a delivered order stays open for refunds this long
    manual_fulfillment: bool = False
    hold_ttl_seconds: int = 15 * 60
    checkout_step_timeout_seconds: int = 60 * 60
    max_declined_attempts: int = 5
    declined_lockout_seconds: int = 30 * 60
    # Bumped by the store-config workflow on every change; 0 is the settings-built default. Last, with
    # a default, so cart/checkout/order inputs recorded before it still decode.
    version: int = 0

    def shipping_method(self, code: str) -> ShippingMethod | None:
        return next((method for method in self.shipping_methods if method.code == code), None)

    def tax_rate(self, state: str) -> int:
        return self.tax_basis_points.get(state, self.default_tax_basis_points)


# -- the store configuration entity -----------------------------------------------------------------

class IdentityWorkflows:
    STORE_CONFIG = "StoreConfig"
    API_TOKEN = "ApiToken"  # one per API token: `token-{token_id}`
    SESSION_SWEEP = "SessionSweep"  # one per shop: `session-sweep`


class StoreConfigUpdates:
    CHANGE = "change_store_config"


class StoreConfigQueries:
    GET = "get_store_config"


class IdentityActivities:
    PERSIST_STORE_CONFIG = "persist_store_config"


class StoreConfigErrors:
    """ApplicationError types of the store configuration: refusals a retry cannot change."""

    INVALID = "InvalidStoreConfig"  # the new configuration breaks a rule (the message says which)
    STALE = "StaleStoreConfig"  # it was decided on an older version than the current one
    UNAVAILABLE = "StoreConfigUnavailable"  # it could not be persisted: nothing changed


MAX_ACTOR_LENGTH = 150
MAX_REASON_LENGTH = 200
# Changes a run keeps for its query (and carries over continue-as-new); Cassandra keeps them all.
KEPT_CHANGES = 50


@dataclass(frozen=True)
class StoreConfigChange:
    """One applied change: who, when (workflow time, ISO 8601), what (a line per changed field)."""

    version: int
    actor: str
    changed_at: str
    summary: tuple[str, ...] = ()
    reason: str = ""
    action_id: str = ""


@dataclass(frozen=True)
class ChangeStoreConfig:
    """The update's request: the whole new configuration as decided on `expected_version`; the
    action id makes a repeated request (a form sent twice) apply once, across continue-as-new too."""

    actor: str
    config: StoreConfig
    expected_version: int
    action_id: str
    reason: str = ""


@dataclass(frozen=True)
class StoreConfigInput:
    config: StoreConfig
    changes: tuple[StoreConfigChange, ...] = ()
    continue_as_new_after: int = 100  # changes per run


@dataclass(frozen=True)
class StoreConfigState:
    """The query's answer: the current configuration (with its version) and the latest changes, oldest first."""

    config: StoreConfig
    changes: tuple[StoreConfigChange, ...] = ()


@dataclass(frozen=True)
class StoreConfigChanged:
    """The update's answer: the configuration now and the change that made it (`applied` False when
    this action id had been applied before: nothing changed again)."""

    config: StoreConfig
    change: StoreConfigChange
    applied: bool = True


@dataclass(frozen=True)
class PersistStoreConfig:
    """What the workflow hands its persist activity: the new configuration and its change record."""

    config: StoreConfig
    change: StoreConfigChange


# -- API tokens ---------------------------------------------------------------------------------------
#
# A partner API token is `hc_<token_id>_<secret>`: the id finds the row (`api_tokens`), the secret is
# 256 random bits kept only as its SHA-256. One `ApiTokenWorkflow` per token (`token-{token_id}`, on
# this queue) sleeps until the token's expiry and then marks it revoked ("expired") through an
# activity; a `revoke` signal (sent after the tokens page has already marked it revoked in Cassandra)
# ends it early. The API refuses a token past `expires_at` on its own, whatever the workflow did.

class TokenScopes:
    CATALOG_READ = "catalog:read"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"  # staff only
    ALL = (CATALOG_READ, ORDERS_READ, ORDERS_WRITE)
    STAFF_ONLY = (ORDERS_WRITE,)
    LABELS = {
        CATALOG_READ: "Read the catalog (products, prices, availability)",
        ORDERS_READ: "Read orders (your own; staff: all)",
        ORDERS_WRITE: "Act on orders (approve, cancel, refund, notes, retry payment) - staff only",
    }


class TokenRevokeReasons:
    EXPIRED = "expired"
    REVOKED = "revoked"


class ApiTokenSignals:
    REVOKE = "revoke"


class ApiTokenQueries:
    STATE = "token_state"


class ApiTokenActivities:
    EXPIRE = "expire_api_token"


TOKEN_PREFIX = "hc"
TOKEN_EXPIRY_DAYS = (7, 30, 90, 365)
MAX_TOKEN_NAME_LENGTH = 60
MAX_TOKENS_PER_OWNER = 50  # the tokens page lists every active token and the newest others up to this many
MAX_TOKENS_SCANNED = 1000  # an owner's tokens read to find the active ones (creation is rate limited)
TOKENS_CREATED_PER_HOUR = 10  # per account
MAX_ACTIVE_TOKENS = 20  # active tokens one account may hold at once


def api_token_workflow_id(token_id: str) -> str:
    return f"token-{token_id}"


@dataclass(frozen=True)
class ApiTokenInput:
    token_id: str
    owner_id: str
    expires_at: str  # ISO 8601, UTC


@dataclass(frozen=True)
class RevokeApiToken:
    """The `revoke` signal: who revoked it (the row is already marked; this ends the workflow)."""

    actor: str
    at: str = ""  # ISO 8601


@dataclass(frozen=True)
class ExpireApiToken:
    """The expiry activity's request: mark the token revoked ("expired") unless it is already."""

    token_id: str
    at: str  # ISO 8601, workflow time


@dataclass(frozen=True)
class ApiTokenOutcome:
    """How a token's workflow ended (and its query's answer while it runs: `reason` "" = active)."""

    token_id: str
    reason: str = ""  # TokenRevokeReasons, "" while active
    at: str = ""  # ISO 8601
    actor: str = ""


@dataclass(frozen=True)
class TokenView:
    """A token as its owner's page shows it (never the secret, never its hash)."""

    token_id: str
    owner_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime | None
    expires_at: datetime | None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_reason: str = ""

    def status_at(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return self.revoked_reason or TokenRevokeReasons.REVOKED
        if self.expires_at is None or self.expires_at <= now:
            return TokenRevokeReasons.EXPIRED
        return "active"

    def active_at(self, now: datetime) -> bool:
        return self.status_at(now) == "active"


# -- sweeping expired sessions and cache entries ------------------------------------------------------
#
# Django deletes an expired session row only when `clearsessions` runs, and the database cache culls
# expired entries only while it writes: one `SessionSweep` workflow (`session-sweep`, on this queue)
# deletes both on its own timer, started (if not running) by the identity worker. No cron.

SESSION_SWEEP_WORKFLOW_ID = "session-sweep"
MIN_SESSION_SWEEP_SECONDS = 60


class SessionSweepActivities:
    SWEEP = "sweep_expired_sessions"


@dataclass(frozen=True)
class SessionSweepInput:
    interval_seconds: int = 3600
    rounds_per_run: int = 100  # sweeps before the run continues as new


@dataclass(frozen=True)
class SweptRows:
    sessions: int = 0
    cache_entries: int = 0
