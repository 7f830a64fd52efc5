"""The simulated payment processor against the real Cassandra: the test cards, a ledger where a
retried call returns the first result and nothing happens twice, bounded captures and refunds, one
void, and tokens that keep neither the card number nor the CVC, and vanish whole after a day."""

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from checkout import payments
from checkout.contracts import AuthorizeRequest, CardToken, PaymentErrors, PaymentResult
from checkout.payments import (
    AuthorizationExpired,
    CardRejected,
    PaymentDeclined,
    PaymentTemporarilyUnavailable,
    Status,
)
from commerce.cassandra import session, table

pytestmark = pytest.mark.usefixtures("cassandra_schema")

SUCCEEDS, DECLINED, EXPIRED, TRANSIENT = "4242424242424242", "4000000000000002", "4000000000000069", "4000000000000119"
CVC = "7391"
NEXT_YEAR = str(datetime.now(UTC).year + 1)


def _token(number: str = SUCCEEDS, cvc: str = CVC) -> CardToken:
    return payments.tokenize(number, "12", NEXT_YEAR, cvc, "Ada Lovelace")


def _key() -> str:
    return f"checkout-{uuid.uuid4().hex}-1/payment-1"


def _authorize(number: str = SUCCEEDS, amount: int = 10_000, key: str = "") -> tuple[str, PaymentResult]:
    key = key or _key()
    return key, payments.authorize(AuthorizeRequest(key, _token(number).token, amount))


def _declined(request: AuthorizeRequest) -> PaymentDeclined:
    with pytest.raises(PaymentDeclined) as declined:
        payments.authorize(request)
    return declined.value


def _rows(table_name: str, key_column: str, key: str) -> list[dict]:
    return list(session().execute(f"SELECT * FROM {table(table_name)} WHERE \"{key_column}\" = %s", [key]))


# -- tokens -------------------------------------------------------------------------------------

def test_tokenize_returns_a_random_token_with_brand_last_four_and_expiry():
    first, second = _token(), _token()

    assert first.token.startswith("tok_") and first.token != second.token
    assert (first.brand, first.last4, first.exp_month, first.exp_year) == ("Visa", "4242", 12, int(NEXT_YEAR))


def test_tokens_and_the_ledger_never_contain_or_store_the_card_number_or_cvc(caplog):
    caplog.set_level(logging.DEBUG)
    number = "5555 5555 5555 4444"
    token = payments.tokenize(number, "12", NEXT_YEAR, CVC, "Ada Lovelace")
    key = _key()
    payments.authorize(AuthorizeRequest(key, token.token, 2_500))
    payments.capture(key, 2_500, f"{key}/capture")
    digits = number.replace(" ", "")

    token_rows = _rows("payment_tokens", "token", token.token)
    ledger_rows = _rows("payments", "idempotency_key", key) + _rows("payments", "idempotency_key", f"{key}/capture")
    assert len(token_rows) == 1 and len(ledger_rows) == 2
    assert set(token_rows[0]) == {"token", "brand", "last4", "exp_month", "exp_year", "behaviour", "created_at"}
    for row in token_rows + ledger_rows:
        for column, value in row.items():
            text = repr(value)
            assert digits[:12] not in text and digits not in text, column  # not the number, not its prefix
            assert str(value) != CVC, column
    assert CVC not in repr(token_rows[0]["brand"]) + repr(token_rows[0]["last4"]) + repr(token_rows[0]["behaviour"])
    assert digits[:12] not in token.token and digits[:12] not in caplog.text and CVC not in caplog.text
    assert token_rows[0]["last4"] == "4444"


def test_the_token_row_has_a_ttl_of_a_day_on_every_cell():
    token = _token()

    ttls = session().execute(
        f"SELECT TTL(brand) AS brand, TTL(last4) AS last4, TTL(exp_month) AS exp_month, TTL(exp_year) AS exp_year,"
        f" TTL(behaviour) AS behaviour, TTL(created_at) AS created_at FROM {table('payment_tokens')}"
        " WHERE \"token\" = %s", [token.token]).one()

    assert all(0 < ttl <= payments.TOKEN_TTL_SECONDS for ttl in ttls.values()), ttls


