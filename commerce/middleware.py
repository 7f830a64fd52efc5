"""Middleware for an async request path: static files, the Content-Security-Policy header, and
Django's own middleware (session, common, auth, messages, gzip) run on the event loop.

WhiteNoise's middleware is sync-only; in front of async views it would push every request
through a thread hop. This wrapper is async: only requests for static files go to WhiteNoise.

Django's built-in middleware (MiddlewareMixin) runs each of its hooks under ASGI through
`sync_to_async(thread_sensitive=True)`: a hop to the request's sync thread (one per request, started by
Django's ASGI handler) and back, about a dozen per request. The hooks of the session, common, auth and
messages middleware do no blocking I/O but the session's save, so their subclasses here call them on
the event loop; the save still goes to that thread, and only when there is something to save.
(Security, CSRF and X-Frame-Options stay Django's own: `check --deploy` looks for them by name.)
"""

from asgiref.sync import markcoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware
from django.middleware.gzip import GZipMiddleware as DjangoGZipMiddleware
from whitenoise.middleware import WhiteNoiseMiddleware


class _OnTheLoop:
    """A MiddlewareMixin's hooks called on the event loop when the request is async (they must not block)."""

    async def __acall__(self, request):
        response = self.process_request(request) if hasattr(self, "process_request") else None
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            response = self.process_response(request, response)
        return response


class CommonMiddleware(_OnTheLoop, DjangoCommonMiddleware):
    pass


class GZipMiddleware(_OnTheLoop, DjangoGZipMiddleware):
    """Pages only (a page compresses in well under a millisecond; Django's class adds the BREACH
    mitigation). The API's JSON, which carries tokens' data, and the probes stay as they are; static
    files are WhiteNoise's."""

    def process_response(self, request, response):
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)


class AuthenticationMiddleware(_OnTheLoop, DjangoAuthenticationMiddleware):
    pass  # request.user stays lazy: ResolvedUserMiddleware reads it with `await request.auser()`


class MessageMiddleware(_OnTheLoop, DjangoMessageMiddleware):
    pass  # messages live in a cookie, or in the session (saved by SessionMiddleware)


class SessionMiddleware(_OnTheLoop, DjangoSessionMiddleware):
    """The session is loaded lazily (by `await request.session.aget(...)`, on that thread); it is saved
    on that thread only when it changed, and otherwise the response passes on the loop."""

    async def __acall__(self, request):
        self.process_request(request)
        response = await self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and (session.modified or settings.SESSION_SAVE_EVERY_REQUEST):
            return await sync_to_async(self.process_response, thread_sensitive=True)(request, response)
        return self.process_response(request, response)


class StaticFilesMiddleware:
    async_capable = True
    sync_capable = False

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.whitenoise = WhiteNoiseMiddleware(get_response)
        self.prefix = "/" + settings.STATIC_URL.lstrip("/")
        markcoroutinefunction(self)

    async def __call__(self, request):
        if request.path_info.startswith(self.prefix):
            response = await sync_to_async(self._static_response, thread_sensitive=False)(request)
            if response is not None:
                return response
        return await self.get_response(request)

    def _static_response(self, request):
        whitenoise = self.whitenoise
        found = (whitenoise.find_file(request.path_info) if whitenoise.autorefresh
                 else whitenoise.files.get(request.path_info))
        return whitenoise.serve(found, request) if found is not None else None


class ContentSecurityPolicyMiddleware:
    """Adds settings.CONTENT_SECURITY_POLICY to every response that does not set its own."""

    async_capable = True
    sync_capable = False

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY
        # Django's debug error pages (DEBUG only) style and script themselves inline.
        self.skip_errors = settings.DEBUG
        markcoroutinefunction(self)

    async def __call__(self, request):
        response = await self.get_response(request)
        if not (self.skip_errors and response.status_code >= 400):
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


class ResolvedUserMiddleware:
    """Resolves `request.user` on the event loop, after AuthenticationMiddleware.

    Django's `request.user` is a lazy object that loads the session and the user with the blocking
    ORM the first time it is read; read in an async view (a template's `user`, the nav bar), that
    raises SynchronousOnlyOperation. Here the user is read once with `await request.auser()` and put
    in its place. A request without a session cookie costs nothing (it can only be anonymous); one
    with a cookie loads its session now instead of later, and a signed-in one reads its user row.

    `request.auser()` then answers `request.user`, which `alogin`/`alogout` keep current (Django's
    own `auser` caches its first answer, so after `alogin` in the same request it would still say
    anonymous)."""

    async_capable = True
    sync_capable = False

    def __init__(self, get_response) -> None:
        from django.contrib.auth.models import AnonymousUser

        self.get_response = get_response
        self.cookie = settings.SESSION_COOKIE_NAME
        self.anonymous = AnonymousUser
        markcoroutinefunction(self)

    async def __call__(self, request):
        if hasattr(request, "auser"):
            if self.cookie in request.COOKIES:
                request.user = await request.auser()
            else:
                request.user = self.anonymous()

            async def auser():
                return request.user

            request.auser = auser
        return await self.get_response(request)
