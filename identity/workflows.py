"""Deterministic workflows of identity: no Django, no I/O (activities do that).

`StoreConfig` (`store-config`, one per shop, on the `identity` queue): the store's configuration as
an entity. Staff change it with the `change_store_config` update: the validator refuses a request
decided on an older version (`StaleStoreConfig`) or a configuration that breaks a rule
(`InvalidStoreConfig`, with every reason) before it reaches history; the handler persists the new
version and its change record through an activity and only then takes it as current, so what the
query answers is what Cassandra has. A request whose action id was applied before answers that
change again and changes nothing (the id is carried over continue-as-new with the latest changes).
After `continue_as_new_after` changes, or when Temporal suggests it, the run continues as new with
the configuration and the latest changes. `get_store_config` answers both.

`ApiToken` (`token-{token_id}`, one per partner API token, on the `identity` queue): started when
the token is created, it sleeps until the token's expiry and then marks the token revoked
("expired") through an activity that retries until Cassandra answers (the API refuses a token past
its expiry on its own meanwhile). The `revoke` signal ends it early: the tokens page has already
marked the token revoked in Cassandra before it signals (revocation must not wait for Temporal), so
the workflow only records who and when and ends. `token_state` answers how it stands.

`SessionSweep` (`session-sweep`, one per shop, on the `identity` queue): every `interval_seconds`
an activity deletes expired session rows and expired cache entries from the SQL database; a round
whose activity fails is logged and the next round sweeps what it missed. After `rounds_per_run`
rounds, or when Temporal suggests it, the run continues as new.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from identity import rules
    from identity.contracts import (
        KEPT_CHANGES,
        MAX_ACTOR_LENGTH,
        MAX_REASON_LENGTH,
        MIN_SESSION_SWEEP_SECONDS,
        ApiTokenActivities,
        ApiTokenInput,
        ApiTokenOutcome,
        ApiTokenQueries,
        ApiTokenSignals,
        ChangeStoreConfig,
        ExpireApiToken,
        IdentityActivities,
        IdentityWorkflows,
        PersistStoreConfig,
        RevokeApiToken,
        SessionSweepActivities,
        SessionSweepInput,
        StoreConfigChange,
        StoreConfigChanged,
        StoreConfigErrors,
        StoreConfigInput,
        StoreConfigQueries,
        StoreConfigState,
        StoreConfigUpdates,
        SweptRows,
        TokenRevokeReasons,
    )

# Bounded, so a Cassandra that stays down refuses the change within about a minute (nothing
# changed) instead of holding the update open for ever.
PERSIST_CALL = dict(start_to_close_timeout=timedelta(seconds=15),
                    retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200),
                                             maximum_interval=timedelta(seconds=5), maximum_attempts=6))
MAX_ACTION_ID_LENGTH = 100


def _refuse(message: str, error_type: str) -> ApplicationError:
    return ApplicationError(message, type=error_type, non_retryable=True)


@workflow.defn(name=IdentityWorkflows.STORE_CONFIG)
class StoreConfigWorkflow:
    @workflow.init
    def __init__(self, input: StoreConfigInput) -> None:
        self.config = input.config
        self.changes: list[StoreConfigChange] = list(input.changes)[-KEPT_CHANGES:]
        self.changes_in_run = 0
        self.lock = asyncio.Lock()

    @workflow.run
    async def run(self, input: StoreConfigInput) -> None:
        limit = max(1, input.continue_as_new_after)
        await workflow.wait_condition(
            lambda: self.changes_in_run >= limit or workflow.info().is_continue_as_new_suggested())
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(StoreConfigInput(self.config, tuple(self.changes[-KEPT_CHANGES:]),
                                                  input.continue_as_new_after))

    def _applied_before(self, action_id: str) -> StoreConfigChange | None:
        return next((change for change in self.changes if change.action_id == action_id), None)

    @workflow.update(name=StoreConfigUpdates.CHANGE)
    async def change_store_config(self, request: ChangeStoreConfig) -> StoreConfigChanged:
        async with self.lock:
            earlier = self._applied_before(request.action_id)
            if earlier is not None:
                return StoreConfigChanged(self.config, earlier, applied=False)
            # Checked again here: another change may have been applied while this one waited.
            if request.expected_version != self.config.version:
                raise self._stale()
            version = self.config.version + 1
            config = replace(request.config, store_name=request.config.store_name.strip(), version=version)
            change = StoreConfigChange(version, request.actor.strip(), workflow.now().isoformat(),
                                       rules.describe_changes(self.config, config), request.reason.strip(),
                                       request.action_id)
            try:
                await workflow.execute_activity(IdentityActivities.PERSIST_STORE_CONFIG,
                                                PersistStoreConfig(config, change), **PERSIST_CALL)
            except ActivityError as error:
                workflow.logger.warning("store config version %s not persisted: %s", version, error.cause or error)
                raise _refuse("The configuration store (Cassandra) did not answer; nothing was changed. "
                              "Try again in a moment.", StoreConfigErrors.UNAVAILABLE) from None
            self.config = config
            self.changes = [*self.changes, change][-KEPT_CHANGES:]
            self.changes_in_run += 1
            return StoreConfigChanged(config, change)

    @change_store_config.validator
    def _validate_change(self, request: ChangeStoreConfig) -> None:
        if not isinstance(request, ChangeStoreConfig):
            raise _refuse("That is not a change of the store configuration.", StoreConfigErrors.INVALID)
        action_id = request.action_id
        if not isinstance(action_id, str) or not 0 < len(action_id) <= MAX_ACTION_ID_LENGTH:
            raise _refuse("A change needs an action id.", StoreConfigErrors.INVALID)
        if self._applied_before(action_id) is not None:
            return  # answered again by the handler, changing nothing
        actor = request.actor.strip() if isinstance(request.actor, str) else ""
        if not 0 < len(actor) <= MAX_ACTOR_LENGTH:
            raise _refuse("A change needs the name of who makes it.", StoreConfigErrors.INVALID)
        if not isinstance(request.reason, str) or len(request.reason) > MAX_REASON_LENGTH:
            raise _refuse(f"The reason is at most {MAX_REASON_LENGTH} characters.", StoreConfigErrors.INVALID)
        if isinstance(request.expected_version, bool) or request.expected_version != self.config.version:
            raise self._stale()
        found = rules.problems(request.config)
        if found:
            raise _refuse(" ".join(found), StoreConfigErrors.INVALID)
        if not rules.describe_changes(self.config, request.config):
            raise _refuse("That changes nothing: the configuration is already so.", StoreConfigErrors.INVALID)

    def _stale(self) -> ApplicationError:
        return _refuse(f"The configuration has changed since that form was loaded (it is at version "
                       f"{self.config.version} now); reload the page and decide again.", StoreConfigErrors.STALE)

    @workflow.query(name=StoreConfigQueries.GET)
    def get_store_config(self) -> StoreConfigState:
        return StoreConfigState(self.config, tuple(self.changes))


# The expiry mark is retried until Cassandra answers: the token is refused by the API past its
# expiry anyway, so waiting costs nothing but a stale status on the tokens page.
EXPIRE_CALL = dict(start_to_close_timeout=timedelta(seconds=15),
                   retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                            maximum_interval=timedelta(minutes=5)))


@workflow.defn(name=IdentityWorkflows.API_TOKEN)
class ApiTokenWorkflow:
    @workflow.init
    def __init__(self, input: ApiTokenInput) -> None:
        self.outcome = ApiTokenOutcome(input.token_id)

    @workflow.run
    async def run(self, input: ApiTokenInput) -> ApiTokenOutcome:
        expires_at = datetime.fromisoformat(input.expires_at)
        remaining = (expires_at - workflow.now()).total_seconds()
        if remaining > 0:
            try:
                await workflow.wait_condition(lambda: bool(self.outcome.reason), timeout=remaining,
                                              timeout_summary="token expiry")
            except TimeoutError:
                pass
        if not self.outcome.reason:
            at = workflow.now().isoformat()
            # The activity answers what Cassandra has now: "revoked" when the page got there first.
            reason = await workflow.execute_activity(ApiTokenActivities.EXPIRE, ExpireApiToken(input.token_id, at),
                                                     result_type=str, **EXPIRE_CALL)
            if not self.outcome.reason:  # a revoke signal that came during the activity stands
                self.outcome = ApiTokenOutcome(input.token_id, reason or TokenRevokeReasons.EXPIRED, at)
        return self.outcome

    @workflow.signal(name=ApiTokenSignals.REVOKE)
    def revoke(self, request: RevokeApiToken) -> None:
        if self.outcome.reason:
            return  # revoked or expired before: the first answer stands
        actor = request.actor if isinstance(request.actor, str) else ""
        self.outcome = ApiTokenOutcome(self.outcome.token_id, TokenRevokeReasons.REVOKED,
                                       workflow.now().isoformat(), actor[:MAX_ACTOR_LENGTH])

    @workflow.query(name=ApiTokenQueries.STATE)
    def token_state(self) -> ApiTokenOutcome:
        return self.outcome


# A round's sweep: a database that stays down fails the round within about two minutes.
SWEEP_CALL = dict(start_to_close_timeout=timedelta(seconds=60),
                  retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                           maximum_interval=timedelta(seconds=20), maximum_attempts=3))


@workflow.defn(name=IdentityWorkflows.SESSION_SWEEP)
class SessionSweepWorkflow:
    @workflow.run
    async def run(self, input: SessionSweepInput) -> None:
        interval = timedelta(seconds=max(MIN_SESSION_SWEEP_SECONDS, input.interval_seconds))
        for _ in range(max(1, input.rounds_per_run)):
            try:
                swept = await workflow.execute_activity(SessionSweepActivities.SWEEP, result_type=SweptRows,
                                                        **SWEEP_CALL)
                workflow.logger.info("swept %d expired session(s) and %d expired cache entr(ies)",
                                     swept.sessions, swept.cache_entries)
            except ActivityError as error:
                workflow.logger.warning("session sweep failed this round: %s", error.cause or error)
            await workflow.sleep(interval)
            if workflow.info().is_continue_as_new_suggested():
                break
        workflow.continue_as_new(input)
