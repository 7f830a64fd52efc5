import time

from django.core.management.base import BaseCommand, CommandError

from commerce.management.stores import needs_stores
from inventory import services
from inventory.catalog.generator import DEFAULT_PRODUCTS, DEFAULT_SEED


@needs_stores("cassandra")
class Command(BaseCommand):
    help = "Generate the catalog deterministically from a seed and write it to Cassandra. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=DEFAULT_PRODUCTS)
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument("--reset", action="store_true",
                            help="empty the catalog and stock tables first (stock levels start over)")

    def handle(self, *args, products, seed, reset, **options):
        if products < 1:
            raise CommandError("--products must be at least 1")
        began = time.monotonic()
        # The progress bar goes to stderr, so stdout keeps only the summary.
        summary = services.seed_catalog(products=products, seed=seed, reset=reset, progress=self.stderr._out)
        if reset:
            self.stdout.write("catalog and stock tables emptied first")
        self.stdout.write(
            f"catalog seed {seed}: {summary.products} products, {summary.variants} variants, "
            f"{summary.collections} collections, {summary.suppliers} suppliers; stock rows: "
            f"{summary.stock_rows_created} created, {summary.stock_rows_kept} kept as they were "
            f"({time.monotonic() - began:.1f}s)"
        )
