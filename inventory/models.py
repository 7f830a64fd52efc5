"""Cassandra tables of the catalog and stock (DjangoCassandraModel).

Each table answers one question by its partition key: a product by slug, a variant by SKU, the
variants of a product, the products of a collection, the stock of a SKU.
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
    """Units of a SKU at a supplier. Changed only by compare-and-set (lightweight transactions)."""

    __table_name__ = "inventory_stock"

    sku = columns.Text(partition_key=True)
    supplier_id = columns.Text(primary_key=True)
    on_hand = columns.Integer(default=0)
    reserved = columns.Integer(default=0)
    # reservation id -> units it holds; `reserved` is always their sum (see inventory/stock.py)
    holds = columns.Map(columns.Text, columns.Integer)

    class Meta:
        get_pk_field = "sku"


class Reservation(DjangoCassandraModel):
    """A hold's state and expiry, for the sweeper and for carts (the units live in the stock row)."""

    __table_name__ = "inventory_reservations"

    reservation_id = columns.Text(primary_key=True)
    sku = columns.Text(required=True)
    supplier_id = columns.Text(default="")
    quantity = columns.Integer(default=0)
    cart_id = columns.Text(default="")
    status = columns.Text(default="")
    expires_at = columns.DateTime()
    updated_at = columns.DateTime()

    class Meta:
        get_pk_field = "reservation_id"


class ReservationByCart(DjangoCassandraModel):
    __table_name__ = "reservations_by_cart"

    cart_id = columns.Text(partition_key=True)
    reservation_id = columns.Text(primary_key=True)
    sku = columns.Text(default="")
    quantity = columns.Integer(default=0)
    status = columns.Text(default="")
    expires_at = columns.DateTime()

    class Meta:
        get_pk_field = "cart_id"
