"""The shopper's cart: a long-lived entity workflow per cart (`cart-{cart_id}`)."""
