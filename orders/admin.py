"""Admin pages of orders."""
