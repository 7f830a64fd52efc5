"""The store configuration's staff page: `/admin/identity/storeconfiguration/`.

Looking needs `view_storeconfiguration` (Support, Managers); the form is shown to, and a change
accepted from, `change_storeconfiguration` (Managers) only. A change goes to the `store-config` workflow
with the form's action id as its update id (a form sent twice applies once) and the version the
page showed (a change decided on an older version is refused); the workflow's reason for a refusal
is shown as it is. The history table is the workflow's: who, when, what changed, why.
"""

from django.apps import apps
from django.contrib import admin, messages
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from commerce.console import (
    ConsoleAdmin,
    first_confirmation,
    first_error,
    log_action,
    new_action_id,
    page_context,
    require,
    workflow_url,
)
from identity import services
from identity.contracts import STORE_CONFIG_WORKFLOW_ID
from identity.forms import StoreConfigForm, percent_text

CHANGE_PERMISSION = "identity.change_storeconfiguration"
PAGE = "admin:identity_storeconfiguration_changelist"


def _model():
    return apps.get_model("identity", "StoreConfiguration")


def config_page(request):
    context = page_context(request, "Store configuration", view=None, form=None, unavailable="",
                           workflow_url=workflow_url(STORE_CONFIG_WORKFLOW_ID))
    try:
        view = services.store_config_state()
    except services.StoreConfigUnavailable as down:
        context["unavailable"] = str(down)
        return TemplateResponse(request, "identity/admin_store_config.html", context, status=503)
    config = view.state.config
    context.update(view=view, config=config, changes=list(reversed(view.state.changes)),
                   methods=config.shipping_methods,
                   taxes=[(state, percent_text(rate)) for state, rate in sorted(config.tax_basis_points.items())],
                   default_tax=percent_text(config.default_tax_basis_points))
    if request.user.has_perm(CHANGE_PERMISSION):
        context["form"] = StoreConfigForm(initial=StoreConfigForm.initial_for(config, new_action_id()))
    return TemplateResponse(request, "identity/admin_store_config.html", context)


def change_view(request, object_id: str):
    """POST: apply a change. GET (the admin log's link to the change) shows the page."""
    if request.method == "GET":
        return redirect(PAGE)
    require(request, CHANGE_PERMISSION)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    if object_id != STORE_CONFIG_WORKFLOW_ID:
        raise Http404("There is one store configuration.")
    back = redirect(PAGE)
    form = StoreConfigForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Nothing was changed. {first_error(form)}")
        return back
    data = form.cleaned_data
    try:
        current = services.store_config_state().state.config
        result = services.change_store_config(request.user.get_username(), form.config(current),
                                              data["expected_version"], data["action_id"], data["reason"])
    except services.StoreConfigRefused as refusal:
        messages.error(request, f"Nothing was changed: {refusal}")
        return back
    except services.StoreConfigUnavailable as down:
        messages.warning(request, str(down))
        return back
    if result.applied and first_confirmation(data["action_id"]):
        summary = "; ".join(result.change.summary)
        log_action(request, _model(), STORE_CONFIG_WORKFLOW_ID, "Store configuration",
                   f"Version {result.config.version}: {summary}")
        messages.success(request, f"Store configuration version {result.config.version} applied: {summary}. "
                                  "New checkouts use it; checkouts already under way keep the one they began with.")
    else:
        messages.info(request, "That change was applied already (the form was sent twice); nothing changed again.")
    return back


class StoreConfigAdmin(ConsoleAdmin):
    def console_urls(self):
        return [("", config_page, "changelist"), ("<str:object_id>/change/", change_view, "change")]


# The model names the page and its permissions only: the data comes from the workflow.
admin.site.register(_model(), StoreConfigAdmin)
