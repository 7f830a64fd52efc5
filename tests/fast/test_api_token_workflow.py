"""The API token's workflow under the time-skipping server, with a fake expiry activity: a token is
marked expired at its expiry and not a moment before; a revoke signal ends it early with no mark (the
page marked it already); a revoke that lands while the expiry mark runs keeps "revoked"; a token
created already past its expiry is marked at once. Histories are recorded for the replay test."""

import uuid
from datetime import datetime, timedelta

from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.worker import Worker

from identity.contracts import (
    TASK_QUEUE,
    ApiTokenActivities,
    ApiTokenInput,
    ApiTokenOutcome,
    ExpireApiToken,
    RevokeApiToken,
    TokenRevokeReasons,
)
from identity.workflows import ApiTokenWorkflow
from tests.histories import record


class FakeTokens:
    def __init__(self, answer: str = TokenRevokeReasons.EXPIRED) -> None:
        self.expired: list[ExpireApiToken] = []
        self.answer = answer

    def activity(self):
        @activity.defn(name=ApiTokenActivities.EXPIRE)
        async def expire(request: ExpireApiToken) -> str:
            self.expired.append(request)
            return self.answer

        return expire


async def _start(env, fake: FakeTokens, lifetime: timedelta):
    worker = Worker(env.client, task_queue=TASK_QUEUE, workflows=[ApiTokenWorkflow], activities=[fake.activity()])
    token_id = uuid.uuid4().hex[:16]
    expires_at = (await env.get_current_time()) + lifetime
    handle = await env.client.start_workflow(ApiTokenWorkflow.run, ApiTokenInput(token_id, "7", expires_at.isoformat()),
                                             id=f"token-{token_id}", task_queue=TASK_QUEUE)
    return worker, handle, token_id, expires_at


async def _state(handle) -> ApiTokenOutcome:
    return await handle.query(ApiTokenWorkflow.token_state, result_type=ApiTokenOutcome)


async def test_a_token_is_marked_expired_at_its_expiry_and_not_before(env):
    fake = FakeTokens()
    worker, handle, token_id, expires_at = await _start(env, fake, timedelta(days=30))
    async with worker:
        await env.sleep(timedelta(days=29))
        assert (await _state(handle)).reason == "" and fake.expired == []
        outcome = await handle.result()
        await record(handle, "api_token_expired")
    assert outcome.reason == TokenRevokeReasons.EXPIRED and outcome.token_id == token_id
    assert [request.token_id for request in fake.expired] == [token_id]
    assert datetime.fromisoformat(fake.expired[0].at) >= expires_at


async def test_a_revoke_signal_ends_the_workflow_at_once_without_marking_it_again(env):
    fake = FakeTokens()
    worker, handle, token_id, _ = await _start(env, fake, timedelta(days=365))
    async with worker:
        await handle.signal(ApiTokenWorkflow.revoke, RevokeApiToken("ada@example.com"))
        await handle.signal(ApiTokenWorkflow.revoke, RevokeApiToken("someone else"))  # the first stands
        outcome = await handle.result()
        await record(handle, "api_token_revoked")
        description = await handle.describe()
    assert outcome.reason == TokenRevokeReasons.REVOKED and outcome.actor == "ada@example.com"
    assert fake.expired == []
    assert description.status == WorkflowExecutionStatus.COMPLETED


async def test_a_token_the_page_revoked_first_stays_revoked_when_the_expiry_mark_runs(env):
    fake = FakeTokens(answer=TokenRevokeReasons.REVOKED)  # Cassandra had it revoked (the signal was lost)
    worker, handle, _, _ = await _start(env, fake, timedelta(days=7))
    async with worker:
        outcome = await handle.result()
        await record(handle, "api_token_revoked_before_expiry_mark")
    assert outcome.reason == TokenRevokeReasons.REVOKED and len(fake.expired) == 1


async def test_a_token_already_past_its_expiry_is_marked_at_once(env):
    fake = FakeTokens()
    worker, handle, _, _ = await _start(env, fake, timedelta(seconds=-5))
    async with worker:
        outcome = await handle.result()
    assert outcome.reason == TokenRevokeReasons.EXPIRED and len(fake.expired) == 1
