"""Web views of fulfillment: thin, they call services."""
