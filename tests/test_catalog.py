import io
from collections import Counter

import pytest
from django.conf import settings
from django.core.management import call_command

from commerce.cassandra import session, table
from commerce.search import concrete_indices
from inventory.catalog.generator import generate_catalog
from inventory.catalog.store import write_catalog
from inventory.documents import CollectionDocument, ProductDocument
from tests.conftest import TEST_CATALOG_PRODUCTS


def _count(name: str) -> int:
    return sum(1 for _ in session().execute(f"SELECT * FROM {table(name)}"))


def test_the_same_seed_generates_the_same_catalog():
    assert generate_catalog(products=300, seed=5) == generate_catalog(products=300, seed=5)


def test_another_seed_generates_another_catalog():
    first, second = generate_catalog(products=300, seed=5), generate_catalog(products=300, seed=6)
    assert [p.name for p in first.products] != [p.name for p in second.products]


def test_the_default_catalog_has_the_promised_shape():
    catalog = generate_catalog()

    assert len(catalog.products) == 2689
    assert 38 <= len(catalog.collections) <= 50
    assert {s.strategy for s in catalog.suppliers} == {"simulated", "dropship", "manual"}
    assert all(1 <= len(p.variants) <= 12 for p in catalog.products)
    assert len({p.slug for p in catalog.products}) == len(catalog.products)
    variants = catalog.variants
    assert len({v.sku for v in variants}) == len(variants)
    assert all(isinstance(v.price_cents, int) and v.price_cents > 0 for v in variants)
    sold_out = sum(v.on_hand == 0 for v in variants)
    scarce = sum(1 <= v.on_hand <= 3 for v in variants)
    assert 0.03 * len(variants) < sold_out < 0.15 * len(variants)
    assert 0.03 * len(variants) < scarce < 0.2 * len(variants)
    # Every supplier ships something, and every collection has products.
    assert set(Counter(p.supplier_id for p in catalog.products)) == {s.supplier_id for s in catalog.suppliers}
    assert all(c.product_count > 0 for c in catalog.collections)


def test_seeding_writes_every_row_to_cassandra(catalog):
    assert _count("products") == TEST_CATALOG_PRODUCTS
    assert _count("variants") == len(catalog.variants)
    assert _count("variants_by_product") == len(catalog.variants)
    assert _count("inventory_stock") == len(catalog.variants)
    assert _count("collections") == len(catalog.collections)
    assert _count("suppliers") == 3
    assert _count("products_by_collection") == sum(len(p.collections) for p in catalog.products)


def test_reseeding_with_the_same_seed_changes_nothing(catalog):
    sku = catalog.variants[0].sku
    stock = f"SELECT on_hand, reserved FROM {table('inventory_stock')} WHERE sku = %s"
    # Stock moved since the seed (a shopper holds two): reseeding must not reset it.
    session().execute(f"UPDATE {table('inventory_stock')} SET reserved = 2 WHERE sku = %s AND supplier_id = %s",
                      [sku, catalog.products[0].supplier_id])
    before = session().execute(f"SELECT * FROM {table('products')}").all()
    try:
        summary = write_catalog(catalog, io.StringIO())

        assert summary.stock_rows_created == 0
        assert summary.stock_rows_kept == len(catalog.variants)
        assert session().execute(stock, [sku]).one()["reserved"] == 2
        assert sorted(session().execute(f"SELECT * FROM {table('products')}").all(), key=lambda r: r["slug"]) == \
            sorted(before, key=lambda r: r["slug"])
    finally:
        session().execute(f"UPDATE {table('inventory_stock')} SET reserved = 0 WHERE sku = %s AND supplier_id = %s",
                          [sku, catalog.products[0].supplier_id])


def test_reindex_fills_a_new_index_and_swaps_the_alias(catalog):
    old = concrete_indices(ProductDocument._index._name)

    call_command("reindex", "products", stdout=io.StringIO(), stderr=io.StringIO())

    new = concrete_indices(ProductDocument._index._name)
    assert len(old) == 1 and len(new) == 1 and old != new
    assert ProductDocument.search().count() == TEST_CATALOG_PRODUCTS
    assert CollectionDocument.search().count() == len(catalog.collections)


def test_reindex_prints_progress(catalog):
    err = io.StringIO()
    call_command("reindex", "collections", stdout=io.StringIO(), stderr=err)
    assert "100%" in err.getvalue() and f"indexing {settings.ELASTICSEARCH_INDEX_PREFIX}collections" in err.getvalue()


def test_seed_catalog_refuses_a_nonsense_product_count():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="at least 1"):
        call_command("seed_catalog", "--products", "0", stdout=io.StringIO())