@pytest.mark.parametrize("changes,field", [
    ({"number": "4242424242424241"}, "card_number"),
    ({"exp_month": "13"}, "exp_month"),
    ({"exp_year": "2001"}, "exp_year"),
    ({"cvc": "12"}, "cvc"),
    ({"cardholder": ""}, "cardholder"),
])
def test_tokenize_refuses_a_bad_luhn_expiry_cvc_or_name_with_its_field_and_stores_nothing(monkeypatch, changes,
                                                                                         field):
    store_calls = []
    monkeypatch.setattr(payments, "session", lambda: store_calls.append("session") or session())
    card = dict(number=SUCCEEDS, exp_month="12", exp_year=NEXT_YEAR, cvc=CVC, cardholder="Ada Lovelace") | changes

    with pytest.raises(CardRejected) as refusal:
        payments.tokenize(**card)

    assert refusal.value.field == field and refusal.value.message
    assert store_calls == []
    payments.tokenize(**(card | {"number": SUCCEEDS, "exp_month": "12", "exp_year": NEXT_YEAR, "cvc": CVC,
                                 "cardholder": "Ada Lovelace"}))
    assert store_calls == ["session"]  # the spy sees a write when there is one


# -- the test cards ---------------------------------------------------------------------------------

def test_the_succeeding_card_is_authorized_for_the_amount():
    key, result = _authorize(SUCCEEDS, 12_345)

    assert result == PaymentResult(key, "authorize", Status.AUTHORIZED, 12_345, key)
    assert [entry.status for entry in payments.ledger(key)] == [Status.AUTHORIZED]


def test_any_other_valid_card_is_authorized():
    key, result = _authorize("6011111111111117")

    assert result.status == Status.AUTHORIZED


def test_the_declined_card_is_refused_for_good_and_a_retry_gets_the_same_refusal():
    request = AuthorizeRequest(_key(), _token(DECLINED).token, 5_000)

    first, again = _declined(request), _declined(request)

    assert (first.error_type, first.message) == (PaymentErrors.DECLINED, "Your card was declined.")
    assert (again.error_type, again.message) == (first.error_type, first.message)
    assert [(entry.status, entry.attempts) for entry in payments.ledger(request.idempotency_key)] == [
        (Status.DECLINED, 1)]


def test_the_expired_card_is_refused_for_good_and_a_retry_gets_the_same_refusal():
    request = AuthorizeRequest(_key(), _token(EXPIRED).token, 5_000)

    first, again = _declined(request), _declined(request)

    assert (first.error_type, first.message) == (PaymentErrors.EXPIRED, "Your card has expired.")
    assert again.error_type == PaymentErrors.EXPIRED
    assert [entry.status for entry in payments.ledger(request.idempotency_key)] == [Status.EXPIRED]


def test_the_transient_card_fails_twice_then_succeeds_counting_its_attempts_in_one_ledger_entry():
    key = _key()
    request = AuthorizeRequest(key, _token(TRANSIENT).token, 7_000)
    seen = []

    for _ in range(2):
        with pytest.raises(PaymentTemporarilyUnavailable):
            payments.authorize(request)
        [entry] = payments.ledger(key)
        seen.append((entry.status, entry.attempts))
    result = payments.authorize(request)
    [entry] = payments.ledger(key)
    seen.append((entry.status, entry.attempts))

    assert seen == [(Status.TRANSIENT_FAILURE, 1), (Status.TRANSIENT_FAILURE, 2), (Status.AUTHORIZED, 3)]
    assert result == PaymentResult(key, "authorize", Status.AUTHORIZED, 7_000, key)
    assert payments.authorize(request) == result
    assert payments.ledger(key)[0].attempts == 3


def test_the_transient_error_is_retryable_and_the_refusals_are_not():
    assert PaymentTemporarilyUnavailable().retryable
    assert not PaymentDeclined(PaymentErrors.DECLINED, "Your card was declined.").retryable
    assert set(PaymentErrors.NON_RETRYABLE) >= {PaymentErrors.DECLINED, PaymentErrors.EXPIRED,
                                                PaymentErrors.UNKNOWN_TOKEN}


def test_an_unknown_or_expired_token_is_refused_asking_for_the_card_again_and_records_nothing():
    for token in ("tok_" + "0" * 24, "not-a-token", ""):
        request = AuthorizeRequest(_key(), token, 1_000)

        declined = _declined(request)

        assert (declined.error_type, declined.message) == (
            PaymentErrors.UNKNOWN_TOKEN, "Your card details expired; enter them again.")
        assert payments.ledger(request.idempotency_key) == []


# -- idempotency ------------------------------------------------------------------------------------

