"""The words and numbers the catalog generator draws from: collections, product types, colours,
sizes, materials, suppliers. Plain data; inventory/catalog/generator.py turns it into a catalog.
"""

from __future__ import annotations

from dataclasses import dataclass

# name -> (three-letter SKU code, hex fill)
COLOURS: dict[str, tuple[str, str]] = {
    "Black": ("BLK", "#222222"),
    "White": ("WHT", "#f4f3ee"),
    "Charcoal": ("CHA", "#3d4148"),
    "Heather Grey": ("HGR", "#a9abae"),
    "Navy": ("NVY", "#1f2a44"),
    "Indigo": ("IND", "#3b4b7d"),
    "Sky Blue": ("SKY", "#8fb9de"),
    "Teal": ("TEA", "#2a7f7a"),
    "Sage": ("SAG", "#9db08a"),
    "Olive": ("OLV", "#6b6b3a"),
    "Forest": ("FOR", "#2f4f3a"),
    "Mustard": ("MUS", "#d2a52d"),
    "Rust": ("RUS", "#b4552b"),
    "Terracotta": ("TER", "#c66c4c"),
    "Brick Red": ("BRK", "#9b3b33"),
    "Burgundy": ("BUR", "#6d2434"),
    "Blush": ("BLU", "#e6b4ae"),
    "Lavender": ("LAV", "#b6a6d2"),
    "Oat": ("OAT", "#d9ceb5"),
    "Sand": ("SAN", "#c8b48d"),
    "Camel": ("CAM", "#b08850"),
    "Chocolate": ("CHO", "#5a3c2b"),
    "Cream": ("CRE", "#f0e7d0"),
    "Coral": ("COR", "#ee7e63"),
}

NEUTRALS = ["Black", "White", "Charcoal", "Heather Grey", "Navy", "Oat", "Sand", "Cream"]
EARTH = ["Olive", "Forest", "Rust", "Terracotta", "Camel", "Chocolate", "Sage", "Mustard"]
BRIGHT = ["Sky Blue", "Teal", "Coral", "Blush", "Lavender", "Brick Red", "Burgundy", "Indigo"]
ALL_COLOURS = list(COLOURS)

# Size sets, smallest first; the last entries of apparel sets cost a little more.
APPAREL = ["XS", "S", "M", "L", "XL", "XXL"]
WAIST = ["28", "30", "32", "34", "36", "38"]
SHOES = ["6", "7", "8", "9", "10", "11", "12"]
KIDS = ["2T", "3T", "4T", "5", "6", "7"]
SOCKS = ["S/M", "L/XL"]
BED = ["Twin", "Full", "Queen", "King"]
SML = ["Small", "Medium", "Large"]
RUG = ["2x3 ft", "4x6 ft", "5x8 ft", "8x10 ft"]
ONE = ["One Size"]
SIZE_ORDER = {size: index for index, size in enumerate(dict.fromkeys(
    APPAREL + WAIST + SHOES + KIDS + SOCKS + BED + SML + RUG + ONE))}
PREMIUM_SIZES = {"XXL", "38", "12", "King", "Large", "8x10 ft", "XL"}


@dataclass(frozen=True)
class ProductType:
    name: str
    shape: str  # which drawing of inventory/images.py pictures it
    sizes: tuple[str, ...]
    price_range: tuple[int, int]  # cents
    materials: tuple[str, ...]
    palette: tuple[str, ...] = tuple(ALL_COLOURS)


def _t(name, shape, sizes, low, high, materials, palette=ALL_COLOURS) -> ProductType:
    return ProductType(name, shape, tuple(sizes), (low * 100, high * 100), tuple(materials), tuple(palette))


@dataclass(frozen=True)
class CollectionSpec:
    slug: str
    name: str
    department: str
    blurb: str
    types: tuple[ProductType, ...]
    supplier: str = "warehouse"


