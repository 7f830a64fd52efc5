"""The store configuration's rules and the human account of a change: pure, standard library only.

The `store-config` workflow's update validator refuses a configuration with `problems(config)`
(each a sentence staff can read), and its handler records `describe_changes(old, new)` as the
change's summary. No I/O, no clock: workflow code calls both.
"""

from __future__ import annotations

import re

from identity.contracts import US_STATES, ShippingMethod, StoreConfig

MAX_STORE_NAME = 100
MAX_METHODS = 10
MAX_METHOD_LABEL = 50
MAX_METHOD_DAYS = 50
MAX_PRICE_CENTS = 1_000_000  # $10,000 of shipping is a typo
MAX_THRESHOLD_CENTS = 100_000_000  # commerce.money.MAX_CENTS
MAX_BASIS_POINTS = 10_000  # 100 %
METHOD_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
CURRENCY = re.compile(r"[A-Z]{3}")
MINUTE, HOUR, DAY = 60, 3600, 24 * 3600

# (field, least, most, what): durations and counts in their own units, checked alike.
BOUNDS = (
    ("approval_threshold_cents", 0, MAX_THRESHOLD_CENTS, "The approval threshold"),
    ("approval_timeout_seconds", HOUR, 30 * DAY, "The approval timeout"),
    ("refund_window_seconds", 0, 365 * DAY, "The refund window"),
    ("hold_ttl_seconds", MINUTE, DAY, "The hold lifetime"),
    ("checkout_step_timeout_seconds", MINUTE, DAY, "The checkout step timeout"),
    ("max_declined_attempts", 1, 100, "The declined attempts allowed"),
    ("declined_lockout_seconds", MINUTE, 7 * DAY, "The lockout after declined attempts"),
)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _duration(seconds: int) -> str:
    if seconds % DAY == 0:
        return f"{seconds // DAY} d"
    if seconds % HOUR == 0:
        return f"{seconds // HOUR} h"
    if seconds % MINUTE == 0:
        return f"{seconds // MINUTE} min"
    return f"{seconds} s"


def _bound_text(name: str, value: int) -> str:
    if name.endswith("_cents"):
        return dollars(value)
    if name.endswith("_seconds"):
        return _duration(value)
    return str(value)


