"""Elasticsearch documents of cart."""
