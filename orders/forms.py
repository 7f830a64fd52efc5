"""Forms of orders: every field of a staff action validated here before a service is called.

Each form carries the action's id (`ActionForm`); the forms of actions that depend on the order's state
also carry the `version` of the order the page showed, so an order that changed meanwhile refuses them.
Numbers are checked as text first (length and digits), so no huge number is ever parsed; money is
integer cents from a dollar amount with at most two decimals (commerce.money), never a float.
"""

from __future__ import annotations

from django import forms

from commerce.console import ActionForm
from commerce.money import MAX_AMOUNT_LENGTH, format_cents, parse_dollars
from orders.contracts import MAX_NOTE_LENGTH, MAX_REASON_LENGTH, MAX_TRACKING_LENGTH

MIN_TRACKING_LENGTH = 4  # as fulfillment's workflow checks it
MAX_CARRIER_LENGTH = 64
MAX_SUPPLIER_ORDERS = 1_000


class VersionedForm(ActionForm):
    """An action decided on one version of the order (OrderDetail.version, rendered into the form)."""

    version = forms.RegexField(regex=r"^[0-9]{1,9}$", widget=forms.HiddenInput,
                               error_messages={"invalid": "That form has expired; please reload the page.",
                                               "required": "That form has expired; please reload the page."})

    def clean_version(self) -> int:
        return int(self.cleaned_data["version"])


class ApproveForm(VersionedForm):
    pass


class RetryPaymentForm(VersionedForm):
    pass


class CancelForm(VersionedForm):
    reason = forms.CharField(max_length=MAX_REASON_LENGTH, strip=True,
                             error_messages={"required": "Say why the order is cancelled."})


class RefundForm(VersionedForm):
    """An amount ("12.34") or whole lines (their SKUs), and a reason. `refundable_cents` bounds the
    amount; `skus` are the lines that may be refunded now."""

    amount = forms.CharField(required=False, max_length=MAX_AMOUNT_LENGTH, strip=True,
                             label="Amount")
    skus = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple, label="Lines")
    reason = forms.CharField(max_length=MAX_REASON_LENGTH, strip=True,
                             error_messages={"required": "Say why the order is refunded."})

    def __init__(self, *args, refundable_cents: int = 0, skus: tuple[str, ...] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.refundable_cents = refundable_cents
        self.fields["skus"].choices = [(sku, sku) for sku in skus]

    def clean_amount(self) -> int:
        text = self.cleaned_data["amount"]
        if not text:
            return 0
        cents = parse_dollars(text)
        if cents is None:
            raise forms.ValidationError("Enter an amount in dollars and cents, like 12.34.")
        if cents < 1:
            raise forms.ValidationError("A refund is at least $0.01.")
        if cents > self.refundable_cents:
            raise forms.ValidationError(f"At most {format_cents(self.refundable_cents)} can be refunded now "
                                        "(captured and not refunded yet).")
        return cents

    def clean(self) -> dict:
        data = super().clean()
        if not self.errors and bool(data.get("amount")) == bool(data.get("skus")):
            raise forms.ValidationError("Refund either an amount or whole lines, not both.")
        return data


class NoteForm(ActionForm):
    text = forms.CharField(max_length=MAX_NOTE_LENGTH, strip=True, label="Note",
                           widget=forms.Textarea, error_messages={"required": "Write the note."})


class ManualStepForm(ActionForm):
    """A manual fulfillment step of one supplier order (its index in the order, from 1)."""

    supplier_order = forms.RegexField(regex=r"^[0-9]{1,4}$", widget=forms.HiddenInput,
                                      error_messages={"invalid": "That form has expired; please reload the page."})

    def clean_supplier_order(self) -> int:
        index = int(self.cleaned_data["supplier_order"])
        if not 1 <= index <= MAX_SUPPLIER_ORDERS:
            raise forms.ValidationError("That form has expired; please reload the page.")
        return index


class ShipForm(ManualStepForm):
    tracking_number = forms.RegexField(
        regex=rf"^[A-Za-z0-9-]{{{MIN_TRACKING_LENGTH},{MAX_TRACKING_LENGTH}}}$", strip=True,
        error_messages={"invalid": f"A tracking number is {MIN_TRACKING_LENGTH} to {MAX_TRACKING_LENGTH} letters, "
                                   "digits or dashes.",
                        "required": "Enter the tracking number."})
    carrier = forms.CharField(required=False, max_length=MAX_CARRIER_LENGTH, strip=True)

    def clean_carrier(self) -> str:
        carrier = self.cleaned_data["carrier"]
        if not carrier.isprintable():
            raise forms.ValidationError("A carrier's name is printable text.")
        return carrier
