"""Deterministic workflows of cart: no Django, no I/O (activities do that)."""
