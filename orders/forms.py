"""Forms of orders: every field validated here before a service is called."""
