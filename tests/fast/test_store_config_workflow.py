"""The store-config workflow under the time-skipping server, with a fake persist activity: a change
is persisted before it is taken, a broken rule and a store that stays down are refused with nothing
changed, an action id applies once, and after its limit the run continues as new carrying the
configuration and the changes (a repeated action id is still recognised). Histories are recorded."""

import asyncio
import uuid
from dataclasses import replace

import pytest
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from identity.contracts import (
    TASK_QUEUE,
    ChangeStoreConfig,
    IdentityActivities,
    PersistStoreConfig,
    ShippingMethod,
    StoreConfig,
    StoreConfigChanged,
    StoreConfigErrors,
    StoreConfigInput,
    StoreConfigState,
)
from identity.workflows import StoreConfigWorkflow
from tests.histories import record

CONFIG = StoreConfig(store_name="Heron & Co.", tax_basis_points={"CA": 725, "OR": 0},
                     shipping_methods=(ShippingMethod("standard", "Standard", 595, "3-5 business days"),))


class FakeStore:
    def __init__(self) -> None:
        self.persisted: list[PersistStoreConfig] = []
        self.down = False

    def activity(self):
        @activity.defn(name=IdentityActivities.PERSIST_STORE_CONFIG)
        async def persist(request: PersistStoreConfig) -> None:
            if self.down:  # as after the last of the retries the workflow allows (not waited for here)
                raise ApplicationError("Cassandra is down", non_retryable=True)
            self.persisted.append(request)

        return persist


async def _start(env, store: FakeStore, **input):
    worker = Worker(env.client, task_queue=TASK_QUEUE, workflows=[StoreConfigWorkflow], activities=[store.activity()])
    handle = await env.client.start_workflow(StoreConfigWorkflow.run, StoreConfigInput(CONFIG, **input),
                                             id=f"store-config-{uuid.uuid4().hex[:8]}", task_queue=TASK_QUEUE)
    return worker, handle


async def _change(handle, version: int, action_id: str | None = None, **fields) -> StoreConfigChanged:
    request = ChangeStoreConfig("manager", replace(CONFIG, **fields), version, action_id or uuid.uuid4().hex)
    return await handle.execute_update(StoreConfigWorkflow.change_store_config, request,
                                       result_type=StoreConfigChanged)


async def _state(handle) -> StoreConfigState:
    return await handle.query(StoreConfigWorkflow.get_store_config, result_type=StoreConfigState)


async def test_a_change_is_persisted_then_answered_and_an_action_id_applies_once(env):
    store = FakeStore()
    worker, handle = await _start(env, store)
    async with worker:
        changed = await _change(handle, 0, "first", tax_basis_points={"CA": 1000, "OR": 0})
        again = await _change(handle, 0, "first", tax_basis_points={"CA": 1000, "OR": 0})
        state = await _state(handle)
        await record(handle, "store_config")
    assert changed.applied and changed.config.version == 1
    assert changed.change.summary == ("Tax CA: 7.25% → 10.00%",) and changed.change.actor == "manager"
    assert not again.applied and again.change == changed.change
    assert [p.config.version for p in store.persisted] == [1]
    assert state.config == changed.config and state.changes == (changed.change,)


async def test_a_broken_rule_or_a_store_that_stays_down_is_refused_and_changes_nothing(env):
    store = FakeStore()
    worker, handle = await _start(env, store)
    async with worker:
        with pytest.raises(WorkflowUpdateFailedError) as negative:
            await _change(handle, 0, tax_basis_points={"CA": -100}, shipping_methods=())
        with pytest.raises(WorkflowUpdateFailedError) as stale:
            await _change(handle, 3, store_name="Elsewhere")
        store.down = True
        with pytest.raises(WorkflowUpdateFailedError) as down:
            await _change(handle, 0, store_name="Heron Down")
        state = await _state(handle)
        await record(handle, "store_config_refused")
    for refusal, error_type in ((negative, StoreConfigErrors.INVALID), (stale, StoreConfigErrors.STALE),
                                (down, StoreConfigErrors.UNAVAILABLE)):
        assert isinstance(refusal.value.cause, ApplicationError) and refusal.value.cause.type == error_type
    assert "The tax rate of CA cannot be negative" in negative.value.cause.message
    assert "Offer at least one shipping method" in negative.value.cause.message
    assert state.config == CONFIG and state.changes == () and store.persisted == []


async def test_after_its_limit_the_run_continues_as_new_with_its_configuration_and_changes(env):
    store = FakeStore()
    worker, handle = await _start(env, store, continue_as_new_after=2)
    async with worker:
        first = await _change(handle, 0, "one", store_name="Heron One")
        await _change(handle, 1, "two", store_name="Heron Two")
        first_run = env.client.get_workflow_handle(handle.id, run_id=handle.result_run_id)
        for _ in range(100):
            if (await first_run.describe()).status == WorkflowExecutionStatus.CONTINUED_AS_NEW:
                break
            await asyncio.sleep(0.05)
        await record(first_run, "store_config_continue_as_new")
        latest = env.client.get_workflow_handle(handle.id)
        repeated = await _change(latest, 0, "one", store_name="Heron One")
        state = await _state(latest)
        description = await latest.describe()
    assert description.run_id != handle.result_run_id
    assert state.config.store_name == "Heron Two" and state.config.version == 2
    assert [change.version for change in state.changes] == [1, 2]
    assert not repeated.applied and repeated.change == first.change
