"""Cassandra tables of orders (DjangoCassandraModel)."""
