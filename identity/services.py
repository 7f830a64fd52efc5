"""What views and admin call for identity: Temporal calls and read-model queries, returning contracts."""

from identity.config import DEFAULT_TAX_BASIS_POINTS, TAX_BASIS_POINTS, store_config

__all__ = ["DEFAULT_TAX_BASIS_POINTS", "TAX_BASIS_POINTS", "store_config"]
