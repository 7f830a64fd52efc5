"""Shopper profiles and saved addresses in Cassandra (`shoppers`, `shopper_addresses`): raw CQL.

A shopper's profile sits beside the Django auth user (SQL holds the login): keyed by the user's id
as text, it holds the account email (never changes), the name and when the email was verified.
Saved addresses are one partition per shopper, oldest first (TimeUUID clustering), a few rows each.
No Temporal here; identity.accounts calls these in a thread (the driver is blocking).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from checkout.contracts import Address
from commerce.cassandra import prepare, session, table

_ADDRESS_COLUMNS = ("full_name", "line1", "line2", "city", "state", "postal_code", "country")


@dataclass(frozen=True)
class ShopperRow:
    shopper_id: str
    email: str
    full_name: str
    email_verified_at: datetime | None
    created_at: datetime | None


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def read_shopper(shopper_id: str) -> ShopperRow | None:
    statement = prepare(f"SELECT shopper_id, email, full_name, email_verified_at, created_at"
                        f" FROM {table('shoppers')} WHERE shopper_id = ?")
    row = session().execute(statement, [shopper_id]).one()
    if row is None:
        return None
    return ShopperRow(shopper_id=row["shopper_id"], email=row["email"] or "", full_name=row["full_name"] or "",
                      email_verified_at=_utc(row["email_verified_at"]), created_at=_utc(row["created_at"]))


def create_shopper(shopper_id: str, email: str, full_name: str) -> ShopperRow:
    """The profile, once (`IF NOT EXISTS`): a second call (a retry, a profile made on first read)
    finds it and returns what is stored."""
    now = datetime.now(UTC)
    statement = prepare(f"INSERT INTO {table('shoppers')} (shopper_id, email, full_name, created_at)"
                        " VALUES (?, ?, ?, ?) IF NOT EXISTS")
    if session().execute(statement, [shopper_id, email, full_name, now]).was_applied:
        return ShopperRow(shopper_id, email, full_name, None, now)
    return read_shopper(shopper_id) or ShopperRow(shopper_id, email, full_name, None, now)


def set_full_name(shopper_id: str, full_name: str) -> None:
    statement = prepare(f"UPDATE {table('shoppers')} SET full_name = ? WHERE shopper_id = ? IF EXISTS")
    session().execute(statement, [full_name, shopper_id])


def mark_verified(shopper_id: str, email: str) -> bool:
    """Record the email verified now, for the profile holding exactly this email. True when this
    call verified it; False when it was verified before (the first time is kept) or the row's email
    is another."""
    statement = prepare(f"UPDATE {table('shoppers')} SET email_verified_at = ? WHERE shopper_id = ?"
                        " IF email = ? AND email_verified_at = null")
    return session().execute(statement, [datetime.now(UTC), shopper_id, email]).was_applied


# -- saved addresses -------------------------------------------------------------------------------

def list_addresses(shopper_id: str, limit: int = 50) -> list[tuple[str, Address]]:
    """(address_id, address) oldest first; the stored email is "" (the account's is filled on use)."""
    statement = prepare(f"SELECT address_id, {', '.join(_ADDRESS_COLUMNS)} FROM {table('shopper_addresses')}"
                        " WHERE shopper_id = ? LIMIT ?")
    return [(str(row["address_id"]), Address(
        email="", full_name=row["full_name"] or "", line1=row["line1"] or "", line2=row["line2"] or "",
        city=row["city"] or "", state=row["state"] or "", postal_code=row["postal_code"] or "",
        country=row["country"] or "US")) for row in session().execute(statement, [shopper_id, limit])]


def add_address(shopper_id: str, address: Address) -> str:
    """Store the address under a new TimeUUID (oldest first); its id as text."""
    address_id = uuid.uuid1()
    statement = prepare(f"INSERT INTO {table('shopper_addresses')} (shopper_id, address_id,"
                        f" {', '.join(_ADDRESS_COLUMNS)}) VALUES (?, ?, {', '.join('?' for _ in _ADDRESS_COLUMNS)})")
    session().execute(statement, [shopper_id, address_id, *(getattr(address, name) for name in _ADDRESS_COLUMNS)])
    return str(address_id)


def delete_address(shopper_id: str, address_id: str) -> None:
    """Delete one saved address; an id that is not a TimeUUID, or not this shopper's, deletes nothing
    (the shopper's own partition is the key, so another shopper's address is out of reach)."""
    try:
        key = uuid.UUID(address_id)
    except (ValueError, TypeError, AttributeError):
        return
    if key.version != 1:
        return
    statement = prepare(f"DELETE FROM {table('shopper_addresses')} WHERE shopper_id = ? AND address_id = ?")
    session().execute(statement, [shopper_id, key])
