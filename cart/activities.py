"""Activities of the cart: its I/O (the snapshot in Cassandra)."""

import json
from dataclasses import asdict
from datetime import datetime

from temporalio import activity

from cart.contracts import CartActivities, CartSnapshot
from cart.models import CartRecord


@activity.defn(name=CartActivities.SAVE_SNAPSHOT)
def save_cart_snapshot(snapshot: CartSnapshot) -> None:
    CartRecord.create(
        cart_id=snapshot.cart_id,
        status=snapshot.status,
        lines_json=json.dumps([asdict(line) for line in snapshot.lines]),
        coupon_code=snapshot.coupon_code,
        subtotal_cents=snapshot.subtotal_cents,
        discount_cents=snapshot.discount_cents,
        total_cents=snapshot.total_cents,
        item_count=snapshot.item_count,
        updated_at=datetime.fromisoformat(snapshot.updated_at),
    )
