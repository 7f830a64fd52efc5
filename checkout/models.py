"""Cassandra tables of checkout (DjangoCassandraModel).

These models are the schema (`sync_cassandra` creates and alters the tables from them). The
simulated payment processor (`checkout/payments.py`) writes them with raw CQL, for what cqlengine
cannot express: a TTL on every cell of a token row (`INSERT ... USING TTL`), and lightweight
transactions (`INSERT ... IF NOT EXISTS`, `UPDATE ... IF col = ?`) on the ledger.
"""

from cassandra.cqlengine import columns
from django_cassandra_engine.models import DjangoCassandraModel


class PaymentToken(DjangoCassandraModel):
    """A tokenized card: what a checkout may carry instead of the card. Never the number or CVC.

    Written whole with a TTL (one day) on every cell, so an unused token disappears entirely."""

    __table_name__ = "payment_tokens"

    token = columns.Text(primary_key=True)
    brand = columns.Text(default="")
    last4 = columns.Text(default="")
    exp_month = columns.Integer(default=0)
    exp_year = columns.Integer(default=0)
    # What the simulated processor does with this card: succeed, decline, expired, transient.
    behaviour = columns.Text(default="")
    created_at = columns.DateTime()

    class Meta:
        get_pk_field = "token"


class Payment(DjangoCassandraModel):
    """The simulated processor's ledger: one row per authorize, capture, void and refund, keyed by
    the caller's idempotency key, so a retried call finds (and returns) what the first one did.

    An authorization's own row also carries what has happened to it since, each changed only by
    compare-and-set on the values read: `captured_cents`, `refunded_cents`, `voided_cents`, and
    `applied` (idempotency key of each capture, refund and void -> its amount; and of the
    re-authorization that replaced it -> the new amount), written *before* that operation's own
    row, so a crash between the two writes is finished by the retry."""

    __table_name__ = "payments"

    idempotency_key = columns.Text(primary_key=True)
    kind = columns.Text(default="")  # authorize, capture, void, refund
    authorization_key = columns.Text(default="")  # an authorization's own key on its row
    token = columns.Text(default="")
    amount_cents = columns.Integer(default=0)
    currency = columns.Text(default="")
    # authorized, declined, expired, transient_failure; captured, voided, refunded
    status = columns.Text(default="")
    attempts = columns.Integer(default=0)
    message = columns.Text(default="")
    created_at = columns.DateTime()
    updated_at = columns.DateTime()
    captured_cents = columns.Integer(default=0)
    refunded_cents = columns.Integer(default=0)
    voided_cents = columns.Integer(default=0)
    applied = columns.Map(columns.Text, columns.Integer)
    # On an authorization: what a re-authorization needs of the card once its token row has gone
    # (the simulated behaviour, the expiry), and the authorization it replaced, if any.
    behaviour = columns.Text(default="")
    exp_month = columns.Integer(default=0)
    exp_year = columns.Integer(default=0)
    previous_authorization_key = columns.Text(default="")

    class Meta:
        get_pk_field = "idempotency_key"
