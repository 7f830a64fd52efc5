"""Test isolation, loaded by pytest before Django reads its settings (`-p commerce.pytest_env`).

Tests share the local stack's processes but never the shop's data: their own Cassandra
keyspace, Elasticsearch index prefix and Temporal namespace.
"""

import os

os.environ.setdefault("CASSANDRA_KEYSPACE", "commerce_test")
os.environ.setdefault("ELASTICSEARCH_INDEX_PREFIX", "test-")
os.environ["TEMPORAL_NAMESPACE"] = os.environ.get("TEMPORAL_TEST_NAMESPACE", "commerce-test")
os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key")
# Test workers drain quickly: a test's teardown should not wait 20 s for an activity.
os.environ.setdefault("TEMPORAL_GRACEFUL_SHUTDOWN_SECONDS", "3")
