from django.core.management.base import BaseCommand

from commerce.management.stores import needs_stores
from commerce.search import documents, ensure_index


@needs_stores("elasticsearch")
class Command(BaseCommand):
    help = "Create the Elasticsearch indices (behind their aliases) of every document. Idempotent."

    def handle(self, *args, **options):
        for document in documents():
            alias = document._index._name
            index, created = ensure_index(document)
            state = "created" if created else "exists"
            self.stdout.write(f"{alias:<24} -> {index} ({state})")
