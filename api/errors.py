"""The API's errors: every refusal is JSON `{"detail": "<what went wrong>"}` with its status.

Views raise `ApiError` subclasses (or let a service's error through to the handlers in api.main);
a request that fails validation answers 400 naming the field (not ninja's default 422).
"""

from __future__ import annotations


class ApiError(Exception):
    status = 400

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401

    def __init__(self, detail: str) -> None:
        super().__init__(detail, {"WWW-Authenticate": 'Bearer realm="api"'})


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class TooManyRequests(ApiError):
    status = 429

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, {"Retry-After": str(retry_after)})


class Unavailable(ApiError):
    status = 503

    def __init__(self, detail: str, retry_after: int = 5) -> None:
        super().__init__(detail, {"Retry-After": str(retry_after)})
