"""Account forms, the verification token and the linking workflow, without any store."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from temporalio import activity
from temporalio.worker import Worker

from identity import accounts
from identity.forms import AddressForm, LoginForm, RegisterForm
from orders.contracts import LinkOrdersRequest, OrderActivities, OrderWorkflows
from orders.workflows import LinkGuestOrdersWorkflow

GOOD = {"email": "  Ada.Shopper@Example.COM ", "full_name": "Ada Shopper", "password1": "a-long-password-1",
        "password2": "a-long-password-1"}


def test_the_register_form_normalizes_the_email_and_checks_the_passwords():
    form = RegisterForm(GOOD)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["email"] == "ada.shopper@example.com"
    assert not RegisterForm({**GOOD, "password2": "another-password-2"}).is_valid()
    assert "password1" in RegisterForm({**GOOD, "password1": "password", "password2": "password"}).errors
    similar = RegisterForm({**GOOD, "password1": "ada.shopper", "password2": "ada.shopper"})
    assert not similar.is_valid()
    assert not RegisterForm({**GOOD, "full_name": "n" * 101}).is_valid()
    assert not RegisterForm({**GOOD, "password1": "p" * 129, "password2": "p" * 129}).is_valid()
    assert not RegisterForm({**GOOD, "email": "not an email"}).is_valid()


def test_the_login_form_is_bounded_and_normalizes_the_email():
    form = LoginForm({"username": "GRACE@example.com", "password": "x"})
    assert form.is_valid() and form.cleaned_data["username"] == "grace@example.com"
    assert not LoginForm({"username": "grace@example.com", "password": "x" * 129}).is_valid()
    assert not LoginForm({"username": "g" * 300 + "@example.com", "password": "x"}).is_valid()


def test_the_address_form_takes_the_checkout_fields_without_email():
    form = AddressForm({"full_name": "Ada", "line1": "1 Main St", "line2": "", "city": "Portland", "state": "OR",
                        "postal_code": "97201"})
    assert form.is_valid(), form.errors
    assert form.address().email == "" and form.address().state == "OR"
    assert "email" not in form.fields and "shipping_method" not in form.fields
    assert not AddressForm({**form.data, "postal_code": "9720"}).is_valid()
    assert not AddressForm({**form.data, "state": "XX"}).is_valid()


def test_axes_counts_failures_per_normalized_email():
    assert accounts.axes_username(None, {"username": "  Grace@Example.com"}) == "grace@example.com"
    assert accounts.axes_username(None, None) == ""


def test_a_verification_token_names_the_shopper_and_the_email():
    token = accounts.verification_token("42", "Ada@Example.com")
    assert accounts._signer().unsign_object(token) == {"s": "42", "e": "ada@example.com"}
    assert "/" not in token and len(token) <= accounts.MAX_TOKEN_LENGTH


async def test_the_linking_workflow_runs_its_one_activity(env):
    seen = []

    @activity.defn(name=OrderActivities.LINK_GUEST_ORDERS)
    def link(request: LinkOrdersRequest) -> int:
        seen.append(request)
        return 3

    queue = f"oms-{uuid.uuid4().hex[:6]}"
    async with Worker(env.client, task_queue=queue, workflows=[LinkGuestOrdersWorkflow], activities=[link],
                      activity_executor=ThreadPoolExecutor(2)):
        result = await env.client.execute_workflow(OrderWorkflows.LINK_GUEST_ORDERS,
                                                   LinkOrdersRequest("7", "ada@example.com"),
                                                   id=f"link-orders-{uuid.uuid4().hex[:6]}", task_queue=queue,
                                                   result_type=int)
    assert result == 3 and seen == [LinkOrdersRequest("7", "ada@example.com")]
