"""Supplier orders and the fulfillment strategies (simulated, dropship, manual)."""
