"""The tokens page (`/accounts/tokens/`): a signed-in shopper or staff member lists, creates and
revokes partner API tokens. Thin async views over identity.token_services.

A new token's string is in the answer to the POST that made it and nowhere else (not in the session,
not in a redirect): the page says to copy it now; it is never shown again. The page is never cached.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from commerce.views import unavailable
from identity import token_services as services
from identity.contracts import MAX_TOKEN_NAME_LENGTH, TOKEN_EXPIRY_DAYS, TokenScopes


class TokenForm(forms.Form):
    name = forms.CharField(max_length=MAX_TOKEN_NAME_LENGTH, strip=True,
                           help_text="What will use it, e.g. “Warehouse sync”.")
    scopes = forms.MultipleChoiceField(choices=(), widget=forms.CheckboxSelectMultiple)
    expires_in_days = forms.TypedChoiceField(label="Expires in", coerce=int, initial=30,
                                             choices=[(days, f"{days} days") for days in TOKEN_EXPIRY_DAYS])

    def __init__(self, *args, is_staff: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = services.scope_choices(is_staff)
        self.fields["scopes"].initial = [TokenScopes.CATALOG_READ]


async def _page(request, user, form, created=None, status: int = 200):
    try:
        listed = await services.owner_tokens(str(user.pk))
    except services.TokensUnavailable as error:
        return unavailable(request, str(error))
    now = datetime.now(UTC)
    rows = [(token, token.status_at(now)) for token in listed]
    return render(request, "identity/tokens.html", {"form": form, "rows": rows, "created": created,
                                                    "labels": TokenScopes.LABELS}, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
async def tokens(request):
    user = await request.auser()
    if request.method != "POST":
        return await _page(request, user, TokenForm(is_staff=user.is_staff))
    form = TokenForm(request.POST, is_staff=user.is_staff)
    if not form.is_valid():
        return await _page(request, user, form, status=400)
    data = form.cleaned_data
    try:
        created = await services.create_token(str(user.pk), user.is_staff, data["name"], data["scopes"],
                                              data["expires_in_days"])
    except services.TokenRefused as error:
        form.add_error(None, str(error))
        return await _page(request, user, form, status=400)
    except services.TokensUnavailable as error:
        return unavailable(request, str(error))
    return await _page(request, user, TokenForm(is_staff=user.is_staff), created=created)


@never_cache
@require_POST
@login_required
async def revoke(request, token_id: str):
    user = await request.auser()
    try:
        token = await services.revoke_token(str(user.pk), token_id, user.get_username())
    except services.TokenNotFound as error:
        messages.error(request, str(error))
        return redirect("identity:tokens")
    except services.TokensUnavailable as error:
        return unavailable(request, str(error))
    messages.success(request, f"The token “{token.name}” is revoked: it no longer works.")
    return redirect("identity:tokens")
