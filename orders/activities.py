"""Activities of orders: all of its I/O (Cassandra, Elasticsearch, other workflows)."""