def _c(slug, name, department, blurb, types, supplier="warehouse") -> CollectionSpec:
    return CollectionSpec(slug, name, department, blurb, tuple(types), supplier)


COLLECTIONS: list[CollectionSpec] = [
    # Apparel
    _c("tees", "Tees", "Apparel", "Everyday tees in soft, sturdy cottons.", [
        _t("T-Shirt", "tshirt", APPAREL, 18, 38, ["Organic Cotton", "Slub Cotton", "Pima Cotton", "Hemp Blend"]),
        _t("Long-Sleeve Tee", "longsleeve", APPAREL, 24, 44, ["Organic Cotton", "Waffle Knit", "Pima Cotton"]),
        _t("Pocket Tee", "tshirt", APPAREL, 22, 36, ["Heavyweight Cotton", "Garment-Dyed Cotton"]),
    ]),
    _c("shirts", "Shirts", "Apparel", "Button-downs, camp collars and overshirts.", [
        _t("Oxford Shirt", "shirt", APPAREL, 48, 88, ["Cotton Oxford", "Brushed Oxford"], NEUTRALS + ["Sky Blue"]),
        _t("Linen Shirt", "shirt", APPAREL, 58, 98, ["Linen", "Linen-Cotton"]),
        _t("Overshirt", "shirt", APPAREL, 68, 128, ["Flannel", "Cotton Twill", "Corduroy"], NEUTRALS + EARTH),
        _t("Camp Shirt", "shirt", APPAREL, 54, 92, ["Tencel", "Seersucker", "Linen"]),
    ]),
    _c("knitwear", "Knitwear", "Apparel", "Sweaters knitted to last many winters.", [
        _t("Crew Sweater", "sweater", APPAREL, 68, 168, ["Merino Wool", "Lambswool", "Cashmere Blend", "Cotton"]),
        _t("Cardigan", "sweater", APPAREL, 78, 178, ["Merino Wool", "Alpaca Blend", "Cotton"]),
        _t("Roll-Neck Sweater", "sweater", APPAREL, 88, 188, ["Merino Wool", "Cashmere Blend"]),
    ]),
    _c("sweats", "Hoodies & Sweats", "Apparel", "Loopback fleece for weekends and cold mornings.", [
        _t("Hoodie", "hoodie", APPAREL, 58, 98, ["Loopback Cotton", "Brushed Fleece", "Organic Cotton"]),
        _t("Sweatshirt", "sweater", APPAREL, 48, 84, ["Loopback Cotton", "Brushed Fleece"]),
    ]),
    _c("outerwear", "Outerwear", "Apparel", "Jackets and vests for wind, rain and chill.", [
        _t("Chore Jacket", "jacket", APPAREL, 118, 198, ["Cotton Canvas", "Moleskin", "Corduroy"], NEUTRALS + EARTH),
        _t("Rain Jacket", "jacket", APPAREL, 128, 248, ["Waxed Cotton", "Recycled Nylon"]),
        _t("Puffer Vest", "vest", APPAREL, 88, 158, ["Recycled Nylon", "Down-Filled Ripstop"]),
        _t("Wool Overcoat", "coat", APPAREL, 228, 398, ["Melton Wool", "Recycled Wool"], NEUTRALS + ["Camel", "Forest"]),
    ]),
    _c("trousers", "Trousers", "Apparel", "Chinos and trousers cut for all day.", [
        _t("Chinos", "trousers", WAIST, 68, 118, ["Cotton Twill", "Stretch Twill"], NEUTRALS + EARTH),
        _t("Pleated Trousers", "trousers", WAIST, 88, 148, ["Wool Flannel", "Linen", "Cotton Drill"]),
        _t("Shorts", "shorts", WAIST, 44, 78, ["Cotton Twill", "Linen", "Seersucker"]),
    ]),
    _c("denim", "Denim", "Apparel", "Selvedge and stretch denim that ages well.", [
        _t("Jeans", "trousers", WAIST, 88, 168, ["Selvedge Denim", "Stretch Denim", "Rigid Denim"],
           ["Indigo", "Black", "Navy", "Sky Blue", "White"]),
        _t("Denim Jacket", "jacket", APPAREL, 118, 188, ["Selvedge Denim", "Rigid Denim"], ["Indigo", "Black", "Sky Blue"]),
    ]),
    _c("dresses", "Dresses", "Apparel", "Easy dresses for warm days and long evenings.", [
        _t("Midi Dress", "dress", APPAREL, 88, 168, ["Linen", "Tencel", "Cotton Poplin"]),
        _t("Wrap Dress", "dress", APPAREL, 98, 178, ["Crepe", "Tencel", "Silk Blend"]),
        _t("Slip Dress", "dress", APPAREL, 78, 148, ["Silk Blend", "Satin"]),
    ]),
    _c("activewear", "Activewear", "Apparel", "Technical layers that move with you.", [
        _t("Leggings", "leggings", APPAREL, 58, 98, ["Recycled Nylon", "Performance Knit"]),
        _t("Running Shorts", "shorts", APPAREL, 38, 64, ["Recycled Polyester", "Ripstop"]),
        _t("Training Tee", "tshirt", APPAREL, 32, 58, ["Merino Wool", "Recycled Polyester"]),
    ]),
    _c("loungewear", "Loungewear", "Apparel", "Soft things for staying in.", [
        _t("Pajama Set", "pajamas", APPAREL, 68, 128, ["Cotton Poplin", "Flannel", "Silk Blend"]),
        _t("Robe", "robe", SML, 78, 148, ["Waffle Cotton", "Terry Cotton", "Linen"]),
        _t("Joggers", "trousers", APPAREL, 54, 88, ["Loopback Cotton", "Brushed Fleece"]),
    ]),
    _c("swimwear", "Swimwear", "Apparel", "Quick-drying swimwear made from recycled yarns.", [
        _t("Swim Trunks", "shorts", APPAREL, 48, 88, ["Recycled Polyester", "Quick-Dry Nylon"]),
        _t("Swimsuit", "swimsuit", APPAREL, 68, 128, ["Recycled Nylon", "Ribbed Lycra"]),
    ]),
    _c("socks", "Socks", "Apparel", "Socks worth darning.", [
        _t("Crew Socks", "sock", SOCKS, 12, 22, ["Organic Cotton", "Merino Wool"]),
        _t("Hiking Socks", "sock", SOCKS, 18, 28, ["Merino Wool", "Wool Blend"]),
    ]),
    _c("footwear", "Footwear", "Apparel", "Shoes and boots resoled, not replaced.", [
        _t("Sneakers", "shoe", SHOES, 98, 168, ["Canvas", "Leather", "Suede"]),
        _t("Chelsea Boots", "boot", SHOES, 188, 298, ["Leather", "Suede"], ["Black", "Chocolate", "Camel", "Sand"]),
        _t("Slippers", "shoe", SHOES, 48, 88, ["Wool Felt", "Shearling"]),
    ]),
    _c("kids", "Kids", "Apparel", "Hard-wearing clothes for small people.", [
        _t("Kids Tee", "tshirt", KIDS, 14, 26, ["Organic Cotton"]),
        _t("Kids Hoodie", "hoodie", KIDS, 28, 48, ["Loopback Cotton"]),
        _t("Kids Dungarees", "dungarees", KIDS, 34, 58, ["Cotton Canvas", "Corduroy"]),
    ]),
    # Home
    _c("bedding", "Bedding", "Home", "Percale, sateen and linen for better sleep.", [
        _t("Duvet Cover", "duvet", BED, 118, 298, ["Percale Cotton", "Sateen Cotton", "Stonewashed Linen"]),
        _t("Sheet Set", "duvet", BED, 98, 248, ["Percale Cotton", "Sateen Cotton", "Stonewashed Linen"]),
        _t("Pillowcase Pair", "pillow", ["Standard", "King"], 38, 78, ["Percale Cotton", "Stonewashed Linen"]),
    ]),
    _c("bath", "Bath", "Home", "Towels and mats that dry fast and stay soft.", [
        _t("Bath Towel", "towel", ONE, 28, 58, ["Turkish Cotton", "Waffle Cotton", "Organic Terry"]),
        _t("Hand Towel", "towel", ONE, 16, 32, ["Turkish Cotton", "Waffle Cotton", "Linen"]),
        _t("Bath Mat", "rug", ONE, 34, 64, ["Cotton Terry", "Teak", "Tufted Cotton"]),
    ]),
    _c("kitchen-textiles", "Kitchen Textiles", "Home", "Hard-working linens for the kitchen.", [
        _t("Tea Towel", "towel", ONE, 12, 24, ["Linen", "Waffle Cotton", "Cotton Twill"]),
        _t("Apron", "apron", ONE, 38, 68, ["Cotton Canvas", "Linen", "Denim"]),
        _t("Oven Mitt", "mitt", ONE, 18, 32, ["Quilted Cotton", "Linen"]),
    ]),
    _c("mugs", "Mugs & Cups", "Home", "Thrown and glazed by hand in our workshop.", [
        _t("Mug", "mug", ["8 oz", "12 oz", "16 oz"], 22, 42, ["Stoneware", "Speckled Stoneware", "Porcelain"]),
        _t("Espresso Cup", "cup", ONE, 16, 28, ["Porcelain", "Stoneware"]),
    ], supplier="workshop"),
    _c("tableware", "Tableware", "Home", "Plates and bowls for every day and every guest.", [
        _t("Dinner Plate", "plate", ONE, 24, 44, ["Stoneware", "Porcelain", "Speckled Stoneware"]),
        _t("Serving Bowl", "bowl", SML, 34, 78, ["Stoneware", "Porcelain", "Olive Wood"]),
        _t("Side Plate", "plate", ONE, 16, 30, ["Stoneware", "Porcelain"]),
    ], supplier="workshop"),
    _c("glassware", "Glassware", "Home", "Mouth-blown and recycled glass.", [
        _t("Tumbler", "glass", ["Set of 2", "Set of 4"], 24, 48, ["Recycled Glass", "Mouth-Blown Glass"]),
        _t("Wine Glass", "wineglass", ["Set of 2", "Set of 4"], 34, 68, ["Mouth-Blown Glass", "Crystal"]),
        _t("Carafe", "carafe", ONE, 34, 58, ["Recycled Glass", "Borosilicate Glass"]),
    ]),
    _c("candles", "Candles", "Home", "Slow-burning candles poured in small batches.", [
        _t("Scented Candle", "candle", SML, 24, 68, ["Soy Wax", "Coconut Wax", "Beeswax"]),
        _t("Taper Candles", "taper", ["Pair", "Set of 6"], 14, 32, ["Beeswax", "Soy Wax"]),
    ], supplier="workshop"),
    _c("cushions", "Cushions", "Home", "Covers and inserts to soften a room.", [
        _t("Cushion Cover", "cushion", ["18 in", "20 in", "22 in"], 34, 78, ["Linen", "Boucle", "Velvet", "Wool"]),
        _t("Lumbar Cushion", "lumbar", ONE, 44, 88, ["Linen", "Boucle", "Velvet"]),
    ]),
    _c("throws", "Throws", "Home", "Blankets for the sofa and the end of the bed.", [
        _t("Throw Blanket", "blanket", ONE, 78, 198, ["Merino Wool", "Alpaca Blend", "Cotton Waffle", "Recycled Wool"]),
        _t("Quilt", "blanket", BED, 148, 298, ["Cotton Voile", "Linen"]),
    ]),
    _c("rugs", "Rugs", "Home", "Flatweaves and tufted rugs, woven to order.", [
        _t("Flatweave Rug", "rug", RUG, 88, 598, ["Wool", "Jute", "Cotton"]),
        _t("Runner", "rug", ["2x6 ft", "2x8 ft", "2x10 ft"], 98, 298, ["Wool", "Jute"]),
    ], supplier="dropship"),
    _c("lighting", "Lighting", "Home", "Lamps with warm light and honest materials.", [
        _t("Table Lamp", "lamp", ONE, 98, 298, ["Ceramic", "Brass", "Oak"]),
        _t("Floor Lamp", "floorlamp", ONE, 198, 498, ["Brass", "Powder-Coated Steel", "Oak"]),
        _t("Pendant Light", "pendant", SML, 128, 348, ["Rattan", "Linen", "Opal Glass"]),
    ], supplier="dropship"),
    _c("planters", "Planters", "Home", "Pots and stands for indoor greenery.", [
        _t("Planter", "pot", SML, 24, 98, ["Terracotta", "Glazed Ceramic", "Concrete"]),
        _t("Hanging Planter", "hangingpot", ONE, 34, 68, ["Glazed Ceramic", "Macrame"]),
    ]),
    _c("storage", "Storage", "Home", "Baskets and boxes for what needs a home.", [
        _t("Storage Basket", "basket", SML, 34, 98, ["Seagrass", "Rattan", "Cotton Rope"]),
        _t("Storage Box", "box", SML, 28, 78, ["Oak", "Recycled Cardboard", "Felt"]),
    ]),
    _c("vases", "Vases", "Home", "Vessels for a single stem or a full bunch.", [
        _t("Vase", "vase", SML, 34, 128, ["Stoneware", "Recycled Glass", "Porcelain"]),
        _t("Bud Vase", "budvase", ["Single", "Set of 3"], 18, 48, ["Porcelain", "Recycled Glass"]),
    ], supplier="workshop"),
    _c("wall-art", "Wall Art", "Home", "Prints and frames for bare walls.", [
        _t("Art Print", "frame", ["A4", "A3", "A2"], 38, 148, ["Giclee Paper", "Cotton Rag Paper"]),
        _t("Wall Mirror", "mirror", SML, 98, 298, ["Oak", "Brass", "Rattan"]),
    ]),
    _c("cookware", "Cookware", "Home", "Pans and pots that outlive their owners.", [
        _t("Skillet", "skillet", ['8 in', '10 in', '12 in'], 48, 128, ["Cast Iron", "Carbon Steel"]),
        _t("Dutch Oven", "pot", ["3 qt", "5 qt", "7 qt"], 148, 348, ["Enamelled Cast Iron"]),
    ], supplier="dropship"),
    # Accessories
    _c("bags", "Bags", "Accessories", "Totes and carryalls made for daily use.", [
        _t("Tote Bag", "tote", ONE, 38, 148, ["Cotton Canvas", "Waxed Canvas", "Leather"]),
        _t("Crossbody Bag", "crossbody", ONE, 78, 198, ["Leather", "Recycled Nylon", "Waxed Canvas"]),
        _t("Weekender", "duffel", ONE, 148, 348, ["Waxed Canvas", "Leather", "Recycled Nylon"]),
    ]),
    _c("backpacks", "Backpacks", "Accessories", "Packs for commutes, trails and travel.", [
        _t("Backpack", "backpack", ONE, 98, 228, ["Waxed Canvas", "Recycled Nylon", "Cordura"]),
        _t("Daypack", "backpack", ONE, 68, 138, ["Recycled Nylon", "Ripstop"]),
    ]),
    _c("hats", "Hats", "Accessories", "Caps, beanies and brims.", [
        _t("Beanie", "beanie", ONE, 24, 48, ["Merino Wool", "Lambswool", "Cashmere Blend"]),
        _t("Baseball Cap", "cap", ONE, 28, 44, ["Cotton Twill", "Corduroy", "Waxed Cotton"]),
        _t("Bucket Hat", "buckethat", ["S/M", "L/XL"], 32, 58, ["Cotton Canvas", "Corduroy", "Linen"]),
    ]),
    _c("scarves", "Scarves", "Accessories", "Scarves and wraps for every season.", [
        _t("Scarf", "scarf", ONE, 38, 148, ["Merino Wool", "Cashmere Blend", "Lambswool", "Silk"]),
        _t("Bandana", "bandana", ONE, 14, 28, ["Cotton Voile", "Silk"]),
    ]),
    _c("gloves", "Gloves", "Accessories", "Warm hands, all winter.", [
        _t("Gloves", "glove", ["S", "M", "L"], 38, 98, ["Leather", "Merino Wool", "Suede"]),
        _t("Mittens", "mitten", ["S/M", "L/XL"], 32, 68, ["Lambswool", "Recycled Wool"]),
    ]),
    _c("belts", "Belts", "Accessories", "Belts cut from a single hide.", [
        _t("Belt", "belt", WAIST, 48, 98, ["Full-Grain Leather", "Suede", "Webbing"], ["Black", "Chocolate", "Camel", "Navy", "Olive"]),
    ]),
    _c("wallets", "Wallets", "Accessories", "Small leather goods that wear in, not out.", [
        _t("Wallet", "wallet", ONE, 48, 118, ["Full-Grain Leather", "Vegetable-Tanned Leather"]),
        _t("Card Holder", "cardholder", ONE, 28, 68, ["Full-Grain Leather", "Vegetable-Tanned Leather"]),
    ]),
    _c("eyewear", "Eyewear", "Accessories", "Sunglasses with polarised lenses.", [
        _t("Sunglasses", "sunglasses", ONE, 98, 198, ["Acetate", "Titanium"], NEUTRALS + ["Chocolate", "Camel", "Olive"]),
    ], supplier="dropship"),
    _c("umbrellas", "Umbrellas", "Accessories", "Umbrellas built for wind.", [
        _t("Umbrella", "umbrella", ["Compact", "Full Size"], 38, 98, ["Recycled Canopy", "Oak Handle"]),
    ]),
    _c("drinkware", "Drinkware", "Accessories", "Bottles and travel mugs to carry every day.", [
        _t("Water Bottle", "bottle", ["500 ml", "750 ml", "1 l"], 28, 48, ["Stainless Steel", "Recycled Glass"]),
        _t("Travel Mug", "travelmug", ["350 ml", "470 ml"], 26, 42, ["Stainless Steel", "Ceramic-Lined Steel"]),
    ]),
    # Stationery
    _c("notebooks", "Notebooks", "Stationery", "Paper that welcomes fountain pens.", [
        _t("Notebook", "notebook", ["A6", "A5", "A4"], 12, 38, ["Dot Grid", "Lined", "Plain"]),
        _t("Sketchbook", "notebook", ["A5", "A4"], 18, 44, ["Cotton Paper", "Recycled Paper"]),
    ]),
    _c("desk", "Desk", "Stationery", "Tools and trays for a tidy desk.", [
        _t("Pen Set", "pens", ONE, 18, 68, ["Brass", "Aluminium", "Recycled Plastic"]),
        _t("Desk Tray", "tray", SML, 28, 78, ["Oak", "Leather", "Powder-Coated Steel"]),
    ]),
]

