from django.core.management.base import BaseCommand, CommandError

from commerce import stack
from commerce.stack.base import ServiceError


class Command(BaseCommand):
    help = "Start, check or stop the local stack: Temporal, Cassandra, Elasticsearch."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["up", "status", "down"])
        parser.add_argument("services", nargs="*", help="temporal, cassandra, elasticsearch (default: all)")

    def handle(self, *args, action, services, **options):
        try:
            if action == "up":
                stack.up(services, out=self.stdout.write)
            elif action == "status":
                if not stack.status(services, out=self.stdout.write):
                    raise CommandError("some services are down")
            else:
                stack.down(services, out=self.stdout.write)
        except ServiceError as exc:
            raise CommandError(str(exc)) from exc
