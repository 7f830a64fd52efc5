"""Activities of fulfillment: all of its I/O (Cassandra, Elasticsearch, other workflows)."""
