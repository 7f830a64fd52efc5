"""Template helpers shared by every page: money, instants, and links that change one query parameter."""

from django import template
from django.utils import timezone

from commerce.instants import parse_instant
from commerce.money import format_cents

register = template.Library()


@register.filter
def money(cents) -> str:
    return format_cents(int(cents))


@register.filter
def instant(text):
    """An ISO 8601 instant (as contracts carry them) as a datetime in the site's time zone, for `|date`;
    "" for empty or unreadable text."""
    moment = parse_instant(text)
    return timezone.localtime(moment) if moment else ""


@register.simple_tag(takes_context=True)
def with_param(context, name: str, value) -> str:
    """The current URL's query string with `name` set to `value` (and back to page 1)."""
    query = context["request"].GET.copy()
    query[name] = str(value)
    if name != "page":
        query.pop("page", None)
    return "?" + query.urlencode()


@register.simple_tag(takes_context=True)
def without_params(context, *names: str) -> str:
    query = context["request"].GET.copy()
    for name in names + ("page",):
        query.pop(name, None)
    encoded = query.urlencode()
    return "?" + encoded if encoded else "?"
