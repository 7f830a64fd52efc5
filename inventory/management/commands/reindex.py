from django.core.management.base import BaseCommand

from commerce.search import rebuild
from inventory.documents import CollectionDocument, ProductDocument
from inventory.projection import iter_collections, iter_product_listings


class Command(BaseCommand):
    help = "Rebuild the catalog's search indices from Cassandra, swapping each alias when its index is complete."

    def add_arguments(self, parser):
        parser.add_argument("target", nargs="?", default="all", choices=["products", "collections", "all"])

    def handle(self, *args, target, **options):
        stream = self.stderr._out
        if target in ("collections", "all"):
            rows = list(iter_collections())
            self._report(rebuild(CollectionDocument, rows, len(rows), stream))
        if target in ("products", "all"):
            listings = list(iter_product_listings())
            self._report(rebuild(ProductDocument, listings, len(listings), stream))

    def _report(self, summary):
        dropped = f", dropped {', '.join(summary.removed_indices)}" if summary.removed_indices else ""
        self.stdout.write(f"{summary.alias}: {summary.documents} documents in {summary.index}{dropped}")
