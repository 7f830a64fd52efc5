"""Admin pages of fulfillment."""