def test_a_replayed_authorize_with_the_same_key_gives_one_ledger_entry_and_the_first_result():
    key, first = _authorize(SUCCEEDS, 4_200)
    token = payments.ledger(key)[0].token

    again = payments.authorize(AuthorizeRequest(key, token, 4_200))

    assert again == first
    assert len(payments.ledger(key)) == 1
    assert len(_rows("payments", "idempotency_key", key)) == 1


def test_concurrent_authorizes_with_the_same_key_authorize_once_and_all_get_the_first_result():
    key, token = _key(), _token().token
    request = AuthorizeRequest(key, token, 9_900)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: payments.authorize(request), range(8)))

    assert len(set(results)) == 1 and results[0].status == Status.AUTHORIZED
    [entry] = payments.ledger(key)
    assert entry.created_at == entry.updated_at


def test_the_same_key_with_a_different_amount_or_card_is_refused():
    key, _ = _authorize(SUCCEEDS, 4_200)
    token = payments.ledger(key)[0].token

    with pytest.raises(ValueError, match="different request"):
        payments.authorize(AuthorizeRequest(key, token, 4_201))
    with pytest.raises(ValueError, match="different request"):
        payments.authorize(AuthorizeRequest(key, _token().token, 4_200))
    assert [entry.amount_cents for entry in payments.ledger(key)] == [4_200]


@pytest.mark.parametrize("amount", [0, -5, 100_000_001])
def test_an_amount_out_of_bounds_is_refused_before_anything_is_recorded(amount):
    key = _key()

    with pytest.raises(ValueError):
        payments.authorize(AuthorizeRequest(key, _token().token, amount))
    assert payments.ledger(key) == []


# -- capture, refund, void ----------------------------------------------------------------------

def test_captures_are_bounded_by_the_authorized_amount_and_each_key_captures_once():
    key, _ = _authorize(amount=10_000)

    first = payments.capture(key, 6_000, f"{key}/capture-1")
    with pytest.raises(ValueError, match="Only 4000 cents"):
        payments.capture(key, 5_000, f"{key}/capture-2")
    second = payments.capture(key, 4_000, f"{key}/capture-2")

    assert first == PaymentResult(f"{key}/capture-1", "capture", Status.CAPTURED, 6_000, key)
    assert payments.capture(key, 6_000, f"{key}/capture-1") == first
    with pytest.raises(ValueError):
        payments.capture(key, 1, f"{key}/capture-3")
    with pytest.raises(ValueError, match="different request"):
        payments.capture(key, 5_999, f"{key}/capture-1")
    entries = payments.ledger(key)
    assert [(entry.kind, entry.amount_cents) for entry in entries] == [
        ("authorize", 10_000), ("capture", 6_000), ("capture", 4_000)]
    assert entries[0].captured_cents == 10_000 and second.amount_cents == 4_000


def test_concurrent_captures_never_take_more_than_was_authorized():
    key, _ = _authorize(amount=10_000)

    def attempt(n: int) -> PaymentResult | None:
        try:
            return payments.capture(key, 3_000, f"{key}/capture-{n}")
        except ValueError:
            return None

    with ThreadPoolExecutor(10) as pool:
        results = [result for result in pool.map(attempt, range(10)) if result is not None]

    assert len(results) == 3
    assert payments.ledger(key)[0].captured_cents == 9_000
    assert len(payments.ledger(key)) == 4


def test_refunds_are_bounded_by_what_was_captured_and_each_key_refunds_once():
    key, _ = _authorize(amount=10_000)
    with pytest.raises(ValueError):
        payments.refund(key, 1, f"{key}/refund-0")  # nothing captured yet
    payments.capture(key, 7_000, f"{key}/capture-1")

    with pytest.raises(ValueError):
        payments.refund(key, 7_001, f"{key}/refund-1")
    first = payments.refund(key, 3_000, f"{key}/refund-1")
    with pytest.raises(ValueError, match="Only 4000 cents"):
        payments.refund(key, 5_000, f"{key}/refund-2")

    assert first == PaymentResult(f"{key}/refund-1", "refund", Status.REFUNDED, 3_000, key)
    assert payments.refund(key, 3_000, f"{key}/refund-1") == first
    assert [entry.kind for entry in payments.ledger(key)] == ["authorize", "capture", "refund"]
    assert payments.ledger(key)[0].refunded_cents == 3_000


