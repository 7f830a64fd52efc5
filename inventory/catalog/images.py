"""Product pictures drawn by the shop itself: one SVG outline per kind of product, filled with
the variant's colour. No external URLs; a picture is a pure function of (shape, colour), so it is
served with a far-future cache header.
"""

from __future__ import annotations

import re

# Outlines on a 200x200 canvas. {f} is the fill, {s} a darker stroke of the same colour.
_DRAWINGS: dict[str, str] = {
    "tshirt": '<path d="M70 40 L50 48 L22 78 L42 100 L58 86 L58 168 L142 168 L142 86 L158 100 L178 78 L150 48 L130 40 Q100 62 70 40Z"/>',
    "longsleeve": '<path d="M70 40 L52 48 L30 120 L48 126 L60 90 L60 168 L140 168 L140 90 L152 126 L170 120 L148 48 L130 40 Q100 62 70 40Z"/>',
    "shirt": '<path d="M72 38 L50 46 L28 122 L46 128 L60 92 L60 170 L140 170 L140 92 L154 128 L172 122 L150 46 L128 38 L100 58Z"/>'
             '<path d="M100 58 L100 170 M72 38 L86 62 L100 58 L114 62 L128 38" fill="none"/>'
             '<circle cx="108" cy="80" r="2.5"/><circle cx="108" cy="105" r="2.5"/><circle cx="108" cy="130" r="2.5"/>',
    "sweater": '<path d="M70 38 L48 48 L30 128 L48 134 L60 94 L60 160 Q100 172 140 160 L140 94 L152 134 L170 128 L152 48 L130 38 Q100 56 70 38Z"/>'
               '<path d="M60 150 Q100 162 140 150 M74 40 Q100 60 126 40" fill="none"/>',
    "hoodie": '<path d="M72 48 Q74 18 100 18 Q126 18 128 48 L150 54 L170 130 L152 136 L140 96 L140 166 L60 166 L60 96 L48 136 L30 130 L50 54Z"/>'
              '<path d="M80 48 Q100 70 120 48 M80 120 L120 120 L124 146 L76 146Z M94 66 L92 96 M106 66 L108 96" fill="none"/>',
    "jacket": '<path d="M72 36 L48 46 L28 128 L48 134 L60 96 L60 170 L140 170 L140 96 L152 134 L172 128 L152 46 L128 36 L100 70Z"/>'
              '<path d="M100 70 L100 170 M68 120 L88 120 M112 120 L132 120" fill="none"/>',
    "vest": '<path d="M74 34 L56 44 Q66 80 58 100 L58 170 L142 170 L142 100 Q134 80 144 44 L126 34 L100 72Z"/>'
            '<path d="M100 72 L100 170 M58 100 L142 100 M58 130 L142 130" fill="none"/>',
    "coat": '<path d="M72 30 L48 40 L30 134 L48 140 L58 100 L54 182 L146 182 L142 100 L152 140 L170 134 L152 40 L128 30 L100 70Z"/>'
            '<path d="M100 70 L100 182" fill="none"/><circle cx="90" cy="100" r="3"/><circle cx="90" cy="130" r="3"/>',
    "dress": '<path d="M80 26 L80 50 Q70 70 78 92 L46 178 L154 178 L122 92 Q130 70 120 50 L120 26 L110 26 Q100 44 90 26Z"/>'
             '<path d="M76 92 Q100 100 124 92" fill="none"/>',
    "robe": '<path d="M74 30 L46 42 L26 112 L44 118 L60 84 L56 180 L144 180 L140 84 L156 118 L174 112 L154 42 L126 30 L100 90Z"/>'
            '<path d="M60 112 L140 112 M100 90 L84 180" fill="none"/>',
    "swimsuit": '<path d="M74 26 L74 60 Q64 90 74 120 Q84 150 100 170 Q116 150 126 120 Q136 90 126 60 L126 26 L116 26 Q100 70 84 26Z"/>',
    "trousers": '<path d="M62 26 L138 26 L150 178 L110 178 L100 70 L90 178 L50 178Z"/><path d="M62 40 L138 40" fill="none"/>',
    "shorts": '<path d="M56 50 L144 50 L156 140 L110 146 L100 94 L90 146 L44 140Z"/><path d="M56 64 L144 64" fill="none"/>',
    "leggings": '<path d="M70 24 L130 24 L134 178 L108 178 L100 74 L92 178 L66 178Z"/>',
    "dungarees": '<path d="M70 20 L80 20 L80 60 L120 60 L120 20 L130 20 L130 80 L142 80 L150 178 L112 178 L100 110 L88 178 L50 178 L58 80 L70 80Z"/>'
                 '<path d="M86 78 L114 78 L114 98 L86 98Z" fill="none"/>',
    "pajamas": '<path d="M72 26 L50 34 L32 90 L48 96 L60 70 L60 116 L140 116 L140 70 L152 96 L168 90 L150 34 L128 26 L100 44Z"/>'
               '<path d="M64 124 L136 124 L144 182 L108 182 L100 140 L92 182 L56 182Z"/>',
    "sock": '<path d="M78 20 L122 20 L122 118 Q122 138 142 150 Q164 162 154 180 Q146 190 124 182 L88 160 Q76 150 78 130Z"/>'
            '<path d="M78 36 L122 36" fill="none"/>',
    "shoe": '<path d="M22 130 Q24 100 44 96 L84 90 Q104 70 124 96 L166 112 Q182 118 180 136 L180 146 L22 146Z"/>'
            '<path d="M22 134 L180 134 M88 94 L96 110 M100 90 L108 108" fill="none"/>',
    "boot": '<path d="M60 30 L110 30 L112 110 L160 124 Q178 130 178 148 L178 160 L50 160 L52 120 Q58 80 60 30Z"/>'
            '<path d="M50 148 L178 148" fill="none"/>',
    "blanket": '<path d="M36 50 L164 50 L164 150 L36 150Z"/><path d="M36 150 Q100 176 164 150 L164 164 Q100 190 36 164Z"/>'
               '<path d="M52 50 L52 150 M148 50 L148 150" fill="none"/>',
    "duvet": '<path d="M28 60 L172 60 L172 160 L28 160Z"/><path d="M48 44 L152 44 L160 60 L40 60Z"/>'
             '<path d="M28 96 L172 96" fill="none"/>',
    "cushion": '<path d="M40 44 Q100 56 160 44 Q148 100 160 156 Q100 144 40 156 Q52 100 40 44Z"/>',
    "lumbar": '<path d="M22 70 Q100 80 178 70 Q170 100 178 130 Q100 120 22 130 Q30 100 22 70Z"/>',
    "pillow": '<path d="M30 60 Q100 70 170 60 Q162 100 170 140 Q100 130 30 140 Q38 100 30 60Z"/><path d="M46 72 Q100 80 154 72" fill="none"/>',
    "towel": '<path d="M50 30 L150 30 L150 170 L50 170Z"/><path d="M50 140 L150 140 M50 150 L150 150 M60 30 L60 170" fill="none"/>',
    "rug": '<path d="M30 50 L170 50 L170 150 L30 150Z"/><path d="M46 66 L154 66 L154 134 L46 134Z M30 50 L22 46 M30 150 L22 154 M170 50 L178 46 M170 150 L178 154" fill="none"/>',
    "apron": '<path d="M76 24 L124 24 L124 70 L160 70 L150 180 L50 180 L40 70 L76 70Z"/><path d="M76 24 Q60 10 100 10 Q140 10 124 24 M70 110 L130 110 L130 140 L70 140Z" fill="none"/>',
    "glove": '<path d="M60 180 L60 100 L48 70 Q44 60 54 58 Q62 58 66 70 L72 84 L72 36 Q72 26 80 26 Q88 26 88 36 L90 80 L92 26 Q92 18 100 18 Q108 18 108 26 L108 80 L112 32 Q114 24 122 26 Q128 28 126 38 L124 86 L130 48 Q132 40 140 42 Q146 44 144 54 L140 120 L140 180Z"/>',
    "mitten": '<path d="M62 180 L62 96 L46 74 Q40 62 52 58 Q62 56 70 72 L74 78 L74 56 Q74 24 106 24 Q138 24 138 60 L138 180Z"/><path d="M62 154 L138 154" fill="none"/>',
    "mitt": '<path d="M62 178 L62 96 L46 74 Q40 62 52 58 Q62 56 70 72 L74 78 L74 56 Q74 24 106 24 Q138 24 138 60 L138 178Z"/>',
    "mug": '<path d="M52 56 L132 56 L128 156 Q126 168 114 168 L70 168 Q58 168 56 156Z"/><path d="M130 80 Q162 80 160 110 Q158 138 128 136" fill="none" stroke-width="10"/>',
    "cup": '<path d="M56 90 L136 90 L130 142 Q126 156 112 156 L80 156 Q66 156 62 142Z"/><path d="M134 100 Q156 100 154 118 Q152 134 130 132 M40 160 L152 160" fill="none" stroke-width="6"/>',
    "plate": '<circle cx="100" cy="100" r="74"/><circle cx="100" cy="100" r="48" fill="none"/>',
    "bowl": '<path d="M28 84 L172 84 Q168 150 100 160 Q32 150 28 84Z"/><path d="M78 160 L122 160 L118 172 L82 172Z"/>',
    "glass": '<path d="M62 40 L138 40 L128 166 L72 166Z"/><path d="M66 80 L134 80" fill="none"/>',
    "wineglass": '<path d="M70 24 L130 24 Q136 90 100 104 Q64 90 70 24Z"/><path d="M100 104 L100 164 M70 172 L130 172" fill="none" stroke-width="6"/>',
    "carafe": '<path d="M86 24 L114 24 L114 64 Q154 90 150 140 Q146 174 100 174 Q54 174 50 140 Q46 90 86 64Z"/>',
    "bottle": '<path d="M84 16 L116 16 L116 38 L126 52 Q132 60 132 72 L132 172 Q132 180 124 180 L76 180 Q68 180 68 172 L68 72 Q68 60 74 52 L84 38Z"/><path d="M68 90 L132 90 M68 150 L132 150" fill="none"/>',
    "travelmug": '<path d="M66 34 L134 34 L134 50 L128 50 L122 176 L78 176 L72 50 L66 50Z"/><path d="M76 90 L124 90 M76 130 L124 130" fill="none"/>',
    "candle": '<path d="M56 70 L144 70 L144 168 L56 168Z"/><path d="M100 70 L100 54" fill="none"/><path d="M100 52 Q92 40 100 24 Q108 40 100 52Z" fill="#f4b942"/>',
    "taper": '<path d="M70 60 L86 60 L86 180 L70 180Z M114 60 L130 60 L130 180 L114 180Z"/><path d="M78 56 Q72 46 78 34 Q84 46 78 56Z M122 56 Q116 46 122 34 Q128 46 122 56Z" fill="#f4b942"/>',
    "lamp": '<path d="M60 30 L140 30 L160 96 L40 96Z"/><path d="M100 96 L100 160 M62 172 Q100 150 138 172Z" fill="none" stroke-width="8"/>',
    "floorlamp": '<path d="M70 18 L130 18 L146 68 L54 68Z"/><path d="M100 68 L100 176 M70 182 L130 182" fill="none" stroke-width="8"/>',
    "pendant": '<path d="M100 10 L100 60" fill="none" stroke-width="4"/><path d="M100 60 Q40 66 30 140 L170 140 Q160 66 100 60Z"/>',
    "pot": '<path d="M40 60 L160 60 L160 80 L148 80 L136 170 L64 170 L52 80 L40 80Z"/><path d="M88 60 Q80 30 100 20 Q108 40 100 60 M112 60 Q130 26 150 30 Q140 50 112 60" fill="#5b8a4a"/>',
    "hangingpot": '<path d="M100 10 L56 90 M100 10 L144 90" fill="none" stroke-width="3"/><path d="M50 90 L150 90 L138 170 L62 170Z"/>',
    "basket": '<path d="M30 78 L170 78 L156 170 L44 170Z"/><path d="M38 104 L162 104 M42 132 L158 132 M70 78 L74 170 M100 78 L100 170 M130 78 L126 170 M60 78 Q100 20 140 78" fill="none"/>',
    "box": '<path d="M34 70 L166 70 L166 160 L34 160Z"/><path d="M26 54 L174 54 L174 70 L26 70Z M86 100 L114 100" fill="none"/>',
    "vase": '<path d="M80 20 L120 20 L116 46 Q160 80 150 130 Q140 180 100 180 Q60 180 50 130 Q40 80 84 46Z"/>',
    "budvase": '<path d="M94 24 L106 24 L106 80 Q136 100 132 140 Q128 176 100 176 Q72 176 68 140 Q64 100 94 80Z"/>',
    "frame": '<path d="M40 26 L160 26 L160 174 L40 174Z"/><path d="M56 42 L144 42 L144 158 L56 158Z" fill="#f8f5ee"/><path d="M64 140 L92 96 L110 122 L122 108 L138 140Z"/>',
    "mirror": '<circle cx="100" cy="100" r="76"/><circle cx="100" cy="100" r="58" fill="#e7eef1"/><path d="M70 80 L88 62 M78 96 L108 66" fill="none" stroke="#ffffff"/>',
    "skillet": '<circle cx="78" cy="110" r="56"/><circle cx="78" cy="110" r="42" fill="none"/><path d="M130 96 L188 70 L192 80 L134 110Z"/>',
    "tote": '<path d="M36 70 L164 70 L154 180 L46 180Z"/><path d="M68 70 Q68 20 100 20 Q132 20 132 70" fill="none" stroke-width="8"/>',
    "crossbody": '<path d="M20 20 L90 100 M180 20 L130 100" fill="none" stroke-width="5"/><path d="M46 96 L154 96 Q164 96 164 108 L164 164 Q164 176 152 176 L48 176 Q36 176 36 164 L36 108 Q36 96 46 96Z"/><path d="M36 120 L164 120" fill="none"/>',
    "duffel": '<path d="M24 96 Q24 70 56 70 L144 70 Q176 70 176 96 L176 160 L24 160Z"/><path d="M64 70 Q64 36 100 36 Q136 36 136 70 M24 110 L176 110" fill="none" stroke-width="6"/>',
    "backpack": '<path d="M52 50 Q52 26 100 26 Q148 26 148 50 L152 176 L48 176Z"/><path d="M84 26 Q84 10 100 10 Q116 10 116 26 M62 110 L138 110 L138 160 L62 160Z" fill="none" stroke-width="5"/>',
    "beanie": '<path d="M40 130 Q40 44 100 44 Q160 44 160 130Z"/><path d="M34 126 L166 126 L166 156 L34 156Z"/><circle cx="100" cy="34" r="16"/>',
    "cap": '<path d="M40 120 Q40 50 100 50 Q156 50 160 116Z"/><path d="M96 118 L188 124 Q180 140 150 138 L96 132Z"/><circle cx="100" cy="48" r="5"/>',
    "buckethat": '<path d="M62 110 L72 50 Q100 36 128 50 L138 110Z"/><path d="M24 126 Q100 96 176 126 Q100 146 24 126Z"/>',
    "scarf": '<path d="M60 20 L140 20 L140 60 L118 60 L118 170 L86 170 L86 60 L60 60Z"/><path d="M86 170 L86 186 M96 170 L96 186 M108 170 L108 186 M118 170 L118 186" fill="none"/>',
    "bandana": '<path d="M20 50 L180 50 L100 170Z"/><path d="M40 62 L160 62" fill="none"/>',
    "belt": '<path d="M12 84 L188 84 L188 116 L12 116Z"/><path d="M120 76 L156 76 L156 124 L120 124Z" fill="none" stroke-width="6"/><path d="M34 100 L44 100 M60 100 L70 100" fill="none"/>',
    "wallet": '<path d="M30 60 L170 60 L170 150 L30 150Z"/><path d="M110 86 L176 86 L176 124 L110 124Z"/><circle cx="126" cy="105" r="5" fill="#ffffff"/>',
    "cardholder": '<path d="M44 70 L156 70 L156 140 L44 140Z"/><path d="M44 92 L156 92 M44 112 L156 112" fill="none"/>',
    "sunglasses": '<path d="M20 84 L180 84" fill="none" stroke-width="6"/><path d="M26 84 L92 84 L88 120 Q60 138 32 120Z M108 84 L174 84 L168 120 Q140 138 112 120Z"/>',
    "umbrella": '<path d="M20 100 Q24 30 100 30 Q176 30 180 100 Q160 88 140 100 Q120 88 100 100 Q80 88 60 100 Q40 88 20 100Z"/><path d="M100 100 L100 166 Q100 180 88 180 Q76 180 76 168" fill="none" stroke-width="6"/>',
    "notebook": '<path d="M50 24 L160 24 L160 176 L50 176Z"/><path d="M64 24 L64 176 M140 24 L140 176" fill="none"/><path d="M36 44 L58 44 M36 74 L58 74 M36 104 L58 104 M36 134 L58 134 M36 164 L58 164" fill="none" stroke-width="5"/>',
    "pens": '<path d="M58 30 L72 30 L72 150 L65 172 L58 150Z M92 30 L106 30 L106 150 L99 172 L92 150Z M126 30 L140 30 L140 150 L133 172 L126 150Z"/>',
    "tray": '<path d="M22 90 L178 90 L168 140 L32 140Z"/><path d="M32 104 L168 104" fill="none"/>',
}

