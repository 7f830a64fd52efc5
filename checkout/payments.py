"""The payment processor behind a small interface, and its one implementation: a simulated
processor with its own ledger in Cassandra.

    tokenize(number, exp_month, exp_year, cvc, cardholder) -> CardToken      (the web tier)
    authorize(AuthorizeRequest) -> PaymentResult                             (checkout activity)
    capture(authorization_key, amount_cents, idempotency_key) -> PaymentResult
    void(authorization_key) -> PaymentResult
    refund(authorization_key, amount_cents, idempotency_key) -> PaymentResult
    reauthorize(previous_authorization_key, amount_cents, idempotency_key) -> PaymentResult
    ledger(authorization_key) -> list[PaymentRecord]                         (tests, operators)

Card data. `tokenize` checks a card (bounded lengths first, then digits, Luhn, expiry, CVC) and stores
only what a checkout may carry: a random token -> brand, last four, expiry and the card's simulated
behaviour, in `payment_tokens` with a TTL of a day on the whole row. The number and the CVC are never
stored, logged or put in an exception message.

Authorizations expire. The processor honours an authorization for
settings.PAYMENT_AUTHORIZATION_VALIDITY_SECONDS after it was made (read at each call, real time):
a new capture of an older one is refused with `AuthorizationExpired`; a void or a refund still
works, and a capture made in time and retried later returns its first result. `reauthorize` makes
a new authorization on the same card for what is left (its own row, keyed by the caller's key),
then voids the rest of the previous one. It never needs the token row (gone after a day): an
authorization's row keeps what a re-authorization needs of the card (its behaviour and expiry).

The ledger. `payments` has one row per authorize, capture, void and refund, keyed by the caller's
idempotency key and written with lightweight transactions, so a retried call returns what the first
one did and nothing is ever authorized, captured, voided or refunded twice. An authorization's row
also carries what has happened to it since (`captured_cents`, `refunded_cents`, `voided_cents`, and
`applied`: the key of each capture, refund and void -> its amount), changed only by compare-and-set
on the values read, so concurrent captures can never take more than was authorized. That row is
changed *before* the operation's own row is written: a crash between the two leaves the key in
`applied`, and the retry writes the missing row and changes nothing else.

Errors. `CardRejected` (tokenize: a field and a shopper-facing message), `PaymentDeclined` (the card
is refused for good: `error_type` is one of PaymentErrors.NON_RETRYABLE), `PaymentTemporarilyUnavailable`
(retry later: the transient test card, or a store too contended or slow to answer), `PaymentRefused`
(a ValueError: a request that can never succeed, e.g. more than is left to capture, or a reused key),
`AuthorizationExpired` (a capture past the authorization's validity: re-authorize, then capture).
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from cassandra import ConsistencyLevel, OperationTimedOut, WriteTimeout
from cassandra.query import SimpleStatement
from django.conf import settings

from checkout.contracts import AuthorizeRequest, CardToken, CheckoutErrors, PaymentErrors, PaymentResult
from commerce.attempts import Attempts
from commerce.cassandra import session, table

log = logging.getLogger(__name__)

TOKEN_TTL_SECONDS = 24 * 3600
MIN_AMOUNT_CENTS = 1
MAX_AMOUNT_CENTS = 100_000_000
MAX_KEY_LENGTH = 200
MAX_CARDHOLDER_LENGTH = 100
MAX_EXPIRY_YEARS = 20
CAS_BUDGET_SECONDS = 2.0
TRANSIENT_FAILURES = 2  # the transient test card fails this many times, then succeeds

# Raw input is bounded before anything is made of it: a number with its spaces or dashes.
_MAX_NUMBER_INPUT = 40
_DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() and int() accept other scripts' digits
_TOKEN = re.compile(r"tok_[0-9a-f]{24}")
_CURRENCY = re.compile(r"[A-Z]{3}")


class Kind:
    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"


class Status:
    AUTHORIZED = "authorized"
    DECLINED = "declined"
    EXPIRED = "expired"
    TRANSIENT_FAILURE = "transient_failure"
    CAPTURED = "captured"
    VOIDED = "voided"
    REFUNDED = "refunded"
    NOTHING_TO_VOID = "nothing_to_void"  # a void's result only: never recorded


class Behaviour:
    """What the simulated processor does with a card, from the test-card table."""

    SUCCEED = "succeed"
    DECLINE = "decline"
    EXPIRED = "expired"
    TRANSIENT = "transient"
    # Authorizes the first time; every re-authorization of it is declined (a card cancelled since).
    DECLINE_REAUTHORIZATION = "decline_reauthorization"


TEST_CARDS = {
    "4242424242424242": Behaviour.SUCCEED,
    "4000000000000002": Behaviour.DECLINE,
    "4000000000000069": Behaviour.EXPIRED,
    "4000000000000119": Behaviour.TRANSIENT,
    "4000000000000341": Behaviour.DECLINE_REAUTHORIZATION,
}

DECLINED_MESSAGE = "Your card was declined."
EXPIRED_MESSAGE = "Your card has expired."
UNKNOWN_TOKEN_MESSAGE = "Your card details expired; enter them again."
UNAVAILABLE_MESSAGE = "The payment service is temporarily unavailable."
AUTHORIZATION_EXPIRED_MESSAGE = "The authorization has expired; re-authorize the payment before capturing it."
DEFAULT_AUTHORIZATION_VALIDITY_SECONDS = 7 * 24 * 3600
MAX_AUTHORIZATION_VALIDITY_SECONDS = 366 * 24 * 3600

# A refusal recorded in the ledger -> what a retry of it raises again.
_REFUSALS = {
    Status.DECLINED: (PaymentErrors.DECLINED, DECLINED_MESSAGE),
    Status.EXPIRED: (PaymentErrors.EXPIRED, EXPIRED_MESSAGE),
}


# -- errors -----------------------------------------------------------------------------------

class PaymentError(Exception):
    """Base of the processor's errors; `kind` names it (an ApplicationError type)."""

    kind = "PaymentError"
    retryable = False


