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


class Shopper(DjangoCassandraModel):
    """A shopper's profile beside the Django auth user (SQL holds the login; this the shop's side):
    the verified email that links guest orders. Keyed by the auth user's id as text."""

    __table_name__ = "shoppers"

    shopper_id = columns.Text(primary_key=True)
    email = columns.Text(default="")  # normalized: stripped, lower case
    full_name = columns.Text(default="")
    email_verified_at = columns.DateTime()
    created_at = columns.DateTime()

    class Meta:
        get_pk_field = "shopper_id"


class ShopperAddress(DjangoCassandraModel):
    """A shopper's saved shipping addresses (a few per shopper, one partition), oldest first."""

    __table_name__ = "shopper_addresses"

    shopper_id = columns.Text(partition_key=True)
    address_id = columns.TimeUUID(primary_key=True, clustering_order="ASC")
    full_name = columns.Text(default="")
    line1 = columns.Text(default="")
    line2 = columns.Text(default="")
    city = columns.Text(default="")
    state = columns.Text(default="")
    postal_code = columns.Text(default="")
    country = columns.Text(default="US")

    class Meta:
        get_pk_field = "shopper_id"


class ApiToken(DjangoCassandraModel):
    """A partner API token: only the secret's hash is kept. Revoked by its `token-{id}` workflow at
    expiry, or at once from the tokens page; the API also refuses one past `expires_at`."""

    __table_name__ = "api_tokens"

    token_id = columns.Text(primary_key=True)
    owner_id = columns.Text(default="")  # the Django auth user's id
    name = columns.Text(default="")
    scopes = columns.Set(columns.Text)
    secret_hash = columns.Text(default="")
    created_at = columns.DateTime()
    expires_at = columns.DateTime()
    revoked_at = columns.DateTime()
    revoked_reason = columns.Text(default="")  # "expired" or "revoked"
    last_used_at = columns.DateTime()

    class Meta:
        get_pk_field = "token_id"


class ApiTokenByOwner(DjangoCassandraModel):
    """The tokens page's list: an owner's tokens, newest first (the token itself in `api_tokens`)."""

    __table_name__ = "api_tokens_by_owner"

    owner_id = columns.Text(partition_key=True)
    created_at = columns.DateTime(primary_key=True, clustering_order="DESC")
    token_id = columns.Text(primary_key=True)

    class Meta:
        get_pk_field = "owner_id"
