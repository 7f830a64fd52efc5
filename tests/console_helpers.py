"""Staff users for the console's tests, in the roles the migration makes."""

from importlib import import_module

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

# A transactional test empties every table afterwards, the migrations' groups too: made again here.
ROLE_MIGRATIONS = (("identity.migrations.0001_staff_roles", "ensure_roles"),
                   ("identity.migrations.0002_store_config_role", "ensure_store_config_roles"))
PASSWORD = "a-long-password-1"


def ensure_all_roles() -> None:
    """The roles as the migrations leave them."""
    for module, function in ROLE_MIGRATIONS:
        getattr(import_module(module), function)(apps)


def staff_member(username: str, *roles: str, superuser: bool = False):
    ensure_all_roles()
    user = get_user_model().objects.create_user(username, password=PASSWORD, is_staff=True, is_superuser=superuser)
    user.groups.add(*Group.objects.filter(name__in=roles))
    return user


def logged_in(client, username: str, *roles: str):
    """The test client logged in as a new staff member in `roles` (Support, Fulfillment, Managers)."""
    client.force_login(staff_member(username, *roles))
    return client


def shopper(client, username: str = "shopper"):
    """The test client logged in as a user who is not staff."""
    client.force_login(get_user_model().objects.create_user(username, password=PASSWORD))
    return client
