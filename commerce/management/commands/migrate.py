"""`migrate` for both stores: Django's SQL migrations and the shared cache's table, then the Cassandra
keyspace and tables."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.commands.migrate import Command as SqlMigrateCommand

from commerce.management.stores import needs_stores


@needs_stores("cassandra")
class Command(SqlMigrateCommand):
    help = ("Apply SQL migrations, create the cache table (CACHES), then create or update the Cassandra "
            "keyspace and tables.")

    def handle(self, *args, **options):
        if options["database"] == settings.CASSANDRA_ALIAS:
            call_command("sync_cassandra", database=settings.CASSANDRA_ALIAS, verbosity=options["verbosity"])
            return
        super().handle(*args, **options)
        # The shared cache (settings.CACHES) is a table in the SQL database; a no-op once it exists.
        call_command("createcachetable", database=options["database"], verbosity=options["verbosity"])
        if options["verbosity"]:
            self.stdout.write(self.style.MIGRATE_HEADING("Cassandra:"))
        call_command("sync_cassandra", database=settings.CASSANDRA_ALIAS, verbosity=options["verbosity"])