class CardRejected(PaymentError):
    """tokenize() refused a card: `field` is the form field to show `message` beside."""

    kind = CheckoutErrors.INVALID_CARD
    FIELDS = ("card_number", "exp_month", "exp_year", "cvc", "cardholder")

    def __init__(self, field: str, message: str) -> None:
        assert field in self.FIELDS, field
        self.field, self.message = field, message
        super().__init__(message)


class PaymentDeclined(PaymentError):
    """The processor refuses the card for good: a retry gives the same answer."""

    def __init__(self, error_type: str, message: str) -> None:
        self.error_type, self.message = error_type, message
        self.kind = error_type
        super().__init__(message)


class PaymentTemporarilyUnavailable(PaymentError):
    """The processor cannot answer now; the same call, retried later, may succeed."""

    kind = "PaymentTemporarilyUnavailable"
    retryable = True

    def __init__(self, message: str = UNAVAILABLE_MESSAGE) -> None:
        self.message = message
        super().__init__(message)


class PaymentRefused(PaymentError, ValueError):
    """A request that can never succeed: an amount out of bounds or beyond what is left, nothing to
    capture or refund, or an idempotency key reused for a different request."""

    kind = "PaymentRefused"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class AuthorizationExpired(PaymentError):
    """A capture of an authorization older than the processor honours: re-authorize first. Its void
    and refunds still work."""

    kind = PaymentErrors.AUTHORIZATION_EXPIRED

    def __init__(self, authorization_key: str, message: str = AUTHORIZATION_EXPIRED_MESSAGE) -> None:
        self.authorization_key, self.message = authorization_key, message
        super().__init__(message)


def authorization_validity_seconds() -> int:
    """How long an authorization may be captured, from settings at each call (tests override it)."""
    value = getattr(settings, "PAYMENT_AUTHORIZATION_VALIDITY_SECONDS", DEFAULT_AUTHORIZATION_VALIDITY_SECONDS)
    if isinstance(value, bool) or not isinstance(value, int):
        return DEFAULT_AUTHORIZATION_VALIDITY_SECONDS
    return max(0, min(value, MAX_AUTHORIZATION_VALIDITY_SECONDS))


# -- card checks (pure) -----------------------------------------------------------------------

@dataclass(frozen=True)
class CheckedCard:
    """A card that passed every check: what may be kept of it. Deliberately without the number."""

    brand: str
    last4: str
    exp_month: int
    exp_year: int
    behaviour: str


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a string of ASCII digits."""
    if not digits or not _DIGITS.fullmatch(digits):
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_brand(digits: str) -> str:
    """The brand by the number's prefix: Visa, Mastercard, Amex, Discover, else "Card"."""
    if digits.startswith("4"):
        return "Visa"
    if digits[:2] in ("34", "37"):
        return "Amex"
    if digits[:2] in ("51", "52", "53", "54", "55") or (
            len(digits) >= 4 and _DIGITS.fullmatch(digits[:4]) and 2221 <= int(digits[:4]) <= 2720):
        return "Mastercard"
    if digits.startswith("6011") or digits.startswith("65"):
        return "Discover"
    return "Card"


