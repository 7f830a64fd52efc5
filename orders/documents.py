"""Elasticsearch read models of orders: what the staff's order list searches and filters.

`orders`: one document per order (id = order number); `supplier_orders`: one per supplier order
(id = supplier order id). Both are written by the order workflow's record activity
(`orders.projection.record`) with the order's version as the external version, so a late retry
never overwrites a newer state, and rebuilt from Cassandra by `manage.py reindex orders`. Nothing is
written by Django signals. Sources are plain dicts (`orders.projection` builds them).
"""

from django_elasticsearch_dsl import Document, fields
from django_elasticsearch_dsl.registries import registry
from elasticsearch.dsl import analysis

from commerce.search import index_name
from orders.models import Order, OrderShipment

SINGLE_NODE = {"number_of_shards": 1, "number_of_replicas": 0}

# Emails are matched whole and without regard to case (the source is lower-cased as well).
LOWERCASE = analysis.normalizer("lowercase_keyword", filter=["lowercase"])


@registry.register_document
class OrderDocument(Document):
    order_number = fields.KeywordField()
    status = fields.KeywordField()
    email = fields.KeywordField(normalizer=LOWERCASE)
    customer_name = fields.TextField(fields={"raw": fields.KeywordField()})
    placed_at = fields.DateField()
    updated_at = fields.DateField()
    total_cents = fields.LongField()
    item_count = fields.IntegerField()
    suppliers = fields.KeywordField(multi=True)  # supplier ids
    supplier_order_stages = fields.KeywordField(multi=True)  # one per supplier order, by index
    needs_approval = fields.BooleanField()
    payment_hold = fields.BooleanField()
    captured_cents = fields.LongField()
    refunded_cents = fields.LongField()
    version = fields.LongField()

    class Index:
        name = index_name("orders")
        settings = SINGLE_NODE

    class Django:
        model = Order
        ignore_signals = True

    @classmethod
    def generate_id(cls, source):
        return source["order_number"]


@registry.register_document
class SupplierOrderDocument(Document):
    supplier_order_id = fields.KeywordField()
    order_number = fields.KeywordField()
    supplier_id = fields.KeywordField()
    supplier_name = fields.TextField(fields={"raw": fields.KeywordField()})
    strategy = fields.KeywordField()
    stage = fields.KeywordField()
    tracking_number = fields.KeywordField()
    amount_cents = fields.LongField()
    updated_at = fields.DateField()
    placed_at = fields.DateField()
    version = fields.LongField()

    class Index:
        name = index_name("supplier_orders")
        settings = SINGLE_NODE

    class Django:
        model = OrderShipment
        ignore_signals = True

    @classmethod
    def generate_id(cls, source):
        return source["supplier_order_id"]
