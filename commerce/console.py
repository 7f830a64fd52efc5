"""What every domain's staff console pages share (orders, carts, stock, catalog in Django admin).

The console's data lives in Temporal, Cassandra and Elasticsearch, not in Django's SQL database, so
each domain registers a `ConsoleAdmin` for one of its models: the model gives the pages their URL
names (`admin:orders_order_changelist`, `admin:orders_order_change`), their place in the admin's app
list, their permissions and the content type of the admin log; the pages themselves are the domain's
own views over its services (`console_urls`).

Every action a page offers is a POST that checks its permission on the server (`require`), carries an
action id rendered into the form (`new_action_id`) that the domain uses as the Temporal update id, so a
double-submitted form applies once, and is recorded in Django's admin log (`log_action`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import quote

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.urls import URLPattern, path

ACTION_ID_PATTERN = r"^[a-f0-9]{32}$"
# How long a confirmed action id is remembered: a form is not re-sent a day later.
CONFIRMED_ACTION_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Tile:
    """A figure on the admin index's dashboard. `value` None: its store did not answer."""

    title: str
    value: int | None
    url: str = ""
    note: str = ""


class ConsoleAdmin(admin.ModelAdmin):
    """A ModelAdmin whose pages are the domain's views (`console_urls`), not the ORM's changelist.

    Nothing is added, changed or deleted through Django's generic views: each change is an action of
    the domain with its own permission. Seeing the pages needs the model's `view` permission."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def console_urls(self) -> list[tuple[str, object, str]]:
        """(route, view, name suffix) of each page; the changelist's suffix is "changelist"."""
        raise NotImplementedError

    def get_urls(self) -> list[URLPattern]:
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [path(route, self.admin_site.admin_view(self._guarded(view)), name=f"{prefix}_{suffix}")
                for route, view, suffix in self.console_urls()]

    def _guarded(self, view):
        def page(request, *args, **kwargs):
            if not self.has_view_permission(request):
                raise PermissionDenied
            return view(request, *args, **kwargs)
        page.__name__ = getattr(view, "__name__", "console_page")
        return page


def require(request, permission: str) -> None:
    """Refuse (403) a user without `permission`; every action view calls it before acting."""
    if not request.user.has_perm(permission):
        raise PermissionDenied


def new_action_id() -> str:
    """The id of one action as its form is rendered: the update id, so a second submit applies once."""
    return uuid.uuid4().hex


class ActionForm(forms.Form):
    """The base of every console action's form: its action id."""

    action_id = forms.RegexField(regex=ACTION_ID_PATTERN, widget=forms.HiddenInput,
                                 error_messages={"invalid": "That form has expired; please reload the page."})


def first_confirmation(action_id: str) -> bool:
    """True the first time an action id is confirmed, False for a form sent again.

    Temporal answers a re-sent update id with the first send's result, so the result cannot say
    which send applied it; the console remembers the ids it confirmed (an atomic cache `add`, so of two
    sends racing one wins) to report the repeat as such and log the action once."""
    return cache.add(f"console:confirmed:{action_id}", True, timeout=CONFIRMED_ACTION_SECONDS)


def first_error(form: forms.Form) -> str:
    """A form's first error as one line for an admin message."""
    field, errors = next(iter(form.errors.items()))
    if field == forms.forms.NON_FIELD_ERRORS or field == "action_id":
        return errors[0]
    label = form.fields[field].label or field.replace("_", " ").capitalize()
    return f"{label}: {errors[0]}"


def log_action(request, model, object_id: str, object_repr: str, message: str) -> None:
    """Record a staff action in Django's admin log (shown as "Recent actions" and per object)."""
    LogEntry.objects.create(
        user_id=request.user.pk,
        content_type=ContentType.objects.get_for_model(model, for_concrete_model=False),
        object_id=str(object_id)[:200], object_repr=str(object_repr)[:200], action_flag=CHANGE,
        change_message=str(message)[:2000])


def page_context(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def workflow_url(workflow_id: str, run_id: str = "") -> str:
    """The workflow's page in Temporal's Web UI, or "" when no UI is configured."""
    if not settings.TEMPORAL_WEB_URL:
        return ""
    url = (f"{settings.TEMPORAL_WEB_URL}/namespaces/{quote(settings.TEMPORAL_NAMESPACE, safe='')}"
           f"/workflows/{quote(workflow_id, safe='')}")
    return f"{url}/{quote(run_id, safe='')}/history" if run_id else url
