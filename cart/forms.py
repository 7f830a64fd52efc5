"""The cart's forms. A price is never among the fields: prices come from the catalog."""

from django import forms

from cart.contracts import MAX_LINE_QUANTITY

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$"


class AddToCartForm(forms.Form):
    sku = forms.RegexField(regex=SKU_PATTERN, error_messages={"invalid": "Choose a product first."})
    quantity = forms.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)
    nonce = forms.RegexField(regex=r"^[A-Za-z0-9-]{8,64}$",
                             error_messages={"invalid": "This form is out of date; please try again."})


class SetQuantityForm(forms.Form):
    sku = forms.RegexField(regex=SKU_PATTERN)
    quantity = forms.IntegerField(min_value=0, max_value=MAX_LINE_QUANTITY)


class RemoveItemForm(forms.Form):
    sku = forms.RegexField(regex=SKU_PATTERN)


class CouponForm(forms.Form):
    code = forms.CharField(max_length=32, required=False, strip=True)


def first_error(form: forms.Form) -> str:
    for field, errors in form.errors.items():
        if field in form.fields:
            label = form.fields[field].label or field.replace("_", " ").capitalize()
            return f"{label}: {errors[0]}"
        return errors[0]
    return "Please check the form."
