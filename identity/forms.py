"""Forms of identity: every field validated here before a service is called."""
