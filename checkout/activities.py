"""Activities of checkout: all of its I/O (Cassandra, Elasticsearch, other workflows)."""
