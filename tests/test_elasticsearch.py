import uuid

import pytest
from django.conf import settings

from commerce.search import concrete_indices
from inventory.documents import ProductDocument
from inventory.projection import ProductListing, VariantListing

pytestmark = pytest.mark.usefixtures("search_indices")


def _listing(slug: str) -> ProductListing:
    return ProductListing(
        slug=slug,
        code="99999",
        name="Walnut Cutting Board",
        description="End-grain walnut, oiled by hand.",
        collections=["kitchen"],
        collection_names=["Kitchen"],
        product_type="Cutting Board",
        department="Home",
        vendor="Ember Home",
        tags=["wood"],
        image_shape="tray",
        featured=False,
        created_at=None,
        variants=[VariantListing(f"{slug}-OAK", "Oat", "d9ceb5", "One Size", 6500, 4)],
    )


def test_a_product_document_is_indexed_and_found_by_its_words():
    listing = _listing(f"walnut-cutting-board-{uuid.uuid4().hex[:8]}")

    ProductDocument().update([listing], refresh=True)
    try:
        hits = ProductDocument.search().query("match", description="walnut oiled").filter(
            "term", slug=listing.slug).execute()
        assert [hit.slug for hit in hits] == [listing.slug]
        assert hits[0].name == "Walnut Cutting Board"
        assert hits[0].price_min_cents == 6500
        assert hits[0].variants[0].available == 4
    finally:
        ProductDocument().update([listing], action="delete", refresh=True)


def test_documents_live_in_a_concrete_index_behind_an_alias():
    alias = ProductDocument._index._name

    indices = concrete_indices(alias)

    assert alias == f"{settings.ELASTICSEARCH_INDEX_PREFIX}products" and settings.ELASTICSEARCH_INDEX_PREFIX
    assert len(indices) == 1 and indices[0].startswith(f"{alias}-")


def test_ensure_index_replaces_a_plain_index_that_a_write_created_where_the_alias_belongs():
    from commerce.search import ensure_index, es
    from orders.documents import SupplierOrderDocument

    alias = SupplierOrderDocument._index._name
    for index in concrete_indices(alias):
        es().indices.delete(index=index)
    es().index(index=alias, id="stray", document={"stage": "shipped"}, refresh=True)  # auto-created
    assert concrete_indices(alias) == []

    index, created = ensure_index(SupplierOrderDocument)

    assert created and concrete_indices(alias) == [index] and index.startswith(f"{alias}-")
    assert es().count(index=alias)["count"] == 0
