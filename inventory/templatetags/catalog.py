from django import template

from inventory.contracts import PRICE_BUCKETS

register = template.Library()
_BUCKETS = {bucket.key: bucket for bucket in PRICE_BUCKETS}


@register.simple_tag(takes_context=True)
def price_url(context, key: str, selected: bool) -> str:
    """The query string choosing a price bucket (or clearing it, when it is the chosen one)."""
    query = context["request"].GET.copy()
    for name in ("price_min", "price_max", "page"):
        query.pop(name, None)
    bucket = _BUCKETS.get(key)
    if bucket and not selected:
        if bucket.min_cents is not None:
            query["price_min"] = f"{bucket.min_cents / 100:.2f}"
        if bucket.max_cents is not None:
            query["price_max"] = f"{(bucket.max_cents - 1) / 100:.2f}"
    return "?" + query.urlencode()


@register.filter
def page_window(results, radius: int = 2) -> list:
    """Page numbers around the current page, with None where a gap is elided."""
    first, last, current = 1, results.pages, results.page
    shown = sorted({first, last, *range(max(first, current - radius), min(last, current + radius) + 1)})
    window, previous = [], None
    for number in shown:
        if previous is not None and number - previous > 1:
            window.append(None)
        window.append(number)
        previous = number
    return window
