"""Forms of identity: every field validated here before a service is called.

`StoreConfigForm` reads the staff's store configuration page: every field is bounded text first
(no huge number is ever parsed), money is dollars with at most two decimals (integer cents), tax
rates are percentages with at most two decimals (basis points), one line per state ("CA 7.25").
What the numbers may be (no negative rate, a known state, at least one shipping method) is the
`store-config` workflow's rule (identity.rules), so its reason is the one staff read.
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace

from django import forms
from django.contrib.auth import get_user_model, password_validation

from checkout.contracts import Address
from checkout.forms import POSTAL_CODE, ShippingForm
from commerce.console import ActionForm
from commerce.money import parse_dollars
from identity.accounts import normalize_email
from identity.contracts import MAX_REASON_LENGTH, ShippingMethod, StoreConfig

METHOD_ROWS = 6  # rows of the shipping method table (blank rows are ignored)
MAX_TAX_LINES = 60
_PERCENT = r"[+-]?\d{1,3}(?:\.\d{1,2})?"
_TAX_LINE = re.compile(rf"(?P<state>[A-Za-z]{{2}})\s*[:=]?\s*(?P<rate>{_PERCENT})\s*%?")
_MINUTES = r"^\d{1,5}$"


def basis_points(text: str) -> int:
    """Basis points of a bounded percentage ("7.25" -> 725, "-1" -> -100): the text matched _PERCENT."""
    sign = -1 if text.startswith("-") else 1
    whole, _, part = text.lstrip("+-").partition(".")
    return sign * (int(whole) * 100 + int(part.ljust(2, "0")))


def percent_text(points: int) -> str:
    return f"{points // 100}.{points % 100:02d}" if points >= 0 else f"-{percent_text(-points)}"


def dollars_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


class StoreConfigForm(ActionForm):
    expected_version = forms.RegexField(regex=r"^\d{1,9}$", widget=forms.HiddenInput,
                                        error_messages={"invalid": "That form has expired; please reload the page."})
    store_name = forms.CharField(max_length=100, strip=True, label="Store name")
    currency = forms.RegexField(regex=r"^[A-Za-z]{3}$", max_length=3, strip=True, label="Currency",
                                error_messages={"invalid": "Enter a three-letter code such as USD."})
    tax_rates = forms.CharField(widget=forms.Textarea(attrs={"rows": 8, "cols": 20}), max_length=2000, required=False,
                                strip=True, label="Tax rates by state",
                                help_text="One state per line: its code and its rate in percent, like CA 7.25.")
    default_tax_rate = forms.RegexField(regex=rf"^{_PERCENT}$", max_length=8, strip=True,
                                        label="Default tax rate (%)",
                                        error_messages={"invalid": "Enter a percentage such as 8 or 7.25."})
    approval_threshold = forms.CharField(max_length=15, strip=True, label="Approval threshold ($)")
    hold_ttl_minutes = forms.RegexField(regex=_MINUTES, max_length=5, strip=True, label="Hold lifetime (minutes)",
                                        error_messages={"invalid": "Enter a whole number of minutes."})
    checkout_step_timeout_minutes = forms.RegexField(
        regex=_MINUTES, max_length=5, strip=True, label="Checkout step timeout (minutes)",
        error_messages={"invalid": "Enter a whole number of minutes."})
    manual_fulfillment = forms.BooleanField(required=False, label="Manual fulfillment for every supplier")
    reason = forms.CharField(max_length=MAX_REASON_LENGTH, required=False, strip=True, label="Reason for the change")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for row in range(METHOD_ROWS):
            self.fields[f"method_{row}_code"] = forms.CharField(max_length=32, required=False, strip=True,
                                                                label=f"Shipping row {row + 1} code")
            self.fields[f"method_{row}_label"] = forms.CharField(max_length=50, required=False, strip=True,
                                                                 label=f"Shipping row {row + 1} label")
            self.fields[f"method_{row}_price"] = forms.CharField(max_length=15, required=False, strip=True,
                                                                 label=f"Shipping row {row + 1} price")
            self.fields[f"method_{row}_days"] = forms.CharField(max_length=50, required=False, strip=True,
                                                                label=f"Shipping row {row + 1} delivery time")

    @classmethod
    def initial_for(cls, config: StoreConfig, action_id: str) -> dict:
        initial = {
            "action_id": action_id, "expected_version": config.version, "store_name": config.store_name,
            "currency": config.currency,
            "tax_rates": "\n".join(f"{state} {percent_text(rate)}"
                                   for state, rate in sorted(config.tax_basis_points.items())),
            "default_tax_rate": percent_text(config.default_tax_basis_points),
            "approval_threshold": dollars_text(config.approval_threshold_cents),
            "hold_ttl_minutes": config.hold_ttl_seconds // 60,
            "checkout_step_timeout_minutes": config.checkout_step_timeout_seconds // 60,
            "manual_fulfillment": config.manual_fulfillment,
        }
        for row, method in enumerate(config.shipping_methods[:METHOD_ROWS]):
            initial.update({f"method_{row}_code": method.code, f"method_{row}_label": method.label,
                            f"method_{row}_price": dollars_text(method.price_cents), f"method_{row}_days": method.days})
        return initial

    def method_rows(self) -> list[list]:
        """The bound fields of each shipping row, for the template's table."""
        return [[self[f"method_{row}_{part}"] for part in ("code", "label", "price", "days")]
                for row in range(METHOD_ROWS)]

    def clean_expected_version(self) -> int:
        return int(self.cleaned_data["expected_version"])

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].upper()

    def clean_tax_rates(self) -> dict[str, int]:
        lines = [line.strip() for line in self.cleaned_data["tax_rates"].splitlines() if line.strip()]
        if len(lines) > MAX_TAX_LINES:
            raise forms.ValidationError(f"At most {MAX_TAX_LINES} states.")
        rates: dict[str, int] = {}
        for number, line in enumerate(lines, start=1):
            match = _TAX_LINE.fullmatch(line)
            if match is None:
                raise forms.ValidationError(f"Line {number} ({line[:30]!r}): write a state code and a percentage,"
                                            " like CA 7.25.")
            state = match["state"].upper()
            if state in rates:
                raise forms.ValidationError(f"{state} is listed twice.")
            rates[state] = basis_points(match["rate"])
        return rates

    def clean_default_tax_rate(self) -> int:
        return basis_points(self.cleaned_data["default_tax_rate"])

    def clean_approval_threshold(self) -> int:
        cents = parse_dollars(self.cleaned_data["approval_threshold"])
        if cents is None:
            raise forms.ValidationError("Enter an amount in dollars, like 1000 or 1,000.00.")
        return cents

    def clean_hold_ttl_minutes(self) -> int:
        return int(self.cleaned_data["hold_ttl_minutes"])

    def clean_checkout_step_timeout_minutes(self) -> int:
        return int(self.cleaned_data["checkout_step_timeout_minutes"])

    def clean(self) -> dict:
        data = super().clean()
        methods = []
        for row in range(METHOD_ROWS):
            parts = [data.get(f"method_{row}_{part}", "") for part in ("code", "label", "price", "days")]
            if not any(parts):
                continue  # a blank row
            code, label, price, days = parts
            if not code:
                raise forms.ValidationError(f"Shipping row {row + 1}: give the method a code (like standard).")
            cents = parse_dollars(price) if price else None
            if cents is None:
                raise forms.ValidationError(f"Shipping row {row + 1}: enter a price in dollars, like 5.95.")
            methods.append(ShippingMethod(code.lower(), label, cents, days))
        data["shipping_methods"] = tuple(methods)
        return data

    def config(self, current: StoreConfig) -> StoreConfig:
        """The configuration this form asks for: the current one with the form's fields."""
        data = self.cleaned_data
        return replace(
            current, store_name=data["store_name"], currency=data["currency"], tax_basis_points=data["tax_rates"],
            default_tax_basis_points=data["default_tax_rate"], shipping_methods=data["shipping_methods"],
            approval_threshold_cents=data["approval_threshold"], manual_fulfillment=data["manual_fulfillment"],
            hold_ttl_seconds=data["hold_ttl_minutes"] * 60,
            checkout_step_timeout_seconds=data["checkout_step_timeout_minutes"] * 60)


