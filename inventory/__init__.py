"""Catalog, stock, reservations and the search projections."""
