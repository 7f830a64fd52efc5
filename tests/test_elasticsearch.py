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
