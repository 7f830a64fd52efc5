"""The staff console as a whole: the roles, the header and dashboard, and that no admin page is open
to anyone but staff."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver

from commerce.console import Tile
from tests.console_helpers import ensure_all_roles, logged_in, shopper

pytestmark = pytest.mark.django_db


def _admin_paths(patterns=None, prefix="/admin/"):
    """Every admin URL, its parameters filled with a plausible value."""
    for pattern in admin.site.get_urls() if patterns is None else patterns:
        route = str(pattern.pattern).lstrip("^").rstrip("$")
        for name, value in (("<str:number>", "HC-7K3M9Q2XTA"), ("<path:object_id>", "1"), ("<id>", "1"),
                            ("<str:", "x"), ("<path:", "x"), ("<int:", "1")):
            while name in route:
                start = route.index(name)
                route = route[:start] + value + route[route.index(">", start) + 1:]
        if "(?P" in route or "\\" in route:
            continue  # a regex route (the app index): covered by its plain neighbours
        if isinstance(pattern, URLResolver):
            yield from _admin_paths(pattern.url_patterns, prefix + route)
        elif isinstance(pattern, URLPattern):
            yield prefix + route


PUBLIC = {"/admin/login/", "/admin/logout/", "/admin/password_reset/"}


def test_the_migrations_make_the_three_staff_roles():
    ensure_all_roles()

    held = {group.name: {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
            for group in Group.objects.all()}

    assert held["Support"] == {"orders.view_order", "orders.add_order_note", "cart.view_cartrecord",
                               "inventory.view_inventorystock", "inventory.view_product",
                               "identity.view_storeconfiguration"}
    assert held["Fulfillment"] == {"orders.view_order", "orders.advance_order_fulfillment",
                                   "inventory.view_inventorystock", "inventory.view_product"}
    assert held["Managers"] >= held["Support"] | held["Fulfillment"]
    assert held["Managers"] - held["Support"] - held["Fulfillment"] == {
        "orders.approve_order", "orders.cancel_order", "orders.refund_order", "orders.retry_order_payment",
        "cart.end_cart", "inventory.change_inventorystock", "inventory.reindex_catalog",
        "identity.change_storeconfiguration"}


def test_a_user_who_is_not_staff_reaches_no_admin_page(client):
    shopper(client)
    paths = sorted(set(_admin_paths()) - PUBLIC)
    assert len(paths) > 10

    for path in paths:
        for response in (client.get(path), client.post(path, {})):
            assert response.status_code == 302, path
            assert response["Location"].startswith("/admin/login/"), path


def test_staff_in_no_role_see_no_console_page(client):
    logged_in(client, "new-hire")

    for name in ("orders_order", "cart_cartrecord", "inventory_inventorystock", "inventory_product"):
        assert client.get(f"/admin/{name.replace('_', '/', 1)}/").status_code == 403, name
    index = client.get("/admin/").content.decode()
    assert "You don’t have permission to view or edit anything." in index


def test_the_admin_is_headed_with_the_store_name(client, settings):
    settings.SHOP_NAME = "Wren & Daughters"
    logged_in(client, "support-1", "Support")

    page = client.get("/admin/").content.decode()

    assert "Wren &amp; Daughters · staff" in page


def test_a_dashboard_figure_that_fails_leaves_the_others_and_the_page(client):
    def broken(request):
        raise RuntimeError("the store fell over")

    def fine(request):
        return [Tile("Parcels waiting", 7, url="/admin/orders/order/"), Tile("Returns", None)]

    admin.site.register_tiles(broken)
    admin.site.register_tiles(fine)
    try:
        page = logged_in(client, "support-2", "Support").get("/admin/").content.decode()
    finally:
        admin.site.tile_sources.remove(broken)
        admin.site.tile_sources.remove(fine)

    assert "Parcels waiting" in page and ">7<" in page
    assert "Returns" in page and "not available just now" in page
