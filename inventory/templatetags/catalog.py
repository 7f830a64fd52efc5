from urllib.parse import quote, urlencode

from django import template
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from commerce.money import format_cents
from inventory.contracts import PRICE_BUCKETS

register = template.Library()
_BUCKETS = {bucket.key: bucket for bucket in PRICE_BUCKETS}
_PRICE_PARAMS = ("price_min", "price_max", "page")


def _price_query(lists: list[tuple[str, list[str]]], key: str, selected: bool) -> str:
    """The query string choosing a price bucket (or clearing it, when it is the chosen one)."""
    pairs = [(name, value) for name, values in lists if name not in _PRICE_PARAMS for value in values]
    bucket = _BUCKETS.get(key)
    if bucket and not selected:
        if bucket.min_cents is not None:
            pairs.append(("price_min", f"{bucket.min_cents / 100:.2f}"))
        if bucket.max_cents is not None:
            pairs.append(("price_max", f"{(bucket.max_cents - 1) / 100:.2f}"))
    return "?" + urlencode(pairs)


def _toggled_query(lists: list[tuple[str, list[str]]], name: str, value: str) -> str:
    """The query string with `value` added to, or removed from, the values of `name`, back to page 1
    (without copying the QueryDict for every option)."""
    pairs, seen = [], False
    for key, values in lists:
        if key == "page":
            continue
        if key == name:
            seen = True
            values = [v for v in values if v != value] if value in values else [*values, value]
        pairs += [(key, v) for v in values]
    if not seen:
        pairs.append((name, value))
    return "?" + urlencode(pairs)


@register.simple_tag(takes_context=True)
def facet_options(context, facet) -> str:
    """A facet's options as list items, built in Python: a listing shows hundreds of them, and the
    template language spent more time on them than Elasticsearch spent on the search."""
    lists = list(context["request"].GET.lists())
    items = []
    for option in facet.options:
        if facet.name == "price":
            url = _price_query(lists, option.value, option.selected)
        else:
            url = _toggled_query(lists, facet.name, str(option.value))
        chosen = option.selected
        selected, current, check = (" selected", ' aria-current="true"', "&#10003;") if chosen else ("", "", "")
        items.append(
            f'<li><a href="{escape(url)}"\n'
            f'             class="facet-option{selected}" data-value="{escape(option.value)}"'
            f' data-count="{option.count}"{current}>\n'
            f'        <span class="check" aria-hidden="true">{check}</span>'
            f'{escape(option.label)} <span class="count">{option.count}</span></a></li>')
    return mark_safe("\n      ".join(items))


@register.simple_tag
def product_cards(cards) -> str:
    """Product cards as list items, built in Python for the same reason as the facets: through the
    template language 24 cards cost most of a search page's rendering."""
    items = []
    for card in cards:
        href = reverse("product", args=[card.slug]) + (f"?variant={quote(card.sku, safe='/')}" if card.sku else "")
        name = escape(card.name)
        price = ("From " if card.price_min_cents != card.price_max_cents else "") + format_cents(card.price_min_cents)
        badge = "" if card.in_stock else '<span class="badge sold-out">Sold out</span>'
        swatches = ""
        if len(card.colours) > 1:
            dots = "".join(f'<span class="swatch" style="background:#{escape(hex_colour)}"></span>'
                           for hex_colour in card.colours)
            swatches = f'<span class="swatches" role="img" aria-label="{len(card.colours)} colours">{dots}</span>'
        items.append(
            f'<li class="card">\n'
            f'  <a href="{escape(href)}" class="card-link">\n'
            # The link's text names the product: the picture beside it is decorative (alt="").
            f'    <img src="{escape(card.image_url)}" alt="" width="200" height="200" loading="lazy">\n'
            f'    <span class="card-name">{name}</span>\n'
            f'  </a>\n'
            f'  <span class="card-meta">\n'
            f'    <span class="price">{escape(price)}</span>\n'
            f'    {badge}\n'
            f'  </span>\n'
            f'  {swatches}\n'
            f'</li>\n')
    return mark_safe("".join(items))


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
