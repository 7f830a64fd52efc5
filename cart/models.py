"""Cassandra tables of cart (DjangoCassandraModel)."""
