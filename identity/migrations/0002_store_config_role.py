"""Who may see and change the store configuration: Managers change it, Support may look (shipping
prices and tax rates are what shoppers ask about). The permissions are Django's own of the
StoreConfiguration model (`view_` and `change_storeconfiguration`), created here first as in 0001,
because Django creates permissions only after every migration has run."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.contenttypes.management import create_contenttypes
from django.db import migrations

VIEW = ("identity", "view_storeconfiguration")
CHANGE = ("identity", "change_storeconfiguration")
ROLES = {
    "Support": [VIEW],
    "Managers": [VIEW, CHANGE],
}


def grant(apps, schema_editor):
    ensure_store_config_roles(apps, schema_editor.connection.alias)


def ensure_store_config_roles(apps, using: str = "default") -> None:
    """Give the roles their store configuration permissions (the groups are made if missing)."""
    config = global_apps.get_app_config("identity")
    create_contenttypes(config, verbosity=0, using=using)
    create_permissions(config, verbosity=0, using=using)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in wanted:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(content_type__app_label="identity",
                                            codename__in=[codename for _, codename in (VIEW, CHANGE)])
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [("identity", "0001_staff_roles")]

    operations = [
        # The Cassandra tables' models, unmanaged (no SQL table; `sync_cassandra` makes them): recorded
        # here so Django's migration state knows this app's models and asks for no further migration.
        migrations.CreateModel(name="StoreConfigChangeRecord", fields=[], options={"managed": False}),
        migrations.CreateModel(name="StoreConfiguration", fields=[], options={
            "verbose_name": "store configuration",
            "verbose_name_plural": "store configuration",
            "managed": False,
        }),
        migrations.RunPython(grant, revoke),
    ]
