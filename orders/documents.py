"""Elasticsearch documents of orders."""
