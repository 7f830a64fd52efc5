import uuid

import pytest

from commerce.search import concrete_indices
from inventory.documents import ProductDocument
from inventory.models import Product

pytestmark = pytest.mark.usefixtures("search_indices")


def test_a_product_document_is_indexed_and_found_by_its_words():
    slug = f"walnut-cutting-board-{uuid.uuid4().hex[:8]}"
    product = Product(
        slug=slug,
        name="Walnut Cutting Board",
        description="End-grain walnut, oiled by hand.",
        product_type="kitchen",
        collections=["kitchen"],
        tags={"wood"},
        price_min_cents=6500,
        price_max_cents=6500,
    )

    ProductDocument().update([product], refresh=True)

    hits = ProductDocument.search().query("match", description="walnut oiled").filter("term", slug=slug).execute()
    assert [hit.slug for hit in hits] == [slug]
    assert hits[0].name == "Walnut Cutting Board"
    assert hits[0].price_min_cents == 6500


def test_documents_live_in_a_concrete_index_behind_an_alias():
    alias = ProductDocument._index._name

    indices = concrete_indices(alias)

    assert alias == "test-products"
    assert len(indices) == 1 and indices[0].startswith("test-products-")
