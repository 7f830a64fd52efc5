import getpass
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from commerce.management.stores import needs_stores, probe
from commerce.money import format_cents
from orders import staff
from orders.contracts import MAX_ACTOR_LENGTH, MAX_REASON_LENGTH, OrderStatus, SupplierOrderStage
from orders.numbers import normalize_order_number

# What each subcommand cannot start without (probed before it runs, so an outage reads as one line).
STORES = {
    "list": ("elasticsearch",),
    "show": ("temporal", "cassandra"),
    "approve": ("temporal", "cassandra"),
    "cancel": ("temporal", "cassandra"),
    "advance": ("temporal", "cassandra"),
}
MAX_LIMIT = staff.MAX_LISTED


def _default_actor() -> str:
    return f"operator:{getpass.getuser()}"


def _limit(text: str) -> int:
    if not text.isdigit() or len(text) > 4 or not 1 <= int(text) <= MAX_LIMIT:
        raise CommandError(f"--limit must be a whole number from 1 to {MAX_LIMIT}; got {text[:20]!r}")
    return int(text)


def _number(text: str) -> str:
    number = normalize_order_number(text)
    if number is None:
        raise CommandError(f"{text[:40]!r} is not an order number (they look like HC-7K3M9Q2XTA)")
    return number


def _label(status: str) -> str:
    return OrderStatus.LABELS.get(status, status)


def _stage(stage: str) -> str:
    return SupplierOrderStage.LABELS.get(stage, stage)


def _moment(iso: str, pattern: str = "%Y-%m-%d %H:%M:%S UTC") -> str:
    """An ISO instant in UTC, for a terminal: 2025-01-31 14:05:09 UTC ("-" when unknown)."""
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return "-"
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)).strftime(pattern)


@needs_stores()
class Command(BaseCommand):
    help = ("Staff's order desk: list orders, show one, approve, cancel, or advance its manual supplier orders. "
            "Actions go to the order's workflow, which says no (with its reason) when the order cannot do that now.")

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION",
                                        parser_class=type(parser))

        listing = actions.add_parser("list", help="the newest orders, from the orders index")
        listing.add_argument("--status", choices=OrderStatus.ALL, default=None)
        listing.add_argument("--query", default="", help="an order number, an email address or a customer's name")
        listing.add_argument("--limit", default="50", help=f"at most this many (1..{MAX_LIMIT}; 50)")

        show = actions.add_parser("show", help="one order: lines, totals, supplier orders, payments, history")
        show.add_argument("number")

        for name, about in (("approve", "approve an order awaiting approval"),
                            ("cancel", "cancel an order before it ships (needs --reason)"),
                            ("advance", "move each manual supplier order one stage on")):
            action = actions.add_parser(name, help=about)
            action.add_argument("number")
            action.add_argument("--actor", default="", help="who acts (default operator:<your user name>)")
            action.add_argument("--action-id", default="",
                                help="an id of your own to make a retry safe: the same id applies once")
            if name == "cancel":
                action.add_argument("--reason", default="", help="why (required)")

    def handle(self, *args, action, **options):
        for store in STORES[action]:
            probe(store)
        try:
            getattr(self, f"_{action}")(**options)
        except staff.OrderNotFound as missing:
            raise CommandError(str(missing)) from None
        except staff.ActionRefused as refusal:
            kind = f" [{refusal.error_type}]" if refusal.error_type else ""
            raise CommandError(f"Refused{kind}: {refusal}") from None
        except staff.OrdersUnavailable as unavailable:
            # A store outage underneath becomes `needs_stores`' one line; a timeout keeps this message.
            raise CommandError(str(unavailable)) from unavailable

    # -- subcommands ------------------------------------------------------------------------------

    def _actor(self, actor: str) -> str:
        actor = actor.strip() or _default_actor()
        if len(actor) > MAX_ACTOR_LENGTH:
            raise CommandError(f"--actor is at most {MAX_ACTOR_LENGTH} characters")
        return actor

    def _list(self, status, query, limit, **options):
        rows = staff.list_orders(status=status, query=query.strip() or None, limit=_limit(limit.strip()))
        if not rows:
            self.stdout.write("No orders." if not (status or query) else "No orders match.")
            return
        header = f"{'NUMBER':<14} {'PLACED':<20} {'STATUS':<18} {'TOTAL':>11} {'ITEMS':>5}  {'CUSTOMER':<24} FLAGS"
        self.stdout.write(header)
        for row in rows:
            flags = " ".join(flag for flag, on in (("approval", row.needs_approval), ("payment-hold", row.payment_hold))
                             if on)
            customer = (row.customer_name or row.email)[:24]
            placed = _moment(row.placed_at, "%Y-%m-%d %H:%M")
            line = (f"{row.order_number:<14} {placed:<20} {_label(row.status):<18} "
                    f"{format_cents(row.total_cents):>11} {row.item_count:>5}  {customer:<24} {flags}")
            self.stdout.write(line.rstrip())
        self.stdout.write(f"{len(rows)} order{'s' if len(rows) != 1 else ''}")

    def _show(self, number, **options):
        number = _number(number)
        detail = staff.order_detail(number)
        if detail is None:
            raise CommandError(f"There is no order {number}.")
        for line in describe(detail):
            self.stdout.write(line)

    def _approve(self, number, actor, action_id, **options):
        result = staff.approve(_number(number), self._actor(actor), action_id=action_id.strip() or None)
        self._result(number, "approved", result)

    def _cancel(self, number, actor, action_id, reason, **options):
        reason = reason.strip()
        if not reason or len(reason) > MAX_REASON_LENGTH:
            raise CommandError(f"--reason must say why, in at most {MAX_REASON_LENGTH} characters")
        result = staff.cancel(_number(number), self._actor(actor), reason, action_id=action_id.strip() or None)
        self._result(number, "cancelled", result)

    def _advance(self, number, actor, action_id, **options):
        steps = staff.advance(_number(number), self._actor(actor), action_id=action_id.strip() or None)
        for step in steps:
            if step.refused:
                self.stdout.write(f"{step.supplier_order_id}: refused {step.action or 'advance'}: {step.refused}")
                continue
            tracking = f" (tracking {step.tracking_number})" if step.tracking_number else ""
            self.stdout.write(f"{step.supplier_order_id}: {step.action} -> {_stage(step.stage)}{tracking}")

    def _result(self, number: str, done: str, result) -> None:
        number = _number(number)
        if result.applied:
            self.stdout.write(f"{number} {done}: now {_label(result.status)}")
        else:
            self.stdout.write(f"{number}: already done with this action id; now {_label(result.status)}")
        if result.message:
            self.stdout.write(result.message)


