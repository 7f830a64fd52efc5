"""Frozen dataclasses exchanged between views, workflows and activities of identity.

Standard library only: workflows import this module.

`StoreConfig` is the store's configuration as workflows see it: kept by the `store-config` workflow
entity (`StoreConfigWorkflow`), persisted to Cassandra, read by the web tier through
`identity.config.store_config()` (a per-process copy) and by activities fresh; workflows get it as
input (cart, checkout) or through an activity (the order's settings), never from Django settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
