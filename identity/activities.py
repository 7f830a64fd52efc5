"""Activities of identity: all of its I/O (Cassandra, Elasticsearch, other workflows)."""
