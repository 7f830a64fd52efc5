"""Cassandra tables of orders (DjangoCassandraModel).

Each table answers one question by its partition key:
- `orders`: an order by its number (everything the checkout placed, lines as JSON text);
- `orders_by_customer`: a shopper's orders, newest first, by normalized email (lower case, no
  surrounding spaces);
- `orders_by_number`: who owns an order number (the checkout that placed it). Written first, with a
  lightweight transaction, so two checkouts can never place orders under one number;
- `order_emails`: which emails of an order went out (so a retried activity sends each once).

These models are the schema (`sync_cassandra` creates the tables) and serve simple reads; the
writes are in `orders/store.py` (lightweight transactions and a logged batch, in raw CQL).
"""

from cassandra.cqlengine import columns
from django_cassandra_engine.models import DjangoCassandraModel


class Order(DjangoCassandraModel):
    """An order as the checkout placed it, and its current status."""

    __table_name__ = "orders"

    order_number = columns.Text(primary_key=True)
    checkout_id = columns.Text(default="")
    cart_id = columns.Text(default="")
    email = columns.Text(default="")
    customer_id = columns.Text(default="")
    # The shipping address (checkout.contracts.Address), one column per field.
    ship_email = columns.Text(default="")
    ship_full_name = columns.Text(default="")
    ship_line1 = columns.Text(default="")
    ship_line2 = columns.Text(default="")
    ship_city = columns.Text(default="")
    ship_state = columns.Text(default="")
    ship_postal_code = columns.Text(default="")
    ship_country = columns.Text(default="")
    shipping_method = columns.Text(default="")
    # The lines (checkout.contracts.CheckoutLine) as a JSON list of objects.
    lines_json = columns.Text(default="[]")
    subtotal_cents = columns.Integer(default=0)
    discount_cents = columns.Integer(default=0)
    shipping_cents = columns.Integer(default=0)
    tax_cents = columns.Integer(default=0)
    total_cents = columns.Integer(default=0)
    payment_authorization_key = columns.Text(default="")
    card_brand = columns.Text(default="")
    card_last4 = columns.Text(default="")
    status = columns.Text(default="")
    # The order workflow's version that wrote `status` (orders.store.set_status): an older record
    # never moves the status back. Null until the workflow first records the order.
    status_version = columns.Integer()
    placed_at = columns.DateTime()

    class Meta:
        get_pk_field = "order_number"
        # The staff console's actions (orders/admin.py); `view_order` is Django's own. The roles that
        # hold them are made by identity/migrations.
        permissions = [
            ("approve_order", "Can approve orders awaiting approval"),
            ("cancel_order", "Can cancel orders"),
            ("refund_order", "Can refund orders"),
            ("retry_order_payment", "Can retry the payment of an order on hold"),
            ("add_order_note", "Can add notes to orders"),
            ("advance_order_fulfillment", "Can advance manual fulfillment steps"),
        ]


class OrderByCustomer(DjangoCassandraModel):
    """A shopper's orders, newest first: a summary for the order list, the order itself in `orders`."""

    __table_name__ = "orders_by_customer"

    email = columns.Text(partition_key=True)  # normalized: stripped, lower case
    placed_at = columns.DateTime(primary_key=True, clustering_order="DESC")
    order_number = columns.Text(primary_key=True)
    customer_id = columns.Text(default="")
    status = columns.Text(default="")
    status_version = columns.Integer()  # as Order.status_version
    total_cents = columns.Integer(default=0)
    item_count = columns.Integer(default=0)

    class Meta:
        get_pk_field = "email"


class OrderByNumber(DjangoCassandraModel):
    """The uniqueness guard of order numbers: written once (IF NOT EXISTS) by the checkout that owns it."""

    __table_name__ = "orders_by_number"

    order_number = columns.Text(primary_key=True)
    checkout_id = columns.Text(required=True)
    email = columns.Text(default="")
    placed_at = columns.DateTime()

    class Meta:
        get_pk_field = "order_number"


class OrderEmail(DjangoCassandraModel):
    """An email of an order that went out (`confirmation`, later `shipped`...), marked once (IF NOT EXISTS)."""

    __table_name__ = "order_emails"

    order_number = columns.Text(partition_key=True)
    kind = columns.Text(primary_key=True)
    sent_at = columns.DateTime()

    class Meta:
        get_pk_field = "order_number"


class OrderStatusHistory(DjangoCassandraModel):
    """Every transition of an order, oldest first: who or what, when, from, to, why. Written by the
    order workflow's record activity under the transition's sequence number, so a retry rewrites
    the same row."""

    __table_name__ = "order_status_history"

    order_number = columns.Text(partition_key=True)
    seq = columns.Integer(primary_key=True, clustering_order="ASC")
    at = columns.DateTime()
    from_status = columns.Text(default="")
    to_status = columns.Text(default="")
    actor = columns.Text(default="")
    reason = columns.Text(default="")

    class Meta:
        get_pk_field = "order_number"


class OrderShipment(DjangoCassandraModel):
    """An order's supplier orders as the shopper's page shows them: stage and tracking number."""

    __table_name__ = "order_shipments"

    order_number = columns.Text(partition_key=True)
    supplier_order_id = columns.Text(primary_key=True)
    supplier_index = columns.Integer(default=0)
    supplier_id = columns.Text(default="")
    supplier_name = columns.Text(default="")
    strategy = columns.Text(default="")
    line_indexes = columns.List(columns.Integer)
    amount_cents = columns.Integer(default=0)
    stage = columns.Text(default="")
    tracking_number = columns.Text(default="")
    carrier = columns.Text(default="")
    updated_at = columns.DateTime()
    version = columns.Integer(default=0)  # the order's version that wrote it: older writes never win

    class Meta:
        get_pk_field = "order_number"