def card_behaviour(digits: str) -> str:
    """What the simulated processor does with a card: the test cards' behaviour, else success."""
    return TEST_CARDS.get(digits, Behaviour.SUCCEED)


def _number_digits(number: object) -> str:
    if not isinstance(number, str) or not number.strip():
        raise CardRejected("card_number", "Enter your card number.")
    if len(number) > _MAX_NUMBER_INPUT:
        raise CardRejected("card_number", "Card numbers have 12 to 19 digits.")
    digits = number.strip().replace(" ", "").replace("-", "")
    if not _DIGITS.fullmatch(digits):
        raise CardRejected("card_number", "A card number has digits only (spaces and dashes are fine).")
    if not 12 <= len(digits) <= 19:
        raise CardRejected("card_number", "Card numbers have 12 to 19 digits.")
    if not luhn_valid(digits):
        raise CardRejected("card_number", "That card number is not valid; please check it.")
    return digits


def _small_number(value: object, field: str, max_digits: int, message: str) -> int:
    """A month or year from a form (text) or a caller (int), bounded before it is parsed."""
    if isinstance(value, bool):
        raise CardRejected(field, message)
    if isinstance(value, int):
        if not 0 <= value < 10 ** max_digits:
            raise CardRejected(field, message)
        return value
    if not isinstance(value, str):
        raise CardRejected(field, message)
    text = value.strip()
    if not 1 <= len(text) <= max_digits or not _DIGITS.fullmatch(text):
        raise CardRejected(field, message)
    return int(text)


def check_card(number: object, exp_month: object, exp_year: object, cvc: object, cardholder: object,
               today: date | None = None) -> CheckedCard:
    """Check a card as a shopper typed it; raise CardRejected(field, message) at the first problem.

    Every input is bounded in length and shape before any arithmetic is done with it."""
    today = today or datetime.now(UTC).date()
    digits = _number_digits(number)
    month = _small_number(exp_month, "exp_month", 2, "Enter the expiry month as 1 to 12.")
    if not 1 <= month <= 12:
        raise CardRejected("exp_month", "Enter the expiry month as 1 to 12.")
    year = _small_number(exp_year, "exp_year", 4, "Enter the expiry year with four digits.")
    if year < 100:
        year += 2000  # "27" as printed on the card
    if year < today.year or (year == today.year and month < today.month):
        raise CardRejected("exp_year" if year < today.year else "exp_month", EXPIRED_MESSAGE)
    if year > today.year + MAX_EXPIRY_YEARS:
        raise CardRejected("exp_year", f"The expiry year must be within {MAX_EXPIRY_YEARS} years.")
    if not isinstance(cvc, str) or len(cvc) > 8 or not _DIGITS.fullmatch(cvc.strip()) \
            or not 3 <= len(cvc.strip()) <= 4:
        raise CardRejected("cvc", "Enter the 3 or 4 digit security code.")
    if not isinstance(cardholder, str) or len(cardholder) > 4 * MAX_CARDHOLDER_LENGTH:
        raise CardRejected("cardholder", f"The name on the card is at most {MAX_CARDHOLDER_LENGTH} characters.")
    if not cardholder.strip():
        raise CardRejected("cardholder", "Enter the name on the card.")
    if len(cardholder.strip()) > MAX_CARDHOLDER_LENGTH:
        raise CardRejected("cardholder", f"The name on the card is at most {MAX_CARDHOLDER_LENGTH} characters.")
    if any(not char.isprintable() for char in cardholder.strip()):
        raise CardRejected("cardholder", "The name on the card has characters we cannot read.")
    return CheckedCard(card_brand(digits), digits[-4:], month, year, card_behaviour(digits))


def check_amount(amount_cents: object) -> int:
    """Money in integer cents, 1 cent to $1,000,000."""
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) \
            or not MIN_AMOUNT_CENTS <= amount_cents <= MAX_AMOUNT_CENTS:
        raise PaymentRefused(f"An amount is a whole number of cents from {MIN_AMOUNT_CENTS} to {MAX_AMOUNT_CENTS:,}.")
    return amount_cents


def check_key(key: object, what: str = "idempotency key") -> str:
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise PaymentRefused(f"An {what} is 1 to {MAX_KEY_LENGTH} printable characters.")
    return key


# -- the ledger's records -----------------------------------------------------------------------

