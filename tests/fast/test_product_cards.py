"""Product cards built in Python (`product_cards`): what the card template showed, escaped."""

import re

from inventory.contracts import ProductCard
from inventory.templatetags.catalog import product_cards


def _card(**changes) -> ProductCard:
    fields = dict(slug="blue-mug", name="Blue <Mug> & Co", product_type="Mug", price_min_cents=1800,
                  price_max_cents=1800, image_url="/images/mug/1f2a44.svg", in_stock=True, sku="MUG-BLU 12",
                  colours=("1f2a44",))
    return ProductCard(**{**fields, **changes})


def test_a_card_links_its_variant_and_escapes_the_name():
    html = product_cards([_card()])

    assert '<a href="/products/blue-mug/?variant=MUG-BLU%2012" class="card-link">' in html
    assert 'alt=""' in html  # the link's text names it; the picture is decorative
    assert '<span class="card-name">Blue &lt;Mug&gt; &amp; Co</span>' in html
    assert '<span class="price">$18.00</span>' in html
    assert "Sold out" not in html and "swatches" not in html


def test_a_price_range_a_sold_out_card_and_its_colours_are_shown():
    html = product_cards([_card(price_max_cents=2400, in_stock=False, colours=("1f2a44", "000000"), sku="")])

    assert '<span class="price">From $18.00</span>' in html
    assert '<span class="badge sold-out">Sold out</span>' in html
    assert '<span class="swatches" role="img" aria-label="2 colours">' in html
    assert re.findall(r'background:#(\w+)', html) == ["1f2a44", "000000"]
    assert 'href="/products/blue-mug/"' in html


def test_every_card_is_one_list_item():
    assert product_cards([_card(slug=f"p-{n}") for n in range(24)]).count('<li class="card">') == 24
    assert product_cards([]) == ""
