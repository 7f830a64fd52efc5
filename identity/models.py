"""Cassandra tables of identity (DjangoCassandraModel)."""

from cassandra.cqlengine import columns
from django_cassandra_engine.models import DjangoCassandraModel


class StoreConfiguration(DjangoCassandraModel):
    """The store configuration's current version, written by the `store-config` workflow's persist
    activity (one row, key "current"); what the web tier caches and activities read. The workflow
    is the source of truth; the row is how the rest of the shop reads it without a Temporal call."""

    __table_name__ = "store_config"

    key = columns.Text(primary_key=True)
    version = columns.Integer(default=0)
    config_json = columns.Text(default="{}")
    updated_at = columns.DateTime()
    updated_by = columns.Text(default="")

    class Meta:
        get_pk_field = "key"
        verbose_name = "store configuration"
        verbose_name_plural = "store configuration"
        # The staff console (identity/admin.py) uses Django's own `view_` and `change_storeconfiguration`.


class StoreConfigChangeRecord(DjangoCassandraModel):
    """Every applied change of the store configuration, newest first: who, when, what, why."""

    __table_name__ = "store_config_changes"

    key = columns.Text(partition_key=True)  # one partition: a store changes its settings rarely
    version = columns.Integer(primary_key=True, clustering_order="DESC")
    changed_at = columns.DateTime()
    actor = columns.Text(default="")
    summary = columns.List(columns.Text)
    reason = columns.Text(default="")
    action_id = columns.Text(default="")
    config_json = columns.Text(default="{}")

    class Meta:
        get_pk_field = "key"
