"""What views and admin call for identity: Temporal calls and read-model queries, returning contracts.

The store configuration: `store_config()` / `astore_config()` are the web tier's cached copy
(identity.config); `store_config_state()` is what the staff page shows (the workflow's answer, or
what Cassandra has when the workflow has not been started yet); `change_store_config()` sends a
change to the `store-config` workflow (update-with-start: the first change starts it from what is
persisted, else from settings) and serves the answer in this process at once.

Errors have messages staff can read: `StoreConfigRefused` (the workflow's reason: a broken rule, a
stale form), `StoreConfigUnavailable` (Temporal, its worker or Cassandra did not answer; for a change:
not confirmed, it may still apply; sending the same action id again applies it once).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from asgiref.sync import async_to_sync
from cassandra import DriverException
from cassandra.cluster import NoHostAvailable
from temporalio.client import (
    WithStartWorkflowOperation,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import QueryRejectCondition, WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from commerce.temporal import get_client
from identity import config_store
from identity.config import (
    DEFAULT_TAX_BASIS_POINTS,
    TAX_BASIS_POINTS,
    astore_config,
    default_store_config,
    remember,
    store_config,
)
from identity.contracts import (
    STORE_CONFIG_WORKFLOW_ID,
    TASK_QUEUE,
    ChangeStoreConfig,
    StoreConfig,
    StoreConfigChanged,
    StoreConfigInput,
    StoreConfigQueries,
    StoreConfigState,
)
from identity.workflows import StoreConfigWorkflow

__all__ = ["DEFAULT_TAX_BASIS_POINTS", "TAX_BASIS_POINTS", "StoreConfigError", "StoreConfigRefused",
           "StoreConfigUnavailable", "StoreConfigView", "astore_config", "change_store_config", "store_config",
           "store_config_state"]

logger = logging.getLogger(__name__)

QUERY_TIMEOUT = timedelta(seconds=10)
UPDATE_TIMEOUT = timedelta(seconds=30)  # the update persists to Cassandra before it answers


class StoreConfigError(Exception):
    """Base of what these functions raise: `str()` is the message for staff."""


class StoreConfigRefused(StoreConfigError):
    def __init__(self, message: str, error_type: str = "") -> None:
        super().__init__(message)
        self.error_type = error_type


class StoreConfigUnavailable(StoreConfigError):
    pass


@dataclass(frozen=True)
class StoreConfigView:
    state: StoreConfigState
    live: bool  # answered by the workflow; False: from Cassandra/settings (no change made yet)


def _persisted_start() -> StoreConfigState:
    """What the workflow starts from: the persisted configuration and changes, else the settings'."""
    try:
        return StoreConfigState(config_store.read_current() or default_store_config(), config_store.read_changes())
    except (NoHostAvailable, DriverException) as error:
        logger.warning("store config: Cassandra unavailable: %s", error)
        raise StoreConfigUnavailable("The configuration store (Cassandra) is not answering just now.") from error


async def _client():
    try:
        return await get_client()
    except RuntimeError as error:
        logger.warning("store config: Temporal unreachable: %s", error)
        raise StoreConfigUnavailable("The configuration service (Temporal) is not answering just now.") from error


async def _query() -> StoreConfigState | None:
    handle = (await _client()).get_workflow_handle(STORE_CONFIG_WORKFLOW_ID)
    try:
        # A closed run (terminated by an operator) is not the configuration: the next change starts anew.
        return await handle.query(StoreConfigQueries.GET, result_type=StoreConfigState, rpc_timeout=QUERY_TIMEOUT,
                                  reject_condition=QueryRejectCondition.NOT_OPEN)
    except WorkflowQueryRejectedError:
        return None
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        logger.warning("store config: query failed: %s %s", error.status, error)
        raise StoreConfigUnavailable("The configuration service did not answer; is the identity worker "
                                     "(`manage.py runworkers`) running?") from None
    except WorkflowQueryFailedError as error:
        logger.warning("store config: query failed: %s", error)
        raise StoreConfigUnavailable("The configuration service could not answer just now.") from error


def store_config_state() -> StoreConfigView:
    """The configuration with its version and latest changes, as the workflow has it; before the
    first change (no workflow yet), what Cassandra has (or the settings'), `live` False."""
    state = async_to_sync(_query)()
    if state is not None:
        remember(state.config)
        return StoreConfigView(state, live=True)
    return StoreConfigView(_persisted_start(), live=False)


async def _change(request: ChangeStoreConfig, start: StoreConfigState) -> StoreConfigChanged:
    client = await _client()
    operation = WithStartWorkflowOperation(
        StoreConfigWorkflow.run, StoreConfigInput(start.config, start.changes), id=STORE_CONFIG_WORKFLOW_ID,
        task_queue=TASK_QUEUE, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
    try:
        return await client.execute_update_with_start_workflow(
            StoreConfigWorkflow.change_store_config, request, start_workflow_operation=operation,
            id=request.action_id, result_type=StoreConfigChanged, rpc_timeout=UPDATE_TIMEOUT)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError):
            raise StoreConfigRefused(cause.message, cause.type or "") from None
        raise StoreConfigRefused(str(cause or error)) from None
    except (WorkflowUpdateRPCTimeoutOrCancelledError, RPCError) as error:
        logger.warning("store config: change %s not confirmed: %s", request.action_id, error)
        raise StoreConfigUnavailable("The configuration service did not confirm the change in time; it may still "
                                     "apply. Send the same form again to make sure (it applies once).") from None


def change_store_config(actor: str, config: StoreConfig, expected_version: int, action_id: str,
                        reason: str = "") -> StoreConfigChanged:
    """Apply `config` as the next version, decided on `expected_version`, once per `action_id`.
    Raises StoreConfigRefused with the workflow's reason, or StoreConfigUnavailable."""
    request = ChangeStoreConfig(actor=actor, config=config, expected_version=expected_version,
                                action_id=action_id, reason=reason)
    result = async_to_sync(_change)(request, _persisted_start())
    remember(result.config)
    return result
