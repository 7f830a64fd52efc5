"""Static files for an async request path.

WhiteNoise's middleware is sync-only; in front of async views it would push every request
through a thread hop. This wrapper is async: only requests for static files go to WhiteNoise.
"""

from asgiref.sync import markcoroutinefunction, sync_to_async
from django.conf import settings
from whitenoise.middleware import WhiteNoiseMiddleware


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
