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
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from identity import rules
    from identity.contracts import (
        KEPT_CHANGES,
        MAX_ACTOR_LENGTH,
        MAX_REASON_LENGTH,
        ChangeStoreConfig,
        IdentityActivities,
        IdentityWorkflows,
        PersistStoreConfig,
        StoreConfigChange,
        StoreConfigChanged,
        StoreConfigErrors,
        StoreConfigInput,
        StoreConfigQueries,
        StoreConfigState,
        StoreConfigUpdates,
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