def describe(detail) -> list[str]:
    """The `show` block of an order (staff.order_detail): lines of text."""
    order, totals, address = detail.order, detail.order.totals, detail.order.shipping_address
    ship_to = ", ".join(part for part in (address.full_name, address.line1, address.line2, address.city, address.state,
                                          address.postal_code, address.country) if part)
    lines = [
        f"Order {order.order_number}  {_label(detail.status)}  (version {detail.version})",
        f"Placed      {_moment(order.placed_at)} by {address.full_name or '-'} <{order.email}>",
        f"Ship to     {ship_to} ({order.shipping_method or '-'})",
        f"Card        {order.card_brand or '-'} ending {order.card_last4 or '----'}",
    ]
    if detail.approval_deadline:
        lines.append(f"Approve by  {_moment(detail.approval_deadline)}")
    if detail.payment_hold_reason:
        lines.append(f"PAYMENT HOLD {detail.payment_hold_reason}")
    refunded = set(detail.refunded_skus)
    lines += ["", "Lines"]
    for line in order.lines:
        variant = " / ".join(part for part in (line.colour, line.size) if part)
        mark = "  (refunded)" if line.sku in refunded else ""
        lines.append(f"  {line.sku:<18} {line.name[:32]:<32} {variant[:20]:<20} {line.quantity:>3} x "
                     f"{format_cents(line.unit_price_cents):>10} = {format_cents(line.line_total_cents):>11}{mark}")
    lines.append(f"  subtotal {format_cents(totals.subtotal_cents)}, discount -{format_cents(totals.discount_cents)}, "
                 f"shipping {format_cents(totals.shipping_cents)}, tax {format_cents(totals.tax_cents)}, "
                 f"total {format_cents(totals.total_cents)}")

    lines += ["", "Supplier orders"]
    for state in detail.supplier_orders or ():
        plan = state.plan
        tracking = f"  tracking {state.tracking_number}" + (f" ({state.carrier})" if state.carrier else "") \
            if state.tracking_number else ""
        manual = f"  next: {', '.join(state.manual_actions)}" if state.manual_actions else ""
        lines.append(f"  {plan.supplier_order_id:<18} {plan.supplier_name or plan.supplier_id:<24} {plan.strategy:<9} "
                     f"{_stage(state.stage):<10} {format_cents(plan.amount_cents):>11}{tracking}{manual}")
    if not detail.supplier_orders:
        lines.append("  (not planned yet)")

    lines += ["", f"Payments    authorized {format_cents(detail.authorized_cents)}, captured "
                  f"{format_cents(detail.captured_cents)}, refunded {format_cents(detail.refunded_cents)}"
                  + (f"  (authorization {detail.authorization_key})" if detail.authorization_key else "")]
    for entry in detail.payments:
        about = f" {entry.supplier_order_id}" if entry.supplier_order_id else ""
        note = f"  {entry.message}" if entry.message else ""
        lines.append(f"  {_moment(entry.at)}  {entry.kind:<11} {format_cents(entry.amount_cents):>11}  {entry.status}"
                     f"{about}{note}")

    lines += ["", "History"]
    for transition in detail.history:
        moved = f"{_label(transition.from_status)} -> {_label(transition.to_status)}" if transition.from_status \
            else _label(transition.to_status)
        why = f": {transition.reason}" if transition.reason else ""
        lines.append(f"  {transition.seq:>3}  {_moment(transition.at)}  {moved} by {transition.actor}{why}")
    if not detail.history:
        lines.append("  (none recorded)")

    if detail.notes:
        lines += ["", "Notes"]
        lines += [f"  {_moment(note.at)}  {note.actor}: {note.text}" for note in detail.notes]

    lines += ["", "Allowed actions: " + (", ".join(detail.allowed_actions) if detail.allowed_actions
                                         else "none (the order's workflow has ended or allows nothing now)")]
    return lines