def test_a_capture_or_refund_of_an_unknown_or_declined_authorization_is_refused():
    request = AuthorizeRequest(_key(), _token(DECLINED).token, 5_000)
    _declined(request)

    for authorization_key in (request.idempotency_key, _key()):
        with pytest.raises(ValueError, match="no authorization"):
            payments.capture(authorization_key, 100, f"{authorization_key}/capture")
        with pytest.raises(ValueError, match="no authorization"):
            payments.refund(authorization_key, 100, f"{authorization_key}/refund")


def test_an_authorization_is_voided_once_and_a_second_void_returns_the_first_result():
    key, _ = _authorize(amount=8_000)

    first = payments.void(key)
    again = payments.void(key)

    assert first == PaymentResult(f"void:{key}", "void", Status.VOIDED, 8_000, key)
    assert again == first
    assert [(entry.kind, entry.status) for entry in payments.ledger(key)] == [
        ("authorize", Status.AUTHORIZED), ("void", Status.VOIDED)]
    with pytest.raises(ValueError, match="voided"):
        payments.capture(key, 1, f"{key}/capture")


def test_concurrent_voids_void_once():
    key, _ = _authorize(amount=8_000)

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: payments.void(key), range(6)))

    assert len(set(results)) == 1 and results[0].status == Status.VOIDED
    assert [entry.kind for entry in payments.ledger(key)] == ["authorize", "void"]


def test_a_void_after_a_partial_capture_releases_only_the_rest():
    key, _ = _authorize(amount=10_000)
    payments.capture(key, 2_500, f"{key}/capture-1")

    assert payments.void(key).amount_cents == 7_500
    assert payments.ledger(key)[0].voided_cents == 7_500


def test_a_void_of_an_unknown_or_declined_authorization_has_nothing_to_void_and_records_nothing():
    request = AuthorizeRequest(_key(), _token(DECLINED).token, 5_000)
    _declined(request)
    unknown = _key()

    for key in (request.idempotency_key, unknown):
        result = payments.void(key)
        assert (result.status, result.amount_cents) == (Status.NOTHING_TO_VOID, 0)
        assert _rows("payments", "idempotency_key", f"void:{key}") == []
    assert [entry.status for entry in payments.ledger(request.idempotency_key)] == [Status.DECLINED]
    assert payments.ledger(unknown) == []


def test_a_void_of_a_transient_authorization_that_never_succeeded_has_nothing_to_void():
    key = _key()
    with pytest.raises(PaymentTemporarilyUnavailable):
        payments.authorize(AuthorizeRequest(key, _token(TRANSIENT).token, 5_000))

    assert payments.void(key).status == Status.NOTHING_TO_VOID
    assert len(payments.ledger(key)) == 1


def test_a_capture_interrupted_after_the_authorization_counted_it_is_finished_by_its_retry(monkeypatch):
    key, _ = _authorize(amount=10_000)
    processor = payments.processor()
    real_insert = processor._insert
    monkeypatch.setattr(processor, "_insert", lambda record: (_ for _ in ()).throw(ConnectionError("crash")))

    with pytest.raises(ConnectionError):
        payments.capture(key, 4_000, f"{key}/capture-1")
    monkeypatch.setattr(processor, "_insert", real_insert)
    retried = payments.capture(key, 4_000, f"{key}/capture-1")

    assert retried.status == Status.CAPTURED
    entries = payments.ledger(key)
    assert [(entry.kind, entry.amount_cents) for entry in entries] == [("authorize", 10_000), ("capture", 4_000)]
    assert entries[0].captured_cents == 4_000


# -- authorization validity ---------------------------------------------------------------------

REAUTH_DECLINED = "4000000000000341"


def _later(monkeypatch, delta: timedelta) -> None:
    """Move the processor's clock (real time) forward."""
    moved = datetime.now(UTC) + delta
    monkeypatch.setattr(payments, "_now", lambda: moved)


def test_a_capture_past_the_authorizations_validity_is_refused_but_its_void_and_refund_still_work(
        settings, monkeypatch):
    settings.PAYMENT_AUTHORIZATION_VALIDITY_SECONDS = 3600
    key, _ = _authorize(amount=10_000)
    in_time = payments.capture(key, 4_000, f"{key}/capture-1")
    _later(monkeypatch, timedelta(hours=2))

    with pytest.raises(AuthorizationExpired) as expired:
        payments.capture(key, 1_000, f"{key}/capture-2")

    assert (expired.value.kind, expired.value.retryable) == (PaymentErrors.AUTHORIZATION_EXPIRED, False)
    assert payments.capture(key, 4_000, f"{key}/capture-1") == in_time  # a retry returns what it did
    assert payments.refund(key, 1_500, f"{key}/refund-1").status == Status.REFUNDED
    assert payments.void(key).amount_cents == 6_000
    own = payments.ledger(key)[0]
    assert (own.captured_cents, own.refunded_cents, own.voided_cents) == (4_000, 1_500, 6_000)
    assert _rows("payments", "idempotency_key", f"{key}/capture-2") == []


