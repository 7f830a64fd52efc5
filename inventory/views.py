"""Web views of inventory: thin, they call services."""
