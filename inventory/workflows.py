"""Deterministic workflows of inventory: no Django, no I/O (activities do that)."""