def test_the_validity_is_read_from_settings_at_each_call(settings):
    key, _ = _authorize(amount=5_000)

    settings.PAYMENT_AUTHORIZATION_VALIDITY_SECONDS = 0
    with pytest.raises(AuthorizationExpired):
        payments.capture(key, 1_000, f"{key}/capture-1")
    settings.PAYMENT_AUTHORIZATION_VALIDITY_SECONDS = 3600
    assert payments.capture(key, 1_000, f"{key}/capture-1").status == Status.CAPTURED


# -- re-authorization -------------------------------------------------------------------------------

def _forget_token(key: str) -> None:
    """The token row lasts a day; a re-authorization comes later than that."""
    token = payments.ledger(key)[0].token
    session().execute(f'DELETE FROM {table("payment_tokens")} WHERE "token" = %s', [token])


def test_reauthorize_moves_what_is_left_to_a_new_authorization_and_voids_the_rest_without_the_token(
        settings, monkeypatch):
    settings.PAYMENT_AUTHORIZATION_VALIDITY_SECONDS = 3600
    key, _ = _authorize(amount=10_000)
    payments.capture(key, 3_000, f"{key}/capture-1")
    _forget_token(key)
    _later(monkeypatch, timedelta(hours=2))
    new_key = f"{key}/reauth-1"

    result = payments.reauthorize(key, 7_000, new_key)

    assert result == PaymentResult(new_key, "authorize", Status.AUTHORIZED, 7_000, new_key)
    old, *old_entries = payments.ledger(key)
    assert (old.captured_cents, old.voided_cents) == (3_000, 7_000)
    assert sorted((entry.kind, entry.idempotency_key, entry.amount_cents) for entry in old_entries) == [
        ("authorize", new_key, 7_000), ("capture", f"{key}/capture-1", 3_000), ("void", f"void:{key}", 7_000)]
    [new] = payments.ledger(new_key)
    assert (new.token, new.previous_authorization_key, new.amount_cents) == (old.token, key, 7_000)
    with pytest.raises(ValueError, match="voided"):
        payments.capture(key, 1, f"{key}/capture-2")
    assert payments.capture(new_key, 7_000, f"{key}/capture-2").status == Status.CAPTURED  # a fresh validity


def test_reauthorize_of_less_than_is_left_still_voids_all_that_is_left():
    key, _ = _authorize(amount=10_000)

    payments.reauthorize(key, 4_000, f"{key}/reauth-1")

    old = payments.ledger(key)[0]
    assert (old.captured_cents, old.voided_cents) == (0, 10_000)
    with pytest.raises(ValueError, match="Only 4000 cents"):
        payments.capture(f"{key}/reauth-1", 4_001, f"{key}/capture-1")


def test_a_retried_reauthorization_gives_one_authorization_and_one_void():
    key, _ = _authorize(amount=9_000)
    new_key = f"{key}/reauth-1"

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: payments.reauthorize(key, 9_000, new_key), range(6)))
    again = payments.reauthorize(key, 9_000, new_key)

    assert len(set(results)) == 1 and again == results[0] and again.status == Status.AUTHORIZED
    assert len(payments.ledger(new_key)) == 1
    assert [entry.kind for entry in payments.ledger(key)].count("void") == 1
    assert payments.ledger(key)[0].voided_cents == 9_000
    with pytest.raises(ValueError, match="different request"):
        payments.reauthorize(key, 8_000, new_key)
    with pytest.raises(ValueError, match="voided"):
        payments.reauthorize(key, 1_000, f"{key}/reauth-2")


def test_a_reauthorization_interrupted_after_the_old_authorization_was_voided_is_finished_by_its_retry(
        monkeypatch):
    key, _ = _authorize(amount=6_000)
    new_key = f"{key}/reauth-1"
    processor = payments.processor()
    real_insert = processor._insert
    monkeypatch.setattr(processor, "_insert", lambda record: (_ for _ in ()).throw(ConnectionError("crash")))

    with pytest.raises(ConnectionError):
        payments.reauthorize(key, 6_000, new_key)
    monkeypatch.setattr(processor, "_insert", real_insert)
    retried = payments.reauthorize(key, 6_000, new_key)

    assert retried == PaymentResult(new_key, "authorize", Status.AUTHORIZED, 6_000, new_key)
    assert [(entry.kind, entry.amount_cents) for entry in payments.ledger(key) if entry.kind == "void"] == [
        ("void", 6_000)]
    assert payments.capture(new_key, 6_000, f"{key}/capture-1").status == Status.CAPTURED


