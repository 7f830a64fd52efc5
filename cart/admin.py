"""Admin pages of cart."""
