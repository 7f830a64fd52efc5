"""The search page's request body is plain data: what the page sends is what the bench can send to
`<alias>/_search` directly, and only the fields a card needs come back."""

import json

from django.http import QueryDict

from inventory.catalog.search import CARD_SOURCE, PAGE_SIZE, cards, featured_body, search_body
from inventory.forms import search_params


def _body(query: str, page: int = 1, with_collection_facet: bool = True) -> dict:
    return search_body(search_params(QueryDict(query)), page, with_collection_facet)


def test_the_body_is_plain_json_that_survives_a_round_trip():
    body = _body("q=wool+sweater&color=Navy&size=M&price_min=20&type=Mug&collection=knitwear", page=3)
    assert json.loads(json.dumps(body)) == body


def test_the_body_asks_only_for_the_fields_a_card_needs_and_the_page_it_shows():
    body = _body("page=3", page=3)
    assert body["_source"] == CARD_SOURCE
    assert (body["from"], body["size"]) == (2 * PAGE_SIZE, PAGE_SIZE)
    assert body["track_total_hits"] is True


def test_a_facets_counts_apply_every_filter_but_its_own():
    body = _body("color=Navy&size=M&collection=knitwear")
    colour_conditions = body["aggs"]["color"]["aggs"]["variants"]["aggs"]["matching"]["filter"]["bool"]["filter"]
    assert colour_conditions == [{"terms": {"variants.size": ["M"]}}]
    collection_scope = body["aggs"]["collection"]["filter"]["bool"]["filter"]
    assert {"terms": {"collections": ["knitwear"]}} not in collection_scope
    assert body["post_filter"]["bool"]["filter"][0] == {"terms": {"collections": ["knitwear"]}}


def test_a_collection_page_leaves_out_the_collection_facet_and_words_ask_for_a_spelling():
    assert "collection" not in _body("", with_collection_facet=False)["aggs"]
    assert "suggest" not in _body("")
    assert _body("q=leathr")["suggest"]["spelling"]["text"] == "leathr"


def test_featured_cards_are_one_small_request_without_facets():
    body = featured_body(8)
    assert body["size"] == 8 and "aggs" not in body and body["_source"] == CARD_SOURCE


def test_a_card_shows_the_variant_of_the_chosen_colour_that_is_in_stock():
    source = {"slug": "tee", "name": "Tee", "product_type": "T-Shirt", "price_min_cents": 1500,
              "price_max_cents": 1800, "image_shape": "tee", "image_colour": "000000", "in_stock": True,
              "default_sku": "T-BLK-S", "variants": [
                  {"sku": "T-BLK-S", "colour": "Black", "colour_hex": "111111", "available": 3},
                  {"sku": "T-NVY-S", "colour": "Navy", "colour_hex": "1f2a44", "available": 0},
                  {"sku": "T-NVY-M", "colour": "Navy", "colour_hex": "1f2a44", "available": 2}]}
    answer = {"hits": {"hits": [{"_source": source}]}}
    (plain,) = cards(answer)
    (navy,) = cards(answer, ("Navy",))
    assert (plain.sku, plain.image_url, plain.colours) == ("T-BLK-S", "/images/tee/111111.svg", ("111111", "1f2a44"))
    assert navy.sku == "T-NVY-M"
    assert cards({"hits": {}}) == ()

