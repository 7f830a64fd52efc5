"""Web views of orders: thin, they call services."""
