"""Elasticsearch documents of fulfillment."""
