"""The order list of the staff console (placeholder until written)."""

from django.http import HttpResponse


def changelist_view(request):
    return HttpResponse("orders")


def dashboard_tiles(request):
    return []
