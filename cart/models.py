"""Cassandra tables of the cart."""

from cassandra.cqlengine import columns
from django_cassandra_engine.models import DjangoCassandraModel


class CartRecord(DjangoCassandraModel):
    """The latest snapshot of a cart, written by the cart workflow after each change.
    The workflow is the source of truth; this table is for reporting and recovery."""

    __table_name__ = "carts"

    cart_id = columns.Text(primary_key=True)
    status = columns.Text(default="")
    lines_json = columns.Text(default="[]")
    coupon_code = columns.Text(default="")
    subtotal_cents = columns.Integer(default=0)
    discount_cents = columns.Integer(default=0)
    total_cents = columns.Integer(default=0)
    item_count = columns.Integer(default=0)
    updated_at = columns.DateTime()

    class Meta:
        get_pk_field = "cart_id"
        verbose_name = "cart"
        # The staff console's (cart/admin.py); `view_cartrecord` is Django's own.
        permissions = [("end_cart", "Can end a running cart and release its holds")]


class ShopperCart(DjangoCassandraModel):
    """Which cart is a signed-in shopper's: one row per shopper, read by key on every cart request of
    theirs (so the cart follows them from browser to browser) and moved only by compare-and-set
    (`IF NOT EXISTS` / `IF cart_id = ?`, cart/pointers.py), so two sign-ins at once agree on one cart."""

    __table_name__ = "carts_by_shopper"

    shopper_id = columns.Text(primary_key=True)  # str(user.pk)
    cart_id = columns.Text(default="")
    updated_at = columns.DateTime()

    class Meta:
        get_pk_field = "shopper_id"
