"""Cassandra tables of the catalog and stock (DjangoCassandraModel)."""

from cassandra.cqlengine import columns
from django_cassandra_engine.models import DjangoCassandraModel


class Product(DjangoCassandraModel):
    """A product of the catalog, read by slug on its page."""

    __table_name__ = "products"

    slug = columns.Text(primary_key=True)
    name = columns.Text(required=True)
    description = columns.Text(default="")
    product_type = columns.Text(default="")
    vendor = columns.Text(default="")
    collections = columns.List(columns.Text)
    tags = columns.Set(columns.Text)
    price_min_cents = columns.Integer(default=0)
    price_max_cents = columns.Integer(default=0)
    created_at = columns.DateTime()

    class Meta:
        get_pk_field = "slug"
