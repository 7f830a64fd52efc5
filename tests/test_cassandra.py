import uuid

import pytest
from cassandra.cqlengine.query import DoesNotExist

from inventory.models import Product

pytestmark = pytest.mark.usefixtures("cassandra_schema")


def test_a_product_makes_the_round_trip_through_cassandra():
    slug = f"linen-shirt-{uuid.uuid4().hex[:8]}"
    Product.create(
        slug=slug,
        name="Linen Shirt",
        description="Breathable linen.",
        collections=["summer", "shirts"],
        tags={"linen", "organic"},
        price_min_cents=4900,
        price_max_cents=5900,
    )

    stored = Product.objects.get(slug=slug)

    assert stored.name == "Linen Shirt"
    assert stored.collections == ["summer", "shirts"]
    assert stored.tags == {"linen", "organic"}
    assert (stored.price_min_cents, stored.price_max_cents) == (4900, 5900)
    stored.delete()


def test_an_update_and_a_delete_are_seen_by_the_next_read():
    slug = f"mug-{uuid.uuid4().hex[:8]}"
    Product.create(slug=slug, name="Mug", price_min_cents=1200, price_max_cents=1200)

    Product.objects(slug=slug).update(price_min_cents=1100)
    assert Product.objects.get(slug=slug).price_min_cents == 1100

    Product.objects(slug=slug).delete()
    with pytest.raises(DoesNotExist):
        Product.objects.get(slug=slug)
