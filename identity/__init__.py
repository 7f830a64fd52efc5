"""Shopper accounts, addresses, API tokens and the store configuration."""
