"""What the product page's Cassandra reads raise when the store is not there, or a row is not."""

import pytest
from cassandra.cqlengine import CQLEngineException
from cassandra.cqlengine.query import DoesNotExist

from inventory import services


def test_a_connection_never_made_is_the_catalog_unavailable_not_a_500():
    with pytest.raises(services.CatalogUnavailable), services._catalog_store():
        raise CQLEngineException("Connection name '<object>' doesn't exist in the registry.")


def test_a_missing_row_stays_a_missing_row():
    with pytest.raises(DoesNotExist), services._catalog_store():
        raise DoesNotExist("no such product")
