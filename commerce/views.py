from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from commerce.health import check_all


@require_GET
async def healthz(request):
    results = await check_all()
    healthy = all(result.up for result in results)
    body = {"status": "up" if healthy else "down", "dependencies": {r.name: r.as_json() for r in results}}
    return JsonResponse(body, status=200 if healthy else 503)


def not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)
