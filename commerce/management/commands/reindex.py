from django.core.management.base import BaseCommand

from commerce.management.stores import needs_stores
from inventory import services as catalog
from orders import staff as orders

CATALOG_TARGETS = ("products", "collections")
ORDER_TARGETS = ("orders", "supplier_orders")


@needs_stores("cassandra", "elasticsearch")
class Command(BaseCommand):
    help = ("Rebuild search indices from Cassandra (the catalog's: products, collections; the OMS's: orders,"
            " supplier_orders), swapping each alias when its index is complete.")

    def add_arguments(self, parser):
        parser.add_argument("target", nargs="?", default="all", choices=[*CATALOG_TARGETS, *ORDER_TARGETS, "all"])

    def handle(self, *args, target, **options):
        # The progress bars go to stderr, so stdout keeps only one line per index.
        progress = self.stderr._out
        summaries = []
        if target in (*CATALOG_TARGETS, "all"):
            summaries += catalog.rebuild_search(target, progress=progress)
        if target in (*ORDER_TARGETS, "all"):
            summaries += orders.rebuild_search(target, progress=progress)
        for summary in summaries:
            dropped = f", dropped {', '.join(summary.removed_indices)}" if summary.removed_indices else ""
            self.stdout.write(f"{summary.alias}: {summary.documents} documents in {summary.index}{dropped}")
