"""Bearer tokens, scopes and the per-token rate limit.

`BearerToken` checks the `Authorization: Bearer hc_...` header on every request against Cassandra
(one read by key: a revoked token is refused from the moment the tokens page revoked it), then counts
the request against the token's API_REQUESTS_PER_MINUTE (a fixed window on the shared cache, so every
web process counts together). `require(request, scope)` is each operation's scope check (403).
"""

from __future__ import annotations

import time

from django.conf import settings
from ninja.security import HttpBearer

from api.errors import Forbidden, TooManyRequests, Unauthorized, Unavailable
from commerce import ratelimit
from identity import token_services
from identity.token_services import ApiPrincipal

WINDOW_SECONDS = 60
MISSING = "Send a token of this shop as `Authorization: Bearer <token>` (make one at /accounts/tokens/)."


class BearerToken(HttpBearer):
    async def __call__(self, request):
        header = request.headers.get(self.header, "")
        scheme, _, value = header.partition(" ")
        if not header or scheme.lower() != self.openapi_scheme or not value.strip():
            raise Unauthorized(MISSING)
        return await self.authenticate(request, value.strip())

    async def authenticate(self, request, token: str) -> ApiPrincipal:
        try:
            principal = await token_services.authenticate(token)
        except token_services.TokenInvalid as error:
            raise Unauthorized(str(error)) from None
        except token_services.TokensUnavailable as error:
            raise Unavailable(str(error)) from None
        if not await ratelimit.allow("api", principal.token.token_id, settings.API_REQUESTS_PER_MINUTE,
                                     WINDOW_SECONDS):
            retry_after = WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS
            raise TooManyRequests(f"This token may make {settings.API_REQUESTS_PER_MINUTE} requests a minute; "
                                  f"wait {retry_after} s.", retry_after)
        return principal


def require(request, scope: str) -> ApiPrincipal:
    principal: ApiPrincipal = request.auth
    if not principal.has_scope(scope):
        raise Forbidden(f"This token lacks the {scope} scope.")
    return principal
