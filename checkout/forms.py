"""Forms of checkout: every field validated here before a service is called."""
