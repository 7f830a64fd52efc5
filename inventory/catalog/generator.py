"""The catalog generator: a believable shop, the same for the same seed.

`generate_catalog` is pure (no I/O, one `random.Random(seed)`), so its output can be compared
across runs; `inventory/catalog/store.py` writes it to Cassandra.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.utils.text import slugify

from inventory.catalog.vocabulary import (
    ADJECTIVES,
    CARE_BY_MATERIAL,
    CARE_DEFAULT,
    COLLECTIONS,
    COLOURS,
    EDITORIAL,
    LINE_NAMES,
    MATERIAL_NOTES,
    PREMIUM_SIZES,
    PURPOSE,
    SUPPLIERS,
    VENDORS,
)
from inventory.contracts import VariantSummary

DEFAULT_PRODUCTS = 2689
DEFAULT_SEED = 42
MAX_VARIANTS = 12
CATALOG_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SupplierRecord:
    supplier_id: str
    name: str
    strategy: str


@dataclass
class CollectionRecord:
    slug: str
    name: str
    department: str
    description: str
    position: int
    image_shape: str
    image_colour: str
    product_count: int = 0


@dataclass(frozen=True)
class VariantRecord:
    sku: str
    product_slug: str
    colour: str
    size: str
    price_cents: int
    position: int
    on_hand: int


@dataclass
class ProductRecord(VariantSummary):
    slug: str
    code: str
    name: str
    description: str
    product_type: str
    department: str
    vendor: str
    supplier_id: str
    collections: list[str]
    tags: set[str]
    image_shape: str
    featured: bool
    created_at: datetime
    variants: list[VariantRecord] = field(default_factory=list)


@dataclass
class Catalog:
    suppliers: list[SupplierRecord]
    collections: list[CollectionRecord]
    products: list[ProductRecord]

    @property
    def variants(self) -> list[VariantRecord]:
        return [variant for product in self.products for variant in product.variants]


def _price(rng: random.Random, low: int, high: int) -> int:
    """A shop price in cents: whole dollars, some ending in .95."""
    dollars = max(1, round(rng.uniform(low, high) / 100))
    return dollars * 100 - (5 if rng.random() < 0.3 else 0)


def _stock(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.07:
        return 0  # sold out
    if roll < 0.17:
        return rng.randint(1, 3)  # scarce
    return rng.randint(5, 150)


def _size_code(size: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", size.upper())


def _description(rng: random.Random, type_name: str, material: str, department: str) -> str:
    adjective = rng.choice(ADJECTIVES)
    if type_name.endswith("s") and not type_name.endswith("ss"):  # trunks, jeans, socks: no article
        opening = adjective.capitalize()
    else:
        opening = f"{'An' if adjective[0] in 'aeiou' else 'A'} {adjective}"
    intro = f"{opening} {type_name.lower()} in {material.lower()}, {rng.choice(PURPOSE[department])}."
    note = rng.choice(MATERIAL_NOTES).format(material=material.lower(), Material=material)
    lowered = material.lower()
    care = next((lines for words, lines in CARE_BY_MATERIAL if any(w in lowered for w in words)), CARE_DEFAULT)
    return f"{intro} {note} {rng.choice(care)}"


def generate_catalog(products: int = DEFAULT_PRODUCTS, seed: int = DEFAULT_SEED) -> Catalog:
    if products < 1:
        raise ValueError("a catalog needs at least one product")
    rng = random.Random(seed)
    suppliers = [SupplierRecord(*row) for row in SUPPLIERS.values()]
    supplier_ids = {key: row[0] for key, row in SUPPLIERS.items()}

    collections: list[CollectionRecord] = []
    for position, spec in enumerate(COLLECTIONS):
        first = spec.types[0]
        collections.append(CollectionRecord(
            spec.slug, spec.name, spec.department, spec.blurb, position,
            first.shape, COLOURS[rng.choice(first.palette)][1],
        ))
    for offset, (slug, name, blurb, _) in enumerate(EDITORIAL):
        collections.append(CollectionRecord(
            slug, name, "Editorial", blurb, len(COLLECTIONS) + offset, "tote", COLOURS[rng.choice(list(COLOURS))][1],
        ))
    by_slug = {collection.slug: collection for collection in collections}

    weights = [rng.uniform(0.6, 1.4) for _ in COLLECTIONS]
    used_slugs: set[str] = set()
    maker_vendors = [vendor for vendor in VENDORS if vendor != "Saltmarsh Workshop"]
    records: list[ProductRecord] = []
    for index in range(products):
        spec = rng.choices(COLLECTIONS, weights=weights)[0]
        ptype = rng.choice(spec.types)
        material = rng.choice(ptype.materials)
        # "Linen Linen Shirt" reads badly: drop a material the type's name already says.
        type_words = set(re.findall(r"[a-z]+", ptype.name.lower()))
        label = "" if type_words & set(re.findall(r"[a-z]+", material.lower())) else f"{material} "
        for _attempt in range(50):
            name = f"{rng.choice(LINE_NAMES)} {label}{ptype.name}"
            if slugify(name) not in used_slugs:
                break
        else:
            name = f"{name} No. {index + 1}"
        slug = slugify(name)
        used_slugs.add(slug)
        code = f"{index + 1:05d}"

        colour_count = min(len(ptype.palette), rng.choices([1, 2, 3, 4], weights=[30, 30, 25, 15])[0])
        colours = rng.sample(list(ptype.palette), colour_count)
        sizes = list(ptype.sizes)
        while len(colours) * len(sizes) > MAX_VARIANTS:
            if len(colours) > 1:
                colours.pop()
            else:
                sizes = sizes[1:] if len(sizes) % 2 else sizes[:-1]
        combos = [(colour, size) for colour in colours for size in sizes]
        if len(combos) > 3 and rng.random() < 0.25:
            # Some combinations are simply not made: the product page shows them disabled.
            for _ in range(rng.randint(1, 2)):
                combos.pop(rng.randrange(1, len(combos)))

        base = _price(rng, *ptype.price_range)
        variants = []
        for position, (colour, size) in enumerate(combos):
            price = base + (round(base * 0.1 / 100) * 100 if size in PREMIUM_SIZES and len(sizes) > 2 else 0)
            sku = f"HC{code}-{COLOURS[colour][0]}-{_size_code(size)}"
            variants.append(VariantRecord(sku, slug, colour, size, price, position, _stock(rng)))

        in_collections = [spec.slug]
        for editorial_slug, _, _, share in EDITORIAL:
            if rng.random() < share:
                in_collections.append(editorial_slug)
        supplier_id = supplier_ids[spec.supplier]
        vendor = "Saltmarsh Workshop" if spec.supplier == "workshop" else rng.choice(maker_vendors)
        records.append(ProductRecord(
            slug=slug,
            code=code,
            name=name,
            description=_description(rng, ptype.name, material, spec.department),
            product_type=ptype.name,
            department=spec.department,
            vendor=vendor,
            supplier_id=supplier_id,
            collections=in_collections,
            tags={material.lower(), spec.department.lower(), ptype.name.lower()},
            image_shape=ptype.shape,
            featured=rng.random() < 0.02,
            created_at=CATALOG_EPOCH + timedelta(hours=index),
            variants=variants,
        ))
        for collection_slug in in_collections:
            by_slug[collection_slug].product_count += 1

    return Catalog(suppliers=suppliers, collections=collections, products=records)
