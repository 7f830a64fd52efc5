"""Deterministic workflows of identity: no Django, no I/O (activities do that)."""
