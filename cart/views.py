"""Web views of cart: thin, they call services."""
