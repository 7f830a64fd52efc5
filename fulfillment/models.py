"""Cassandra tables of fulfillment (DjangoCassandraModel)."""
