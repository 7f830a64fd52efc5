"""Admin pages of inventory."""
