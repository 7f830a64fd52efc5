"""Deterministic workflows of checkout: no Django, no I/O (activities do that)."""
