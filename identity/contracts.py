"""Frozen dataclasses exchanged between views, workflows and activities of identity.

Standard library only: workflows import this module.

`StoreConfig` is the store's configuration as workflows see it: built from settings today
(`identity.services.store_config()`), later by the `store-config` workflow entity; workflows get
it as input and never read Django settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TASK_QUEUE = "identity"

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

    def shipping_method(self, code: str) -> ShippingMethod | None:
        return next((method for method in self.shipping_methods if method.code == code), None)

    def tax_rate(self, state: str) -> int:
        return self.tax_basis_points.get(state, self.default_tax_basis_points)
