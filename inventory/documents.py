"""Elasticsearch read models of the catalog."""

from django_elasticsearch_dsl import Document, fields
from django_elasticsearch_dsl.registries import registry

from commerce.search import index_name
from inventory.models import Product


@registry.register_document
class ProductDocument(Document):
    slug = fields.KeywordField()
    name = fields.TextField(fields={"raw": fields.KeywordField()})
    description = fields.TextField()
    product_type = fields.KeywordField()
    vendor = fields.KeywordField()
    collections = fields.KeywordField(multi=True)
    tags = fields.KeywordField(multi=True)
    price_min_cents = fields.IntegerField()
    price_max_cents = fields.IntegerField()

    class Index:
        name = index_name("products")
        settings = {"number_of_shards": 1, "number_of_replicas": 0}

    class Django:
        model = Product

    def prepare_collections(self, product):
        return list(product.collections or [])

    def prepare_tags(self, product):
        return sorted(product.tags or [])
