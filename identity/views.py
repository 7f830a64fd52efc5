"""Web views of identity: thin, they call services."""
