"""Cassandra tables of the catalog and stock (DjangoCassandraModel).

Each table answers one question by its partition key: a product by slug, a variant by SKU, the
variants of a product, the products of a collection, the stock of a SKU.

These models are the schema (`sync_cassandra` creates and alters the tables from them) and serve
simple reads. Three paths use raw CQL instead, each for a reason cqlengine cannot serve:
- `inventory/stock.py`: every stock change is a lightweight transaction conditioned on the row
  it read (compare-and-set), with collection-element conditions cqlengine cannot express;
- `inventory/reservations.py`: whole-row TTLs, deletes bounded by a write timestamp, and a scan
  that pages with the driver's paging state;
- `inventory/catalog/store.py` and `inventory/projection.py`: bulk writes and scans with prepared
  statements executed concurrently (seeding 2,689 products row by row through cqlengine is slow).
"""

from cassandra.cqlengine import columns
from django_cassandra_engine.models import DjangoCassandraModel


class Collection(DjangoCassandraModel):
    __table_name__ = "collections"

    slug = columns.Text(primary_key=True)
    name = columns.Text(required=True)
    department = columns.Text(default="")
    description = columns.Text(default="")
    position = columns.Integer(default=0)
    product_count = columns.Integer(default=0)
    image_shape = columns.Text(default="")
    image_colour = columns.Text(default="")

    class Meta:
        get_pk_field = "slug"


class Product(DjangoCassandraModel):
    """A product of the catalog, read by slug on its page."""

    __table_name__ = "products"

    slug = columns.Text(primary_key=True)
    code = columns.Text(default="")
    name = columns.Text(required=True)
    description = columns.Text(default="")
    product_type = columns.Text(default="")
    department = columns.Text(default="")
    vendor = columns.Text(default="")
    supplier_id = columns.Text(default="")
    collections = columns.List(columns.Text)
    tags = columns.Set(columns.Text)
    colours = columns.List(columns.Text)
    sizes = columns.List(columns.Text)
    image_shape = columns.Text(default="")
    price_min_cents = columns.Integer(default=0)
    price_max_cents = columns.Integer(default=0)
    featured = columns.Boolean(default=False)
    created_at = columns.DateTime()

    class Meta:
        get_pk_field = "slug"
        # The staff console's (inventory/admin.py); `view_product` is Django's own.
        permissions = [("reindex_catalog", "Can rebuild the catalog's search indices")]


class Variant(DjangoCassandraModel):
    """A sellable SKU: one colour and size of a product, with its price."""

    __table_name__ = "variants"

    sku = columns.Text(primary_key=True)
    product_slug = columns.Text(required=True)
    colour = columns.Text(default="")
    size = columns.Text(default="")
    price_cents = columns.Integer(required=True)
    position = columns.Integer(default=0)

    class Meta:
        get_pk_field = "sku"


class VariantByProduct(DjangoCassandraModel):
    """The variants of a product, in display order, in one partition."""

    __table_name__ = "variants_by_product"

    product_slug = columns.Text(partition_key=True)
    position = columns.Integer(primary_key=True)
    sku = columns.Text(primary_key=True)
    colour = columns.Text(default="")
    size = columns.Text(default="")
    price_cents = columns.Integer(required=True)

    class Meta:
        get_pk_field = "product_slug"


class ProductByCollection(DjangoCassandraModel):
    __table_name__ = "products_by_collection"

    collection_slug = columns.Text(partition_key=True)
    product_slug = columns.Text(primary_key=True)
    name = columns.Text(default="")

    class Meta:
        get_pk_field = "collection_slug"


class Supplier(DjangoCassandraModel):
    """Who ships a product; `strategy` picks the fulfillment workflow (simulated, dropship, manual)."""

    __table_name__ = "suppliers"

    supplier_id = columns.Text(primary_key=True)
    name = columns.Text(required=True)
    strategy = columns.Text(required=True)

    class Meta:
        get_pk_field = "supplier_id"


class InventoryStock(DjangoCassandraModel):
    """Units of a SKU at a supplier, and who holds them. Changed only by compare-and-set."""

    __table_name__ = "inventory_stock"

    sku = columns.Text(partition_key=True)
    supplier_id = columns.Text(primary_key=True)
    on_hand = columns.Integer(default=0)
    reserved = columns.Integer(default=0)
    # reservation id -> units it holds; `reserved` is always their sum (see inventory/stock.py)
    holds = columns.Map(columns.Text, columns.Integer)
    # reservation id -> when its hold lapses; a hold with no entry here is confirmed (an order owns it)
    hold_expiry = columns.Map(columns.Text, columns.DateTime)
    # ids of stock changes and commits applied to this row -> when: a retried command applies once
    applied = columns.Map(columns.Text, columns.DateTime)

    class Meta:
        get_pk_field = "sku"
        verbose_name = "stock level"


class Reservation(DjangoCassandraModel):
    """Where to find a hold (its SKU and supplier) and when it lapses: the sweeper's index.

    The stock row is the truth; this row is written before the stock row changes and with a
    TTL on every cell, so a hold that is never swept still leaves no row behind."""

    __table_name__ = "inventory_reservations"

    reservation_id = columns.Text(primary_key=True)
    sku = columns.Text(required=True)
    supplier_id = columns.Text(default="")
    cart_id = columns.Text(default="")
    status = columns.Text(default="")
    expires_at = columns.DateTime()

    class Meta:
        get_pk_field = "reservation_id"


class StockChangeRecord(DjangoCassandraModel):
    """Every stock change command applied, newest first per SKU: who, why, and the count after."""

    __table_name__ = "stock_changes"

    sku = columns.Text(partition_key=True)
    changed_at = columns.DateTime(primary_key=True, clustering_order="DESC")
    command_id = columns.Text(primary_key=True)
    supplier_id = columns.Text(default="")
    delta = columns.Integer(default=0)
    on_hand_after = columns.Integer(default=0)
    reason = columns.Text(default="")
    actor = columns.Text(default="")

    class Meta:
        get_pk_field = "sku"
