"""The orders' staff console: the order list (from the `orders` index) and the live order page
(from the order's workflow), with the staff actions."""

from django.apps import apps
from django.contrib import admin

from commerce.console import ConsoleAdmin
from orders.admin import order_list, order_page


class OrderAdmin(ConsoleAdmin):
    def console_urls(self):
        return [("", order_list.changelist_view, "changelist"), *order_page.console_urls()]


# The model names the pages and their permissions only: the data comes from the orders' services.
admin.site.register(apps.get_model("orders", "Order"), OrderAdmin)
admin.site.register_tiles(order_list.dashboard_tiles)
