"""What views and admin call for checkout: Temporal calls and read-model queries, returning contracts."""
