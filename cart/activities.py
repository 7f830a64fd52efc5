"""Activities of cart: all of its I/O (Cassandra, Elasticsearch, other workflows)."""