# Editorial collections gather products from every department.
EDITORIAL = [
    ("new-arrivals", "New Arrivals", "Just landed: the newest additions to the shop.", 0.05),
    ("gift-guide", "Gift Guide", "Gifts chosen by our team, for everyone on your list.", 0.06),
    ("best-sellers", "Best Sellers", "What our customers come back for.", 0.04),
]

SUPPLIERS = {
    "warehouse": ("heron-warehouse", "Heron Fulfilment Centre", "simulated"),
    "dropship": ("northwind-dropship", "Northwind Dropship Partners", "dropship"),
    "workshop": ("saltmarsh-workshop", "Saltmarsh Workshop", "manual"),
}

VENDORS = [
    "Heron Basics", "Fieldhouse", "Marlow & Sons", "Coastline Goods", "Kettle & Loom",
    "Ember Home", "Northwind Outfitters", "Saltmarsh Workshop", "Juniper Supply", "Harbour Mill",
]

# The first word of a product name: a line of the shop, like a fabric mill's range names.
LINE_NAMES = [
    "Alder", "Ash", "Aspen", "Bay", "Beacon", "Birch", "Bramble", "Brook", "Calder", "Cedar", "Clover",
    "Cove", "Crest", "Dale", "Delta", "Dune", "Elm", "Ember", "Fern", "Field", "Fjord", "Flint",
    "Garnet", "Glen", "Granite", "Harbour", "Hazel", "Heath", "Holloway", "Indigo", "Iris", "Ivy",
    "Juniper", "Kestrel", "Larch", "Linden", "Loch", "Maple", "Marlow", "Meadow", "Mill", "Moor",
    "Moss", "Nettle", "North", "Oak", "Orchard", "Osprey", "Pebble", "Pine", "Quarry", "Quill",
    "Rowan", "Rye", "Saltmarsh", "Sable", "Shore", "Sorrel", "Spruce", "Stone", "Summit", "Tarn",
    "Thistle", "Tide", "Timber", "Vale", "Wren", "Willow", "Yarrow", "Harlow", "Kinsale", "Skye",
    "Tamar", "Avon", "Severn", "Wye", "Eden", "Tweed", "Ouse", "Arden", "Bodmin", "Exmoor", "Cheviot",
]

