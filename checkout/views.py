"""Web views of checkout: thin, they call services."""
