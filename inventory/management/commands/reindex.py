from django.core.management.base import BaseCommand

from commerce.management.stores import needs_stores
from inventory import services


@needs_stores("cassandra", "elasticsearch")
class Command(BaseCommand):
    help = "Rebuild the catalog's search indices from Cassandra, swapping each alias when its index is complete."

    def add_arguments(self, parser):
        parser.add_argument("target", nargs="?", default="all", choices=["products", "collections", "all"])

    def handle(self, *args, target, **options):
        # The progress bars go to stderr, so stdout keeps only one line per index.
        for summary in services.rebuild_search(target, progress=self.stderr._out):
            dropped = f", dropped {', '.join(summary.removed_indices)}" if summary.removed_indices else ""
            self.stdout.write(f"{summary.alias}: {summary.documents} documents in {summary.index}{dropped}")
