"""Forms of checkout: every field bounded and validated here, with a message per field, before a
service is called. No price or total is ever a field the server believes."""

from __future__ import annotations

import re

from django import forms

from identity.contracts import US_STATES

POSTAL_CODE = re.compile(r"^[0-9]{5}(-[0-9]{4})?$")
NEW_ADDRESS = "new"
ADDRESS_FIELDS = ("full_name", "line1", "line2", "city", "state", "postal_code", "country")


def one_line(address) -> str:
    """A saved address as one line of text (checkout.contracts.Address)."""
    parts = [address.full_name, address.line1, address.line2, f"{address.city}, {address.state} {address.postal_code}"]
    return ", ".join(part for part in parts if part)


class ShippingForm(forms.Form):
    email = forms.EmailField(max_length=254)
    full_name = forms.CharField(max_length=100, strip=True)
    line1 = forms.CharField(label="Address", max_length=100, strip=True)
    line2 = forms.CharField(label="Apartment, suite (optional)", max_length=100, strip=True, required=False)
    city = forms.CharField(max_length=60, strip=True)
    state = forms.ChoiceField(choices=[("", "Choose a state")] + sorted(US_STATES.items(), key=lambda kv: kv[1]))
    postal_code = forms.CharField(label="ZIP code", max_length=10, strip=True)
    country = forms.ChoiceField(choices=[("US", "United States")], initial="US")
    shipping_method = forms.ChoiceField(widget=forms.RadioSelect)

    def __init__(self, *args, methods=(), signed_in: bool = False, saved=(), **kwargs) -> None:
        """`signed_in`: the email is the account's (no field). `saved`: the shopper's saved addresses
        (identity.accounts.SavedAddress), offered as a choice; one chosen makes the address fields
        unnecessary (the view loads the chosen address by id; posted fields are ignored for it)."""
        super().__init__(*args, **kwargs)
        self.fields["shipping_method"].choices = [
            (method.code, f"{method.label} ({method.days})") for method in methods]
        if not signed_in:
            return
        del self.fields["email"]
        self.fields["save_address"] = forms.BooleanField(label="Save this address to my account", required=False)
        if saved:
            choices = [(item.address_id, one_line(item.address)) for item in saved]
            self.fields["saved_address"] = forms.ChoiceField(
                label="Ship to", required=False, widget=forms.RadioSelect,
                choices=[*choices, (NEW_ADDRESS, "A new address")],
                error_messages={"invalid_choice": "Choose one of your saved addresses, or a new address."})
            if self.data.get("saved_address") not in (None, "", NEW_ADDRESS):
                for name in ADDRESS_FIELDS:
                    self.fields[name].required = False

    @property
    def chosen_address_id(self) -> str:
        """The saved address chosen ("" for a new one): valid once the form is."""
        chosen = self.cleaned_data.get("saved_address") or ""
        return "" if chosen == NEW_ADDRESS else chosen

    def clean_postal_code(self) -> str:
        value = self.cleaned_data["postal_code"]
        if not value and not self.fields["postal_code"].required:
            return value
        if not POSTAL_CODE.fullmatch(value):
            raise forms.ValidationError("Enter a US ZIP code: 5 digits, or 5+4 like 94110-1234.")
        return value


class PaymentForm(forms.Form):
    """Bounded and shaped here; the processor's tokenize() checks the number itself (Luhn, expiry)."""

    card_number = forms.RegexField(regex=r"^[0-9 -]{12,23}$", max_length=23, strip=True,
                                   error_messages={"invalid": "Enter the card number: 12 to 19 digits."})
    exp_month = forms.RegexField(label="Expiry month", regex=r"^[0-9]{1,2}$", max_length=2, strip=True,
                                 error_messages={"invalid": "Enter the month as 1 to 12."})
    exp_year = forms.RegexField(label="Expiry year", regex=r"^[0-9]{4}$", max_length=4, strip=True,
                                error_messages={"invalid": "Enter the year with four digits."})
    cvc = forms.RegexField(label="Security code", regex=r"^[0-9]{3,4}$", max_length=4, strip=True,
                           error_messages={"invalid": "Enter the 3 or 4 digits on the card."})
    cardholder = forms.CharField(label="Name on card", max_length=100, strip=True)

    def clean_exp_month(self) -> int:
        month = int(self.cleaned_data["exp_month"])
        if not 1 <= month <= 12:
            raise forms.ValidationError("Enter the month as 1 to 12.")
        return month

    def clean_exp_year(self) -> int:
        return int(self.cleaned_data["exp_year"])


class SubmitForm(forms.Form):
    expected_total_cents = forms.RegexField(regex=r"^[0-9]{1,10}$", max_length=10)
    nonce = forms.RegexField(regex=r"^[A-Za-z0-9-]{8,64}$")

    def clean_expected_total_cents(self) -> int:
        return int(self.cleaned_data["expected_total_cents"])
