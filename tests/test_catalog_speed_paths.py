"""The fast seed and reindex paths write exactly what the slow ones did."""

import io
import logging

from commerce.cassandra import session, table
from inventory.catalog.store import write_catalog
from inventory.documents import ProductDocument
from inventory.projection import iter_product_listings
from inventory.reindexing import product_source


def test_a_product_document_is_what_elasticsearch_dsl_would_prepare(catalog):
    listings = list(iter_product_listings())

    assert listings
    assert all(product_source(listing) == ProductDocument().prepare(listing) for listing in listings)


def test_a_reseed_recreates_a_missing_stock_row_and_keeps_the_others(catalog):
    product = catalog.products[0]
    variant = product.variants[0]
    session().execute(f"DELETE FROM {table('inventory_stock')} WHERE sku = %s AND supplier_id = %s",
                      [variant.sku, product.supplier_id])

    summary = write_catalog(catalog, io.StringIO())

    assert (summary.stock_rows_created, summary.stock_rows_kept) == (1, len(catalog.variants) - 1)
    row = session().execute(f"SELECT on_hand, reserved FROM {table('inventory_stock')} WHERE sku = %s",
                            [variant.sku]).one()
    assert (row["on_hand"], row["reserved"]) == (variant.on_hand, 0)


def test_seeding_draws_no_batch_warning_from_cassandra(catalog, caplog):
    with caplog.at_level(logging.WARNING, logger="cassandra"):
        write_catalog(catalog, io.StringIO())

    assert not [record for record in caplog.records if "batch" in record.getMessage().lower()]

