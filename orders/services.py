"""What views and admin call for orders: Temporal calls and read-model queries, returning contracts."""
