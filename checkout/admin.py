"""Admin pages of checkout."""
