"""Deterministic workflows of orders: no Django, no I/O (activities do that)."""
