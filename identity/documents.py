"""Elasticsearch documents of identity."""
