"""Every history recorded under tests/histories/ replays against today's workflow code."""

import pytest
from temporalio.worker import Replayer

from cart.workflows import CartWorkflow
from checkout.workflows import CheckoutWorkflow
from commerce.probe import ProbeWorkflow
from fulfillment.workflows import FulfillmentWorkflow, SupplierOrderWorkflow
from identity.workflows import ApiTokenWorkflow, SessionSweepWorkflow, StoreConfigWorkflow
from inventory.workflows import CatalogReindexWorkflow, InventoryServiceWorkflow, StockChangeWorkflow
from orders.workflows import LinkGuestOrdersWorkflow, OrderWorkflow
from tests.histories import recorded

WORKFLOWS = [ProbeWorkflow, CartWorkflow, CheckoutWorkflow, InventoryServiceWorkflow, StockChangeWorkflow,
             CatalogReindexWorkflow, OrderWorkflow, FulfillmentWorkflow, SupplierOrderWorkflow, StoreConfigWorkflow,
             ApiTokenWorkflow, SessionSweepWorkflow, LinkGuestOrdersWorkflow]


def test_every_workflow_has_a_recorded_history():
    recorded_types = {history.events[0].workflow_execution_started_event_attributes.workflow_type.name
                      for _, history in recorded()}
    assert recorded_types == {workflow.__temporal_workflow_definition.name for workflow in WORKFLOWS}, \
        "record the missing ones with RECORD_HISTORIES=1"


@pytest.mark.parametrize("name,history", recorded(), ids=[name for name, _ in recorded()])
async def test_a_recorded_history_replays(name, history):
    replay = await Replayer(workflows=WORKFLOWS).replay_workflow(history, raise_on_replay_failure=False)
    assert replay.replay_failure is None, f"{name}: {replay.replay_failure}"
