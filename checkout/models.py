"""Cassandra tables of checkout (DjangoCassandraModel)."""
