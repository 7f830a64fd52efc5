"""What views and admin call for inventory: Temporal calls and read-model queries, returning contracts."""