@dataclass(frozen=True)
class PaymentRecord:
    """One row of the ledger."""

    idempotency_key: str
    kind: str
    authorization_key: str
    token: str
    amount_cents: int
    currency: str
    status: str
    attempts: int
    message: str
    created_at: datetime | None
    updated_at: datetime | None
    captured_cents: int = 0  # on an authorization: what was captured of it, refunded, voided
    refunded_cents: int = 0
    voided_cents: int = 0
    applied: tuple[tuple[str, int], ...] = ()  # on an authorization: (key, amount) of what applied to it
    # On an authorization: what a re-authorization needs of the card (the token row lasts a day),
    # and the authorization it replaced, if it is a re-authorization.
    behaviour: str = ""
    exp_month: int = 0
    exp_year: int = 0
    previous_authorization_key: str = ""

    def result(self) -> PaymentResult:
        return PaymentResult(self.idempotency_key, self.kind, self.status, self.amount_cents, self.authorization_key)

    @property
    def applied_keys(self) -> dict[str, int]:
        return dict(self.applied)


# `token` is a reserved word of CQL: quoted wherever it is named.
_COLUMNS = ('idempotency_key, kind, authorization_key, "token", amount_cents, currency, status, attempts,'
            ' message, created_at, updated_at, captured_cents, refunded_cents, voided_cents, applied,'
            ' behaviour, exp_month, exp_year, previous_authorization_key')


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _record(row: dict) -> PaymentRecord:
    return PaymentRecord(
        row["idempotency_key"], row["kind"] or "", row["authorization_key"] or "", row["token"] or "",
        row["amount_cents"] or 0, row["currency"] or "", row["status"] or "", row["attempts"] or 0,
        row["message"] or "", _utc(row["created_at"]), _utc(row["updated_at"]),
        row["captured_cents"] or 0, row["refunded_cents"] or 0, row["voided_cents"] or 0,
        tuple(sorted((row["applied"] or {}).items())),
        row["behaviour"] or "", row["exp_month"] or 0, row["exp_year"] or 0, row["previous_authorization_key"] or "",
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _attempts() -> Attempts:
    """Compare-and-set attempts within CAS_BUDGET_SECONDS; past it the caller should retry later."""
    return Attempts(CAS_BUDGET_SECONDS, PaymentTemporarilyUnavailable)


# -- the interface --------------------------------------------------------------------------------

class PaymentProcessor(Protocol):
    def tokenize(self, number: str, exp_month: str | int, exp_year: str | int, cvc: str,
                 cardholder: str) -> CardToken: ...

    def authorize(self, request: AuthorizeRequest) -> PaymentResult: ...

    def capture(self, authorization_key: str, amount_cents: int, idempotency_key: str) -> PaymentResult: ...

    def void(self, authorization_key: str) -> PaymentResult: ...

    def refund(self, authorization_key: str, amount_cents: int, idempotency_key: str) -> PaymentResult: ...

    def reauthorize(self, previous_authorization_key: str, amount_cents: int,
                    idempotency_key: str) -> PaymentResult: ...

    def ledger(self, authorization_key: str) -> list[PaymentRecord]: ...


def void_key(authorization_key: str) -> str:
    """The idempotency key of an authorization's void: there is at most one."""
    return f"void:{authorization_key}"


class SimulatedProcessor:
    """The test-card processor, its tokens and ledger in Cassandra (`payment_tokens`, `payments`)."""

    # -- tokens ----------------------------------------------------------------------------------
    def tokenize(self, number: str, exp_month: str | int, exp_year: str | int, cvc: str,
                 cardholder: str) -> CardToken:
        card = check_card(number, exp_month, exp_year, cvc, cardholder)
        token = "tok_" + secrets.token_hex(12)
        session().execute(
            f"INSERT INTO {table('payment_tokens')}"
            ' ("token", brand, last4, exp_month, exp_year, behaviour, created_at)'
            f" VALUES (%s, %s, %s, %s, %s, %s, %s) USING TTL {TOKEN_TTL_SECONDS}",
            [token, card.brand, card.last4, card.exp_month, card.exp_year, card.behaviour, _now()])
        log.info("card tokenized: %s %s ending %s", token, card.brand, card.last4)
        return CardToken(token, card.brand, card.last4, card.exp_month, card.exp_year)

    def _token(self, token: str) -> dict | None:
        if not _TOKEN.fullmatch(token):
            return None
        return session().execute(
            f"SELECT brand, last4, exp_month, exp_year, behaviour FROM {table('payment_tokens')} WHERE \"token\" = %s",
            [token]).one()

    # -- the ledger ------------------------------------------------------------------------------
    def _read(self, key: str) -> PaymentRecord | None:
        """What Paxos committed for a key (SERIAL): the truth every compare-and-set is based on."""
        statement = SimpleStatement(f"SELECT {_COLUMNS} FROM {table('payments')} WHERE idempotency_key = %s",
                                    consistency_level=ConsistencyLevel.SERIAL)
        row = session().execute(statement, [key]).one()
        return _record(row) if row else None

    def _lwt(self, cql: str, values: list) -> bool:
        """One lightweight transaction; False when it did not apply or may not have (timeout): the
        caller re-reads with SERIAL and decides."""
        try:
            return session().execute(cql, values).was_applied
        except (WriteTimeout, OperationTimedOut):
            return False

    def _insert(self, record: PaymentRecord) -> bool:
        return self._lwt(
            f"INSERT INTO {table('payments')} ({_COLUMNS}) VALUES ({', '.join(['%s'] * 19)}) IF NOT EXISTS",
            [record.idempotency_key, record.kind, record.authorization_key, record.token, record.amount_cents,
             record.currency, record.status, record.attempts, record.message, record.created_at, record.updated_at,
             record.captured_cents, record.refunded_cents, record.voided_cents, dict(record.applied),
             record.behaviour, record.exp_month, record.exp_year, record.previous_authorization_key])

    def ledger(self, authorization_key: str) -> list[PaymentRecord]:
        """Every entry whose key or authorization key is `authorization_key`: the authorization
        first, then its captures, refunds, void and re-authorization (the new authorization's row),
        oldest first."""
        own = self._read(authorization_key)
        if own is None:
            return []
        others = [self._read(key) for key in own.applied_keys if key != authorization_key]
        found = sorted((record for record in others if record is not None),
                       key=lambda record: (record.created_at or datetime.min.replace(tzinfo=UTC),
                                           record.idempotency_key))
        return [own, *found]

    # -- authorize -------------------------------------------------------------------------------
    def authorize(self, request: AuthorizeRequest) -> PaymentResult:
        key = check_key(request.idempotency_key)
        amount = check_amount(request.amount_cents)
        if not isinstance(request.currency, str) or not _CURRENCY.fullmatch(request.currency):
            raise PaymentRefused("A currency is a three-letter ISO 4217 code.")
        if not isinstance(request.token, str) or len(request.token) > MAX_KEY_LENGTH:
            raise PaymentDeclined(PaymentErrors.UNKNOWN_TOKEN, UNKNOWN_TOKEN_MESSAGE)
        for _ in _attempts():
            existing = self._read(key)
            if existing is None:
                card = self._token(request.token)
                if card is None:
                    raise PaymentDeclined(PaymentErrors.UNKNOWN_TOKEN, UNKNOWN_TOKEN_MESSAGE)
                now = _now()
                status, message = self._first_outcome(card, now)
                first = PaymentRecord(key, Kind.AUTHORIZE, key, request.token, amount, request.currency,
                                      status, 1, message, now, now, behaviour=card["behaviour"] or "",
                                      exp_month=card["exp_month"] or 0, exp_year=card["exp_year"] or 0)
                if self._insert(first):
                    return self._answer(first)
                continue  # a concurrent first call recorded it (or ours timed out): read what it was
            if existing.kind != Kind.AUTHORIZE or existing.token != request.token \
                    or existing.amount_cents != amount or existing.currency != request.currency \
                    or existing.previous_authorization_key:
                raise PaymentRefused(f"The idempotency key {key!r} was used for a different request.")
            if existing.status == Status.TRANSIENT_FAILURE:
                if self._retry_transient(existing):
                    return PaymentResult(key, Kind.AUTHORIZE, Status.AUTHORIZED, amount, key)
                raise PaymentTemporarilyUnavailable()
            return self._answer(existing)
        raise AssertionError("unreachable")

    @staticmethod
    def _answer(record: PaymentRecord) -> PaymentResult:
        """What an authorization's recorded outcome means to its caller: a result, or the refusal."""
        if record.status in _REFUSALS:
            raise PaymentDeclined(*_REFUSALS[record.status])
        if record.status == Status.TRANSIENT_FAILURE:
            raise PaymentTemporarilyUnavailable()
        return record.result()

    @staticmethod
    def _first_outcome(card: dict, now: datetime) -> tuple[str, str]:
        behaviour = card["behaviour"]
        expired = (card["exp_year"] or 0, card["exp_month"] or 0) < (now.year, now.month)
        if behaviour == Behaviour.EXPIRED or expired:
            return Status.EXPIRED, EXPIRED_MESSAGE
        if behaviour == Behaviour.DECLINE:
            return Status.DECLINED, DECLINED_MESSAGE
        if behaviour == Behaviour.TRANSIENT:
            return Status.TRANSIENT_FAILURE, UNAVAILABLE_MESSAGE
        return Status.AUTHORIZED, ""

    def _retry_transient(self, record: PaymentRecord) -> bool:
        """One more attempt of the transient card, counted by compare-and-set: it fails
        TRANSIENT_FAILURES times in all, then succeeds. True when this attempt succeeded."""
        attempts = record.attempts + 1
        succeeds = attempts > TRANSIENT_FAILURES
        status = Status.AUTHORIZED if succeeds else Status.TRANSIENT_FAILURE
        if self._lwt(f"UPDATE {table('payments')} SET attempts = %s, status = %s, message = %s, updated_at = %s"
                     " WHERE idempotency_key = %s IF status = %s AND attempts = %s",
                     [attempts, status, "" if succeeds else UNAVAILABLE_MESSAGE, _now(), record.idempotency_key,
                      Status.TRANSIENT_FAILURE, record.attempts]):
            return succeeds
        # Another call of the same key moved it meanwhile: answer from what it recorded.
        current = self._read(record.idempotency_key)
        if current is not None and current.status == Status.AUTHORIZED:
            return True
        raise PaymentTemporarilyUnavailable()

    # -- capture, refund, void -----------------------------------------------------------------
    def capture(self, authorization_key: str, amount_cents: int, idempotency_key: str) -> PaymentResult:
        return self._apply(Kind.CAPTURE, authorization_key, amount_cents, idempotency_key)

    def refund(self, authorization_key: str, amount_cents: int, idempotency_key: str) -> PaymentResult:
        return self._apply(Kind.REFUND, authorization_key, amount_cents, idempotency_key)

    def void(self, authorization_key: str) -> PaymentResult:
        check_key(authorization_key, "authorization key")
        return self._apply(Kind.VOID, authorization_key, None, void_key(authorization_key))

    def _apply(self, kind: str, authorization_key: str, amount_cents: int | None,
               idempotency_key: str) -> PaymentResult:
        """A capture, refund or void of an authorization, once per idempotency key, within what is
        left: change the authorization's row by compare-and-set, then record the operation's row."""
        check_key(authorization_key, "authorization key")
        if kind != Kind.VOID:  # a void's key is made from the authorization's
            check_key(idempotency_key)
            check_amount(amount_cents)
        if idempotency_key == authorization_key:
            raise PaymentRefused("A capture, void or refund needs an idempotency key of its own.")
        for _ in _attempts():
            done = self._read(idempotency_key)
            if done is not None:
                return self._same_request(done, kind, authorization_key, amount_cents)
            auth = self._read(authorization_key)
            if auth is None or auth.kind != Kind.AUTHORIZE or auth.status != Status.AUTHORIZED:
                if kind == Kind.VOID:
                    return PaymentResult(idempotency_key, Kind.VOID, Status.NOTHING_TO_VOID, 0, authorization_key)
                raise PaymentRefused(f"There is no authorization {authorization_key!r} to {kind}.")
            applied = auth.applied_keys.get(idempotency_key)
            if applied is None:
                amount = self._within_bounds(kind, auth, amount_cents)
                if amount == 0:  # a void of an authorization captured in full
                    return PaymentResult(idempotency_key, Kind.VOID, Status.NOTHING_TO_VOID, 0, authorization_key)
                if kind == Kind.CAPTURE and self._expired(auth):
                    raise AuthorizationExpired(authorization_key)
                if not self._change_authorization(kind, auth, amount, idempotency_key):
                    continue  # lost a race: read again
            elif amount_cents is not None and applied != amount_cents:
                raise PaymentRefused(f"The idempotency key {idempotency_key!r} was used for a different request.")
            else:
                amount = applied
            # The authorization counts it; now its own row (a retry after a crash lands here too).
            now = _now()
            status = {Kind.CAPTURE: Status.CAPTURED, Kind.REFUND: Status.REFUNDED, Kind.VOID: Status.VOIDED}[kind]
            record = PaymentRecord(idempotency_key, kind, authorization_key, auth.token, amount, auth.currency,
                                   status, 1, "", now, now)
            if self._insert(record):
                return record.result()
        raise AssertionError("unreachable")

    @staticmethod
    def _expired(auth: PaymentRecord) -> bool:
        """Past the validity: a new capture is refused (a void, a refund or a retried capture is not)."""
        if auth.created_at is None:
            return False
        return (_now() - auth.created_at).total_seconds() >= authorization_validity_seconds()

    @staticmethod
    def _same_request(done: PaymentRecord, kind: str, authorization_key: str,
                      amount_cents: int | None) -> PaymentResult:
        if done.kind != kind or done.authorization_key != authorization_key or (
                amount_cents is not None and done.amount_cents != amount_cents):
            raise PaymentRefused(f"The idempotency key {done.idempotency_key!r} was used for a different request.")
        return done.result()

    @staticmethod
    def _within_bounds(kind: str, auth: PaymentRecord, amount_cents: int | None) -> int:
        if kind == Kind.VOID:
            return 0 if auth.voided_cents else auth.amount_cents - auth.captured_cents
        if kind == Kind.CAPTURE:
            if auth.voided_cents:
                raise PaymentRefused("This authorization was voided; nothing more can be captured.")
            left, what = auth.amount_cents - auth.captured_cents, "left to capture"
        else:
            left, what = auth.captured_cents - auth.refunded_cents, "captured and not yet refunded"
        if amount_cents > left:
            raise PaymentRefused(f"Only {left} cents are {what} on this authorization (asked for {amount_cents}).")
        return amount_cents

    def _change_authorization(self, kind: str, auth: PaymentRecord, amount: int, idempotency_key: str) -> bool:
        counter = {Kind.CAPTURE: "captured_cents", Kind.REFUND: "refunded_cents", Kind.VOID: "voided_cents"}[kind]
        current = {"captured_cents": auth.captured_cents, "refunded_cents": auth.refunded_cents,
                   "voided_cents": auth.voided_cents}
        return self._lwt(
            f"UPDATE {table('payments')} SET {counter} = %s, applied[%s] = %s, updated_at = %s"
            " WHERE idempotency_key = %s IF status = %s AND captured_cents = %s AND refunded_cents = %s"
            " AND voided_cents = %s",
            [current[counter] + amount, idempotency_key, amount, _now(), auth.idempotency_key, Status.AUTHORIZED,
             auth.captured_cents, auth.refunded_cents, auth.voided_cents])


    # -- reauthorize ---------------------------------------------------------------------------
    def reauthorize(self, previous_authorization_key: str, amount_cents: int,
                    idempotency_key: str) -> PaymentResult:
        """A new authorization (key `idempotency_key`, the same card) for `amount_cents`, at most what
        is left to capture of the previous one, which is then voided. Once per key; a retry returns
        the first result or raises the first refusal.

        The card's answer comes from the previous authorization's row (its behaviour and expiry), never
        from the token (gone after a day): the re-authorization test card and a card past its expiry
        are declined, and the previous authorization is left as it was. Otherwise, in this order, each
        step finished by a retry after a crash:
        1. the previous authorization's row, by compare-and-set on its counters: what is left of it is
           voided, and the new key is put in its `applied` with the new amount. From then on nothing
           more can be captured of it, so the captures of both never exceed what was first authorized;
        2. the new authorization's row; 3. the previous authorization's void row."""
        previous = check_key(previous_authorization_key, "authorization key")
        key = check_key(idempotency_key)
        amount = check_amount(amount_cents)
        if key in (previous, void_key(previous)):
            raise PaymentRefused("A re-authorization needs an idempotency key of its own.")
        for _ in _attempts():
            existing = self._read(key)
            if existing is not None:
                if existing.kind != Kind.AUTHORIZE or existing.previous_authorization_key != previous \
                        or existing.amount_cents != amount:
                    raise PaymentRefused(f"The idempotency key {key!r} was used for a different request.")
                if existing.status == Status.AUTHORIZED:
                    self.void(previous)  # writes the void's row if a crash left it out
                return self._answer(existing)
            old = self._read(previous)
            if old is None or old.kind != Kind.AUTHORIZE or old.status != Status.AUTHORIZED:
                raise PaymentRefused(f"There is no authorization {previous!r} to re-authorize.")
            reserved = old.applied_keys.get(key)
            if reserved is not None and reserved != amount:
                raise PaymentRefused(f"The idempotency key {key!r} was used for a different request.")
            behaviour, exp_month, exp_year = self._card_of(old, required=reserved is None)
            now = _now()
            if reserved is None:
                status, message = self._reauthorization_outcome(behaviour, exp_month, exp_year, now)
                if status != Status.AUTHORIZED:
                    refusal = PaymentRecord(key, Kind.AUTHORIZE, key, old.token, amount, old.currency, status, 1,
                                            message, now, now, behaviour=behaviour, exp_month=exp_month,
                                            exp_year=exp_year, previous_authorization_key=previous)
                    if self._insert(refusal):
                        return self._answer(refusal)  # raises the refusal
                    continue
                if old.voided_cents:
                    raise PaymentRefused("This authorization was voided; there is nothing left to re-authorize.")
                left = old.amount_cents - old.captured_cents
                if amount > left:
                    raise PaymentRefused(f"Only {left} cents are left to capture on this authorization"
                                         f" (asked to re-authorize {amount}).")
                if not self._reserve(old, key, amount, left):
                    continue  # lost a race (a capture, a void): read again
            record = PaymentRecord(key, Kind.AUTHORIZE, key, old.token, amount, old.currency, Status.AUTHORIZED, 1,
                                   "", now, now, behaviour=behaviour, exp_month=exp_month, exp_year=exp_year,
                                   previous_authorization_key=previous)
            if self._insert(record):
                self.void(previous)
                return record.result()
        raise AssertionError("unreachable")

    def _card_of(self, auth: PaymentRecord, required: bool) -> tuple[str, int, int]:
        """(behaviour, exp month, exp year) of an authorization's card: from its row, or for a row
        written before they were kept there, from its token while that lasts."""
        if auth.behaviour:
            return auth.behaviour, auth.exp_month, auth.exp_year
        card = self._token(auth.token)
        if card is not None:
            return card["behaviour"] or Behaviour.SUCCEED, card["exp_month"] or 0, card["exp_year"] or 0
        if required:
            raise PaymentDeclined(PaymentErrors.UNKNOWN_TOKEN, UNKNOWN_TOKEN_MESSAGE)
        return "", 0, 0

    @staticmethod
    def _reauthorization_outcome(behaviour: str, exp_month: int, exp_year: int, now: datetime) -> tuple[str, str]:
        """The card's answer to a re-authorization. The transient card's failures are its first
        authorization's only: a re-authorization of it succeeds."""
        if behaviour == Behaviour.EXPIRED or (exp_year, exp_month) < (now.year, now.month):
            return Status.EXPIRED, EXPIRED_MESSAGE
        if behaviour in (Behaviour.DECLINE, Behaviour.DECLINE_REAUTHORIZATION):
            return Status.DECLINED, DECLINED_MESSAGE
        return Status.AUTHORIZED, ""

    def _reserve(self, old: PaymentRecord, key: str, amount: int, left: int) -> bool:
        """Void what is left of `old` and note the re-authorization that replaces it, in one
        compare-and-set on the counters read."""
        return self._lwt(
            f"UPDATE {table('payments')} SET voided_cents = %s, applied[%s] = %s, applied[%s] = %s, updated_at = %s"
            " WHERE idempotency_key = %s IF status = %s AND captured_cents = %s AND refunded_cents = %s"
            " AND voided_cents = %s",
            [left, void_key(old.idempotency_key), left, key, amount, _now(), old.idempotency_key, Status.AUTHORIZED,
             old.captured_cents, old.refunded_cents, old.voided_cents])


_PROCESSOR = SimulatedProcessor()


def processor() -> PaymentProcessor:
    """The configured payment processor: the simulated one (the only implementation)."""
    return _PROCESSOR


def tokenize(number: str, exp_month: str | int, exp_year: str | int, cvc: str, cardholder: str) -> CardToken:
    return processor().tokenize(number, exp_month, exp_year, cvc, cardholder)


def authorize(request: AuthorizeRequest) -> PaymentResult:
    return processor().authorize(request)


def capture(authorization_key: str, amount_cents: int, idempotency_key: str) -> PaymentResult:
    return processor().capture(authorization_key, amount_cents, idempotency_key)


def void(authorization_key: str) -> PaymentResult:
    return processor().void(authorization_key)


def refund(authorization_key: str, amount_cents: int, idempotency_key: str) -> PaymentResult:
    return processor().refund(authorization_key, amount_cents, idempotency_key)


def reauthorize(previous_authorization_key: str, amount_cents: int, idempotency_key: str) -> PaymentResult:
    return processor().reauthorize(previous_authorization_key, amount_cents, idempotency_key)


def ledger(authorization_key: str) -> list[PaymentRecord]:
    return processor().ledger(authorization_key)
