"""Elasticsearch read models of the catalog: what search, collection and home pages read.

Documents are built from `inventory.projection` listings (Cassandra rows joined with stock),
never from Django signals.
"""

from django_elasticsearch_dsl import Document, fields
from django_elasticsearch_dsl.registries import registry

from commerce.search import index_name
from inventory.models import Collection, Product

SINGLE_NODE = {"number_of_shards": 1, "number_of_replicas": 0}


def _slug_of(obj) -> str:
    return obj["slug"] if isinstance(obj, dict) else obj.slug


@registry.register_document
class ProductDocument(Document):
    slug = fields.KeywordField()
    code = fields.KeywordField()
    name = fields.TextField(fields={"raw": fields.KeywordField()})
    description = fields.TextField()
    # Name, type, collections, colours, materials and maker in one field, so a query such as
    # "blue linen shirt" can match words that live in different attributes.
    search_text = fields.TextField()
    collections = fields.KeywordField(multi=True)
    collection_names = fields.TextField(multi=True)
    product_type = fields.KeywordField(fields={"text": fields.TextField()})
    department = fields.KeywordField()
    vendor = fields.KeywordField()
    tags = fields.KeywordField(multi=True)
    colours = fields.KeywordField(multi=True)
    sizes = fields.KeywordField(multi=True)
    price_min_cents = fields.IntegerField()
    price_max_cents = fields.IntegerField()
    available = fields.IntegerField()
    in_stock = fields.BooleanField()
    featured = fields.BooleanField()
    image_shape = fields.KeywordField()
    image_colour = fields.KeywordField()
    default_sku = fields.KeywordField()
    created_at = fields.DateField()
    variants = fields.NestedField(
        properties={
            "sku": fields.KeywordField(),
            "colour": fields.KeywordField(),
            "colour_hex": fields.KeywordField(),
            "size": fields.KeywordField(),
            "price_cents": fields.IntegerField(),
            "available": fields.IntegerField(),
        }
    )

    class Index:
        name = index_name("products")
        settings = SINGLE_NODE

    class Django:
        model = Product

    @classmethod
    def generate_id(cls, listing):
        return _slug_of(listing)


@registry.register_document
class CollectionDocument(Document):
    slug = fields.KeywordField()
    name = fields.TextField(fields={"raw": fields.KeywordField()})
    department = fields.KeywordField()
    description = fields.TextField()
    position = fields.IntegerField()
    product_count = fields.IntegerField()
    image_shape = fields.KeywordField()
    image_colour = fields.KeywordField()

    class Index:
        name = index_name("collections")
        settings = SINGLE_NODE

    class Django:
        model = Collection

    @classmethod
    def generate_id(cls, row):
        return _slug_of(row)