def test_the_reauthorization_test_card_authorizes_once_then_declines_every_reauthorization():
    key, first = _authorize(REAUTH_DECLINED, amount=5_000)
    _forget_token(key)

    declined = []
    for attempt in ("reauth-1", "reauth-1", "reauth-2"):
        with pytest.raises(PaymentDeclined) as refusal:
            payments.reauthorize(key, 5_000, f"{key}/{attempt}")
        declined.append((refusal.value.error_type, refusal.value.message))

    assert first.status == Status.AUTHORIZED
    assert declined == [(PaymentErrors.DECLINED, "Your card was declined.")] * 3
    assert [entry.status for entry in payments.ledger(f"{key}/reauth-1")] == [Status.DECLINED]
    old = payments.ledger(key)[0]
    assert (old.voided_cents, len(payments.ledger(key))) == (0, 1)  # the old authorization is untouched
    assert payments.capture(key, 5_000, f"{key}/capture-1").status == Status.CAPTURED


def test_a_card_past_its_expiry_declines_reauthorization_as_expired(monkeypatch):
    key, _ = _authorize(amount=5_000)  # expires in December of next year
    moved = datetime(int(NEXT_YEAR) + 1, 1, 15, tzinfo=UTC)
    monkeypatch.setattr(payments, "_now", lambda: moved)

    with pytest.raises(PaymentDeclined) as refusal:
        payments.reauthorize(key, 5_000, f"{key}/reauth-1")

    assert (refusal.value.error_type, refusal.value.message) == (PaymentErrors.EXPIRED, "Your card has expired.")
    assert payments.ledger(key)[0].voided_cents == 0


def test_reauthorize_of_an_unknown_or_declined_authorization_or_beyond_what_is_left_is_refused():
    request = AuthorizeRequest(_key(), _token(DECLINED).token, 5_000)
    _declined(request)
    key, _ = _authorize(amount=5_000)
    payments.capture(key, 2_000, f"{key}/capture-1")

    for previous in (request.idempotency_key, _key()):
        with pytest.raises(ValueError, match="no authorization"):
            payments.reauthorize(previous, 1_000, f"{previous}/reauth-1")
    with pytest.raises(ValueError, match="Only 3000 cents"):
        payments.reauthorize(key, 3_001, f"{key}/reauth-1")
    with pytest.raises(ValueError, match="of its own"):
        payments.reauthorize(key, 1_000, key)
    assert payments.ledger(key)[0].voided_cents == 0


def test_captures_over_the_old_and_new_authorizations_never_exceed_the_original_total():
    key, _ = _authorize(amount=10_000)
    payments.capture(key, 2_000, f"{key}/capture-0")
    new_key = f"{key}/reauth-1"

    def capture_old(n: int) -> int:
        try:
            return payments.capture(key, 1_000, f"{key}/capture-{n}").amount_cents
        except ValueError:
            return 0

    def reauthorize() -> int:
        try:
            return payments.reauthorize(key, 8_000, new_key).amount_cents
        except ValueError:
            return 0

    with ThreadPoolExecutor(10) as pool:
        reauthorized = pool.submit(reauthorize)
        captured_old = sum(pool.map(capture_old, range(1, 7)))  # at most 6,000: something is always left
    if not reauthorized.result():  # some captures won the race: re-authorize what they left
        left = 8_000 - captured_old
        new_key = f"{key}/reauth-2"
        payments.reauthorize(key, left, new_key)
    new_amount = payments.ledger(new_key)[0].amount_cents
    payments.capture(new_key, new_amount, f"{key}/capture-new")
    with pytest.raises(ValueError):
        payments.capture(new_key, 1, f"{key}/capture-more")
    with pytest.raises(ValueError):
        payments.capture(key, 1, f"{key}/capture-more-old")

    old = payments.ledger(key)[0]
    captured = old.captured_cents + payments.ledger(new_key)[0].captured_cents
    assert captured == 10_000
    assert old.captured_cents + old.voided_cents == 10_000
