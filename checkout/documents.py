"""Elasticsearch documents of checkout."""
