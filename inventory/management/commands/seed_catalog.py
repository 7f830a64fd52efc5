import time

from django.core.management.base import BaseCommand, CommandError

from inventory.catalog.generator import DEFAULT_PRODUCTS, DEFAULT_SEED, generate_catalog
from inventory.catalog.store import clear_catalog, write_catalog


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
        if reset:
            clear_catalog()
            self.stdout.write("catalog and stock tables emptied")
        catalog = generate_catalog(products=products, seed=seed)
        summary = write_catalog(catalog, self.stderr._out)
        self.stdout.write(
            f"catalog seed {seed}: {summary.products} products, {summary.variants} variants, "
            f"{summary.collections} collections, {summary.suppliers} suppliers; stock rows: "
            f"{summary.stock_rows_created} created, {summary.stock_rows_kept} kept as they were "
            f"({time.monotonic() - began:.1f}s)"
        )