ADJECTIVES = [
    "relaxed", "hard-wearing", "soft", "clean-lined", "everyday", "lightweight", "generous",
    "understated", "well-made", "timeless", "easy", "sturdy",
]

PURPOSE = {
    "Apparel": ["cut for everyday wear", "made to be worn on repeat", "made to soften with every wash",
                "cut to wear on its own or layered"],
    "Home": ["made for daily use", "designed to last for years", "made to bring calm to a room",
             "made in small batches"],
    "Accessories": ["built for the everyday carry", "made to be used hard", "made to wear in beautifully",
                    "designed for daily use"],
    "Stationery": ["made for lists, sketches and long letters", "made for a well-ordered desk",
                   "made to be used up"],
}

# Care follows the material: the first row whose word appears in the material's name wins.
CARE_BY_MATERIAL = [
    (("stoneware", "porcelain", "glass", "crystal"), ["Dishwasher safe.", "Hand wash to keep the glaze bright.",
                                                       "Dishwasher and microwave safe."]),
    (("cast iron", "carbon steel"), ["Season after washing and dry straight away."]),
    (("leather", "suede", "shearling"), ["Condition the leather twice a year.", "Brush clean; keep away from rain."]),
    (("paper", "dot grid", "lined", "plain"), ["Acid-free and archival.", "Lies flat when open."]),
    (("wax",), ["Trim the wick before each burn.", "Burn for no more than four hours at a time."]),
    (("oak", "wood", "teak", "brass", "steel", "aluminium", "rattan", "seagrass", "jute", "ceramic",
      "terracotta", "concrete", "acetate", "titanium", "plastic", "cardboard", "macrame", "felt", "canopy"),
     ["Wipe clean with a soft, dry cloth.", "Wipe clean with a damp cloth."]),
    (("wool", "cashmere", "alpaca", "silk", "velvet", "boucle"), ["Hand wash cold or dry clean.",
                                                                  "Dry clean only.", "Hand wash and dry flat."]),
]
CARE_DEFAULT = ["Machine wash cold and line dry.", "Wash at 30 degrees with similar colours.",
                "Machine wash warm, tumble dry low."]

MATERIAL_NOTES = [
    "The {material} is chosen for its hand-feel and its long life.",
    "We source the {material} from mills and makers we have worked with for years.",
    "{Material} gives it a character that deepens with use.",
    "Finished by hand, the {material} has small variations that make each piece its own.",
]
