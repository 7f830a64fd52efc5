"""What views and admin call for identity: Temporal calls and read-model queries, returning contracts."""