SHAPES = frozenset(_DRAWINGS)
_HEX = re.compile(r"[0-9a-fA-F]{6}")


def _darker(hex_colour: str, factor: float = 0.62) -> str:
    red, green, blue = (int(hex_colour[i:i + 2], 16) for i in (0, 2, 4))
    return f"#{int(red * factor):02x}{int(green * factor):02x}{int(blue * factor):02x}"


def is_valid(shape: str, hex_colour: str) -> bool:
    # fullmatch: with match, "$" also matches before a trailing newline.
    return shape in SHAPES and bool(_HEX.fullmatch(hex_colour))


def render(shape: str, hex_colour: str) -> str:
    """The SVG picture of a `shape` in the colour `hex_colour` (six hex digits, no '#')."""
    if not is_valid(shape, hex_colour):
        raise ValueError(f"no picture for shape {shape!r} in colour {hex_colour!r}")
    fill = f"#{hex_colour.lower()}"
    stroke = _darker(hex_colour)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200" role="img">'
        '<rect width="200" height="200" fill="#f3f1ec"/>'
        f'<g fill="{fill}" stroke="{stroke}" stroke-width="3" stroke-linejoin="round" stroke-linecap="round">'
        f"{_DRAWINGS[shape]}</g></svg>"
    )


def url(shape: str, hex_colour: str) -> str:
    return f"/images/{shape}/{hex_colour.lstrip('#').lower()}.svg"
