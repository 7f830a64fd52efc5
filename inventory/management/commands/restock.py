import asyncio
import getpass

from django.core.management.base import BaseCommand, CommandError

from commerce.management.stores import needs_stores
from inventory import services
from inventory.contracts import MAX_REASON_LENGTH, MAX_STOCK_DELTA, StockChange


def _delta(text: str) -> int:
    if not text.lstrip("+-").isdigit() or len(text) > 8:
        raise ValueError(text)
    value = int(text)
    if value == 0 or abs(value) > MAX_STOCK_DELTA:
        raise ValueError(text)
    return value


@needs_stores("temporal")
class Command(BaseCommand):
    help = ("Add units of a SKU at a supplier (negative to correct a count down), with a reason. "
            "Applied once per --command-id: repeat the command with the same id and nothing changes twice.")

    def add_arguments(self, parser):
        parser.add_argument("sku")
        parser.add_argument("supplier_id")
        parser.add_argument("delta", help=f"units, between -{MAX_STOCK_DELTA} and {MAX_STOCK_DELTA}, not 0")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--command-id", default="", help="an id of your own to make a retry safe (32 hex)")

    def handle(self, *args, sku, supplier_id, delta, reason, command_id, **options):
        try:
            units = _delta(delta.strip())
        except ValueError:
            raise CommandError(f"delta must be a whole number between -{MAX_STOCK_DELTA} and {MAX_STOCK_DELTA},"
                               f" not 0; got {delta[:20]!r}") from None
        reason = reason.strip()
        if not reason or len(reason) > MAX_REASON_LENGTH:
            raise CommandError(f"--reason must say why, in at most {MAX_REASON_LENGTH} characters")
        command_id = command_id.strip().lower() or services.new_command_id()
        if len(command_id) != 32 or any(c not in "0123456789abcdef" for c in command_id):
            raise CommandError("--command-id must be 32 hexadecimal characters")
        change = StockChange(command_id, sku.strip()[:64], supplier_id.strip()[:64], units, reason,
                             actor=f"manage.py restock ({getpass.getuser()})")
        self.stdout.write(f"stock change {command_id}: {units:+d} x {change.sku} at {change.supplier_id}")
        try:
            level = asyncio.run(services.change_stock(change))
        except services.StockChangeRefused as refusal:
            raise CommandError(str(refusal)) from None
        except services.StockChangePending as pending:
            raise CommandError(f"{pending} (command id {command_id})") from None
        self.stdout.write(f"{level.sku} at {level.supplier_id}: {level.on_hand} on hand, {level.reserved} reserved, "
                          f"{level.available} available")
