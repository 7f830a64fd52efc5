"""Activities of inventory: all of its I/O (Cassandra, Elasticsearch, other workflows)."""
