"""The catalog's staff console: products from the index, and the reindex workflow."""
