"""Forms of inventory: every field validated here before a service is called."""
