from django.apps import AppConfig


class CartAppConfig(AppConfig):
    name = "cart"
    verbose_name = "Cart"

    def ready(self) -> None:
        from cart import checks  # noqa: F401  (registers the cart's system checks)