def dollars(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{part:02d}"


def percent(basis_points: int) -> str:
    sign = "-" if basis_points < 0 else ""
    whole, part = divmod(abs(basis_points), 100)
    return f"{sign}{whole}.{part:02d}%"


def _tax_problems(config: StoreConfig) -> list[str]:
    problems = []
    rates = config.tax_basis_points
    if not isinstance(rates, dict):
        return ["The tax rates must be a table of states."]
    unknown = sorted(str(state)[:10] for state in rates if state not in US_STATES)
    if unknown:
        problems.append(f"Unknown state code(s) in the tax rates: {', '.join(unknown[:5])}.")
    for state, rate in sorted((s, r) for s, r in rates.items() if s in US_STATES):
        if not _whole(rate):
            problems.append(f"The tax rate of {state} must be a whole number of basis points.")
        elif rate < 0:
            problems.append(f"The tax rate of {state} cannot be negative ({percent(rate)}).")
        elif rate > MAX_BASIS_POINTS:
            problems.append(f"The tax rate of {state} cannot be above 100% ({percent(rate)}).")
    default = config.default_tax_basis_points
    if not _whole(default) or not 0 <= default <= MAX_BASIS_POINTS:
        problems.append("The default tax rate must be between 0% and 100%.")
    return problems


def _method_problems(methods) -> list[str]:
    if not isinstance(methods, tuple | list) or not methods:
        return ["Offer at least one shipping method."]
    if len(methods) > MAX_METHODS:
        return [f"Offer at most {MAX_METHODS} shipping methods."]
    problems, seen = [], set()
    for method in methods:
        if not isinstance(method, ShippingMethod):
            problems.append("A shipping method is not one.")
            continue
        code = method.code if isinstance(method.code, str) else ""
        if not METHOD_CODE.fullmatch(code):
            problems.append(f"The shipping method code {code[:40]!r} must be 1 to 32 lower-case letters, digits,"
                            " - or _, starting with a letter or digit.")
        elif code in seen:
            problems.append(f"The shipping method {code!r} is listed twice.")
        seen.add(code)
        label = method.label.strip() if isinstance(method.label, str) else ""
        if not 1 <= len(label) <= MAX_METHOD_LABEL:
            problems.append(f"The shipping method {code[:40]!r} needs a label of 1 to {MAX_METHOD_LABEL} characters.")
        if not _whole(method.price_cents):
            problems.append(f"The price of shipping method {code[:40]!r} must be whole cents.")
        elif method.price_cents < 0:
            problems.append(f"The price of shipping method {code[:40]!r} cannot be negative.")
        elif method.price_cents > MAX_PRICE_CENTS:
            problems.append(f"The price of shipping method {code[:40]!r} is above {dollars(MAX_PRICE_CENTS)}.")
        if not isinstance(method.days, str) or len(method.days) > MAX_METHOD_DAYS:
            problems.append(f"The delivery time of shipping method {code[:40]!r} is at most {MAX_METHOD_DAYS}"
                            " characters.")
    return problems


def problems(config: StoreConfig) -> list[str]:
    """Every rule `config` breaks, as sentences; empty when it may be applied."""
    if not isinstance(config, StoreConfig):
        return ["That is not a store configuration."]
    found = []
    name = config.store_name.strip() if isinstance(config.store_name, str) else ""
    if not 1 <= len(name) <= MAX_STORE_NAME or not name.isprintable():
        found.append(f"The store name must be 1 to {MAX_STORE_NAME} printable characters.")
    if not isinstance(config.currency, str) or not CURRENCY.fullmatch(config.currency):
        found.append("The currency must be a three-letter code such as USD.")
    found += _tax_problems(config)
    found += _method_problems(config.shipping_methods)
    for name, least, most, what in BOUNDS:
        value = getattr(config, name)
        if not _whole(value) or not least <= value <= most:
            found.append(f"{what} must be between {_bound_text(name, least)} and {_bound_text(name, most)}.")
    if not isinstance(config.manual_fulfillment, bool):
        found.append("Manual fulfillment is on or off.")
    return found


# -- what changed --------------------------------------------------------------------------------

SIMPLE_FIELDS = (
    ("store_name", "Store name"),
    ("currency", "Currency"),
    ("default_tax_basis_points", "Default tax rate"),
    ("approval_threshold_cents", "Approval threshold"),
    ("approval_timeout_seconds", "Approval timeout"),
    ("refund_window_seconds", "Refund window"),
    ("manual_fulfillment", "Manual fulfillment"),
    ("hold_ttl_seconds", "Hold lifetime"),
    ("checkout_step_timeout_seconds", "Checkout step timeout"),
    ("max_declined_attempts", "Declined attempts allowed"),
    ("declined_lockout_seconds", "Lockout after declined attempts"),
)


def _shown(name: str, value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if name.endswith("_basis_points"):
        return percent(value)
    if name.endswith("_cents") or name.endswith("_seconds"):
        return _bound_text(name, value)
    return repr(value) if isinstance(value, str) else str(value)


def _method_text(method: ShippingMethod) -> str:
    days = f", {method.days}" if method.days else ""
    return f"{method.label} {dollars(method.price_cents)}{days}"


def describe_changes(old: StoreConfig, new: StoreConfig) -> tuple[str, ...]:
    """A line per changed field, in the staff's words ("Tax CA: 7.25% → 8.00%"); empty if none."""
    lines = []
    for name, label in SIMPLE_FIELDS:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            lines.append(f"{label}: {_shown(name, before)} → {_shown(name, after)}")
    for state in sorted(set(old.tax_basis_points) | set(new.tax_basis_points)):
        before, after = old.tax_basis_points.get(state), new.tax_basis_points.get(state)
        if before == after:
            continue
        if before is None:
            lines.append(f"Tax {state}: {percent(after)} (added)")
        elif after is None:
            lines.append(f"Tax {state}: {percent(before)} removed (the default applies)")
        else:
            lines.append(f"Tax {state}: {percent(before)} → {percent(after)}")
    old_methods = {method.code: method for method in old.shipping_methods}
    new_methods = {method.code: method for method in new.shipping_methods}
    for code, method in new_methods.items():
        before = old_methods.get(code)
        if before is None:
            lines.append(f"Shipping {code}: {_method_text(method)} (added)")
        elif before != method:
            lines.append(f"Shipping {code}: {_method_text(before)} → {_method_text(method)}")
    for code, method in old_methods.items():
        if code not in new_methods:
            lines.append(f"Shipping {code}: {_method_text(method)} removed")
    if not lines and [m.code for m in old.shipping_methods] != [m.code for m in new.shipping_methods]:
        lines.append("Shipping methods: reordered")
    return tuple(lines)
