"""Deterministic workflows of fulfillment: no Django, no I/O (activities do that)."""
