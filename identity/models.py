"""Cassandra tables of identity (DjangoCassandraModel)."""
