"""System checks of the cart: its settings must agree with the cart workflow's own budgets."""

from django.conf import settings
from django.core import checks

from cart.workflows import STOCK_CALL, STOCK_CALLS_PER_UPDATE


@checks.register()
def stock_budget_fits_the_update_timeout(app_configs=None, **kwargs):
    """An update's stock calls must end before the web tier stops waiting, or a refusal (out of
    stock) would reach the shopper as "not confirmed" instead of as a refusal."""
    budget = STOCK_CALLS_PER_UPDATE * STOCK_CALL["schedule_to_close_timeout"].total_seconds()
    if budget >= settings.CART_UPDATE_TIMEOUT_SECONDS:
        return [checks.Warning(
            f"CART_UPDATE_TIMEOUT_SECONDS={settings.CART_UPDATE_TIMEOUT_SECONDS} does not leave room for the "
            f"cart's stock calls ({budget:g} s at most)",
            hint=f"Set CART_UPDATE_TIMEOUT_SECONDS above {budget:g}.", id="cart.W001")]
    return []
