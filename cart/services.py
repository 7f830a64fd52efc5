"""What views and admin call for cart: Temporal calls and read-model queries, returning contracts."""
