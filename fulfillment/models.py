"""Cassandra tables of fulfillment (DjangoCassandraModel).

These models are the schema (`sync_cassandra` creates and alters the tables from them). The simulated
dropship partner (`fulfillment/partner.py`) writes them with raw CQL, for what cqlengine cannot
express: lightweight transactions (`INSERT ... IF NOT EXISTS`, `UPDATE ... IF col = ?`).
"""

from cassandra.cqlengine import columns
from django_cassandra_engine.models import DjangoCassandraModel


class DropshipOrder(DjangoCassandraModel):
    """The dropship partner's own record of an order it was sent (the partner is an outside system:
    this table stands in for its database). Changed only by compare-and-set on the values read.

    `status` is the last stage the partner recorded (accepted, ready, shipped, delivered, cancelled);
    stages move on over real time, recorded when a call notices them. `calls` counts every call made
    about the order and `failures` those that failed transiently."""

    __table_name__ = "dropship_orders"

    partner_order_id = columns.Text(primary_key=True)
    reference = columns.Text(default="")  # the caller's idempotency key (the supplier order id)
    status = columns.Text(default="")
    units = columns.Map(columns.Text, columns.Integer)  # SKU -> units
    ship_to = columns.Text(default="")
    tracking_number = columns.Text(default="")
    carrier = columns.Text(default="")
    created_at = columns.DateTime()
    released_at = columns.DateTime()
    shipped_at = columns.DateTime()
    delivered_at = columns.DateTime()
    cancelled_at = columns.DateTime()
    calls = columns.Integer(default=0)
    failures = columns.Integer(default=0)

    class Meta:
        get_pk_field = "partner_order_id"


class DropshipOrderByReference(DjangoCassandraModel):
    """The partner's idempotency: one partner order per reference, claimed first (`IF NOT EXISTS`)."""

    __table_name__ = "dropship_orders_by_reference"

    reference = columns.Text(primary_key=True)
    partner_order_id = columns.Text(required=True)
    created_at = columns.DateTime()

    class Meta:
        get_pk_field = "reference"
