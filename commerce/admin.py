"""The shop's admin site: Django admin plus the operator pages each domain registers
(stock, and later the order console), listed on the admin index."""

from dataclasses import dataclass

from django.contrib import admin
from django.urls import path


@dataclass(frozen=True)
class OperatorPage:
    route: str
    view: object
    name: str
    title: str


class ShopAdminSite(admin.AdminSite):
    site_header = "Shop administration"
    site_title = "Shop admin"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.operator_pages: list[OperatorPage] = []

    def register_page(self, route: str, view, name: str, title: str) -> None:
        """Add a staff-only page at /admin/<route>, linked from the admin index."""
        self.operator_pages.append(OperatorPage(route, view, name, title))

    def get_urls(self):
        pages = [path(page.route, self.admin_view(page.view), name=page.name) for page in self.operator_pages]
        return pages + super().get_urls()

    def each_context(self, request):
        context = super().each_context(request)
        context["operator_pages"] = self.operator_pages
        return context
