"""Forms of cart: every field validated here before a service is called."""
