"""Which exceptions name a store as away: a cause, or an implicit context, does; a context the code
dropped with `raise ... from None` does not (a workflow that did not answer is not Temporal away)."""

from temporalio.service import RPCError, RPCStatusCode

from commerce.management.stores import unavailable_store


def _timed_out() -> RPCError:
    return RPCError("deadline exceeded", RPCStatusCode.DEADLINE_EXCEEDED, b"")


def test_an_error_raised_from_an_rpc_timeout_names_temporal():
    try:
        try:
            raise _timed_out()
        except RPCError as error:
            raise ValueError("the call failed") from error
    except ValueError as wrapped:
        found = unavailable_store(wrapped)
    assert found is not None and found.store.name == "temporal"


def test_an_error_raised_while_handling_an_rpc_timeout_names_temporal_too():
    try:
        try:
            raise _timed_out()
        except RPCError:
            raise ValueError("the call failed")  # noqa: B904 - the implicit context is what is tested
    except ValueError as wrapped:
        found = unavailable_store(wrapped)
    assert found is not None and found.store.name == "temporal"


def test_an_error_raised_from_none_over_an_rpc_timeout_names_no_store():
    try:
        try:
            raise _timed_out()
        except RPCError:
            raise ValueError("the workflow did not answer in time") from None
    except ValueError as wrapped:
        assert unavailable_store(wrapped) is None
