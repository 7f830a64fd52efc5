"""What views and admin call for fulfillment: Temporal calls and read-model queries, returning contracts."""
