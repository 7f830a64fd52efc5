"""Activities of identity: all of its I/O (Cassandra, Elasticsearch, other workflows)."""

from temporalio import activity

from identity import config_store
from identity.contracts import IdentityActivities, PersistStoreConfig


@activity.defn(name=IdentityActivities.PERSIST_STORE_CONFIG)
def persist_store_config(request: PersistStoreConfig) -> None:
    """Write a new version of the store configuration and its change record to Cassandra."""
    config_store.write(request.config, request.change)
