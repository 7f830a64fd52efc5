"""Order management: the order workflow, status history, order pages and the admin console."""
