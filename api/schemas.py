"""The API's request and response bodies (pydantic through ninja): what the OpenAPI schema shows."""

from __future__ import annotations

from typing import Annotated

from ninja import Schema
from pydantic import Field, StringConstraints

from commerce.money import MAX_CENTS
from orders.contracts import MAX_NOTE_LENGTH, MAX_REASON_LENGTH
from orders.staff import MAX_ACTION_ID_LENGTH, MAX_SKU_LENGTH, MAX_SKUS, MAX_VERSION

ActionId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ACTION_ID_LENGTH,
                                            pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]


class ErrorOut(Schema):
    detail: str = Field(description="What went wrong, in words.")


class FieldError(Schema):
    field: str
    message: str


class ValidationErrorOut(ErrorOut):
    errors: list[FieldError] = Field(default_factory=list, description="Every invalid field.")


# -- catalog ---------------------------------------------------------------------------------------

class ProductCardOut(Schema):
    slug: str
    name: str
    product_type: str
    price_min_cents: int
    price_max_cents: int
    in_stock: bool
    sku: str = Field(description="The variant a listing shows first.")
    colours: list[str]
    image_url: str


class ProductListOut(Schema):
    items: list[ProductCardOut]
    page: int
    page_size: int
    total: int
    pages: int


class VariantOut(Schema):
    sku: str
    colour: str
    size: str
    price_cents: int
    available: int = Field(description="Units that can be bought now.")


class ProductOut(Schema):
    slug: str
    name: str
    description: str
    product_type: str
    vendor: str
    collections: list[str]
    tags: list[str]
    image_url: str
    variants: list[VariantOut]


# -- orders ----------------------------------------------------------------------------------------

class OrderSummaryOut(Schema):
    order_number: str
    status: str
    email: str
    placed_at: str
    total_cents: int
    item_count: int


class OrderListOut(Schema):
    items: list[OrderSummaryOut]
    page: int
    page_size: int
    total: int
    pages: int


class AddressOut(Schema):
    full_name: str
    line1: str
    line2: str
    city: str
    state: str
    postal_code: str
    country: str


class LineOut(Schema):
    sku: str
    product_slug: str
    name: str
    colour: str
    size: str
    unit_price_cents: int
    quantity: int


class TotalsOut(Schema):
    subtotal_cents: int
    discount_cents: int
    shipping_cents: int
    tax_cents: int
    total_cents: int


class TransitionOut(Schema):
    at: str
    from_status: str
    to_status: str
    actor: str
    reason: str


class ShipmentOut(Schema):
    supplier_order_id: str
    stage: str
    tracking_number: str
    carrier: str
    updated_at: str


class OrderOut(Schema):
    order_number: str
    status: str
    email: str
    placed_at: str
    shipping_address: AddressOut
    shipping_method: str
    lines: list[LineOut]
    totals: TotalsOut
    card_brand: str
    card_last4: str
    status_history: list[TransitionOut]
    shipments: list[ShipmentOut]


class ActionOut(Schema):
    action: str
    applied: bool = Field(description="True when this action was applied; a request repeated with the same "
                                      "idempotency key answers the first result again, or False.")
    status: str = Field(description="The order's status after it.")
    message: str


class ActionIn(Schema):
    action_id: ActionId | None = Field(None, description="Idempotency key (or the Idempotency-Key header).")
    expected_version: int = Field(0, ge=0, le=MAX_VERSION,
                                  description="Refuse (409) if the order changed since this version; 0: no check.")


class CancelIn(ActionIn):
    reason: str = Field(min_length=1, max_length=MAX_REASON_LENGTH)


class RefundIn(ActionIn):
    reason: str = Field(min_length=1, max_length=MAX_REASON_LENGTH)
    amount_cents: int = Field(0, ge=0, le=MAX_CENTS, description="An amount, or 0 to refund `skus`.")
    skus: list[Annotated[str, StringConstraints(min_length=1, max_length=MAX_SKU_LENGTH)]] = Field(
        default_factory=list, max_length=MAX_SKUS, description="Whole lines to refund (not with an amount).")


class NoteIn(Schema):
    action_id: ActionId | None = Field(None, description="Idempotency key (or the Idempotency-Key header).")
    text: str = Field(min_length=1, max_length=MAX_NOTE_LENGTH)
