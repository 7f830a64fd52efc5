"""Forms of fulfillment: every field validated here before a service is called."""