# -- shopper accounts ------------------------------------------------------------------------------
# Every field bounded; the email is normalized (orders.store.normalize_email) before anything looks it
# up. Passwords are checked by Django's validators (AUTH_PASSWORD_VALIDATORS) against the account's
# email and name, and are never echoed back into a page.

MAX_PASSWORD_LENGTH = 128  # Argon2 takes any length; a bound keeps a huge post from costing CPU
ADDRESS_FIELDS = ("full_name", "line1", "line2", "city", "state", "postal_code")


def _email_field(**kwargs) -> forms.EmailField:
    return forms.EmailField(max_length=254, label="Email", **kwargs)


def _password_field(label: str, autocomplete: str) -> forms.CharField:
    return forms.CharField(label=label, max_length=MAX_PASSWORD_LENGTH, strip=False,
                           widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}))


class RegisterForm(forms.Form):
    email = _email_field(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    full_name = forms.CharField(max_length=100, strip=True, label="Full name",
                                widget=forms.TextInput(attrs={"autocomplete": "name"}))
    password1 = _password_field("Password", "new-password")
    password2 = _password_field("Password again", "new-password")

    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])

    def clean(self) -> dict:
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first and data.get("email"):
            candidate = get_user_model()(username=data["email"], email=data["email"],
                                         first_name=data.get("full_name", "")[:150])
            try:
                password_validation.validate_password(first, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


class LoginForm(forms.Form):
    # Named `username`: django-axes reads it (AXES_USERNAME_FORM_FIELD) when it answers a locked form.
    username = _email_field(widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))
    password = _password_field("Password", "current-password")
    next = forms.CharField(max_length=500, required=False, widget=forms.HiddenInput)

    def clean_username(self) -> str:
        return normalize_email(self.cleaned_data["username"])


class NameForm(forms.Form):
    full_name = forms.CharField(max_length=100, strip=True, label="Full name")


class AddressForm(forms.Form):
    """A saved address: the checkout's shipping fields (checkout/forms.py), without email and method."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ADDRESS_FIELDS:
            self.fields[name] = copy.deepcopy(ShippingForm.base_fields[name])
        self.fields["full_name"].label = "Full name"

    def clean_postal_code(self) -> str:
        value = self.cleaned_data["postal_code"]
        if not POSTAL_CODE.fullmatch(value):
            raise forms.ValidationError("Enter a US ZIP code: 5 digits, or 5+4 like 94110-1234.")
        return value

    def address(self) -> Address:
        data = self.cleaned_data
        return Address(email="", country="US", **{name: data[name] for name in ADDRESS_FIELDS})


class AddressDeleteForm(forms.Form):
    address_id = forms.RegexField(regex=r"^[0-9a-fA-F-]{32,36}$", max_length=36)


class PasswordResetRequestForm(forms.Form):
    email = _email_field(widget=forms.EmailInput(attrs={"autocomplete": "email"}))

    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])


def first_error(form: forms.Form) -> str:
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return "Please check the form."
