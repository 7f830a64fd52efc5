from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CommerceConfig(AppConfig):
    name = "commerce"
    default = True


class ShopAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "commerce.admin.ShopAdminSite"
