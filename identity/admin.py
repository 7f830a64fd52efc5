"""Admin pages of identity."""
