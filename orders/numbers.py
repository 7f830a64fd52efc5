"""Order numbers: `HC-` and ten characters of Crockford's base32, e.g. `HC-7K3M9Q2XTA`.

Pure standard library, so the checkout workflow can import it and draw a number deterministically:
`new_order_number(workflow.random().getrandbits(ORDER_NUMBER_BITS))`. The ten characters carry the
caller's 50 random bits exactly, so numbers are unique in practice (the `orders_by_number` table
guards the rare collision) and say nothing about how many orders came before or after. They are
not a secret: the order page is guarded by the session that placed the order or a signed token.

Crockford's alphabet leaves out I, L, O and U, so a number read aloud or copied by hand survives;
`normalize_order_number` reads the usual slips back (lower case, I/L for 1, O for 0, spaces).
"""

from __future__ import annotations

import re

PREFIX = "HC-"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ORDER_NUMBER_LENGTH = 10
ORDER_NUMBER_BITS = 5 * ORDER_NUMBER_LENGTH  # 50
ORDER_NUMBER_PATTERN = re.compile(rf"{re.escape(PREFIX)}[{ALPHABET}]{{{ORDER_NUMBER_LENGTH}}}")
MAX_INPUT_LENGTH = 40
# What a person may have typed instead (Crockford: I and L read as 1, O as 0).
_SLIPS = str.maketrans({"I": "1", "L": "1", "O": "0"})


def new_order_number(random_bits: int) -> str:
    """The order number carrying `random_bits` (0 <= random_bits < 2**50), e.g. `HC-7K3M9Q2XTA`."""
    if isinstance(random_bits, bool) or not isinstance(random_bits, int):
        raise TypeError("random_bits must be an int")
    if not 0 <= random_bits < 1 << ORDER_NUMBER_BITS:
        raise ValueError(f"random_bits must be in [0, 2**{ORDER_NUMBER_BITS})")
    characters = []
    for _ in range(ORDER_NUMBER_LENGTH):
        random_bits, digit = divmod(random_bits, 32)
        characters.append(ALPHABET[digit])
    return PREFIX + "".join(reversed(characters))


def is_order_number(text: object) -> bool:
    """Whether `text` is an order number exactly as the shop writes it."""
    return isinstance(text, str) and ORDER_NUMBER_PATTERN.fullmatch(text) is not None


def order_number_value(number: str) -> int:
    """The 50 bits an order number carries (its inverse); ValueError for anything else."""
    if not is_order_number(number):
        raise ValueError("not an order number")
    value = 0
    for character in number[len(PREFIX):]:
        value = value * 32 + ALPHABET.index(character)
    return value


def normalize_order_number(text: str) -> str | None:
    """The order number a person meant (`hc-7k3m 9q2x-ta`, `HC-7K3M9Q2XTA`), or None."""
    if not isinstance(text, str) or len(text) > MAX_INPUT_LENGTH:
        return None
    compact = re.sub(r"[\s-]", "", text.upper())
    if not compact.startswith("HC"):
        return None
    number = PREFIX + compact[2:].translate(_SLIPS)
    return number if is_order_number(number) else None
