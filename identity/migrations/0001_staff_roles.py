"""The staff roles as Django groups: what each may see and do in the staff console.

Frozen here as migrations are: a later change of a role is a new migration. The permissions are those
of the console's models' Meta (orders.Order, cart.CartRecord, inventory.Product) and Django's own view
and change permissions; they are created here first, because Django creates permissions only after
every migration has run."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.contenttypes.management import create_contenttypes
from django.db import migrations

SEE = [
    ("orders", "view_order"),
    ("inventory", "view_inventorystock"),
    ("inventory", "view_product"),
]
ROLES = {
    "Support": SEE + [
        ("orders", "add_order_note"),
        ("cart", "view_cartrecord"),
    ],
    "Fulfillment": SEE + [
        ("orders", "advance_order_fulfillment"),
    ],
    "Managers": SEE + [
        ("orders", "add_order_note"),
        ("orders", "advance_order_fulfillment"),
        ("orders", "approve_order"),
        ("orders", "cancel_order"),
        ("orders", "refund_order"),
        ("orders", "retry_order_payment"),
        ("cart", "view_cartrecord"),
        ("cart", "end_cart"),
        ("inventory", "change_inventorystock"),
        ("inventory", "reindex_catalog"),
    ],
}


def create_roles(apps, schema_editor):
    ensure_roles(apps, schema_editor.connection.alias)


def ensure_roles(apps, using: str = "default") -> None:
    """Make the roles (and the permissions they need) where they are missing; an existing group
    keeps its permissions and gains any of its role's it lacks."""
    # The console's models are Cassandra models with no SQL migrations: their content types and
    # permissions are made from the live app registry.
    for label in sorted({app for permissions in ROLES.values() for app, _ in permissions}):
        config = global_apps.get_app_config(label)
        create_contenttypes(config, verbosity=0, using=using)
        create_permissions(config, verbosity=0, using=using)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in wanted:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
