"""API shapes of the catalog."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field
from pydantic.config import JsonDict

from entrepot.catalog.domain import MAX_SIDE_MM, MAX_WEIGHT_G
from entrepot.platform.schemas import (
    COUNTRY_CODES,
    CURRENCY_CODE,
    FRACTION_TEXT,
    NOT_BLANK_PATTERN,
    Code,
    PublicId,
    Request,
    Text,
    decimal_text,
)


class SellerIn(Request):
    name: Text = Field(min_length=1, max_length=200)
    country: Text = Field(min_length=2, max_length=2, json_schema_extra=COUNTRY_CODES)
    marketplaces: list[Code] = Field(
        min_length=1, max_length=100, description="business unit codes, e.g. ['lazada']"
    )


class SellerOut(BaseModel):
    id: str
    name: str
    country: str
    marketplaces: list[str]


# What catalog.domain checks of a product and its SKUs, as the document states it.
REF_PATTERN: JsonDict = {"pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"}
HS_CODE_PATTERN: JsonDict = {"pattern": "^[0-9]{6}([0-9]{2}([0-9]{2})?)?$"}
WEIGHT: JsonDict = {"minimum": 1, "maximum": MAX_WEIGHT_G}
SIDE: JsonDict = {"minimum": 1, "maximum": MAX_SIDE_MM}


class SkuIn(Request):
    code: Code = Field(json_schema_extra=REF_PATTERN)
    weight_g: int = Field(strict=True, json_schema_extra=WEIGHT)
    length_mm: int = Field(strict=True, json_schema_extra=SIDE)
    width_mm: int = Field(strict=True, json_schema_extra=SIDE)
    height_mm: int = Field(strict=True, json_schema_extra=SIDE)


class ProductIn(Request):
    seller: PublicId | None = Field(default=None, description="operators only: the seller to create it for")
    ref: Code = Field(json_schema_extra=REF_PATTERN)
    title: Text = Field(max_length=300, json_schema_extra=NOT_BLANK_PATTERN)
    category: Code = Field(json_schema_extra=REF_PATTERN)
    hs_code: Text = Field(max_length=10, examples=["851762"], json_schema_extra=HS_CODE_PATTERN)
    origin_country: Text = Field(min_length=2, max_length=2, json_schema_extra=COUNTRY_CODES)
    skus: list[SkuIn] = Field(min_length=1, max_length=500)


class SkuOut(BaseModel):
    id: str
    code: str
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int


class ProductOut(BaseModel):
    id: str
    seller: str
    ref: str
    title: str
    category: str
    hs_code: str
    origin_country: str
    skus: list[SkuOut]


class PriceIn(Request):
    amount_minor: int = Field(strict=True, gt=0)
    currency: Text = Field(min_length=3, max_length=3, json_schema_extra=CURRENCY_CODE)


class PriceOut(BaseModel):
    sku: str
    market: str
    amount_minor: int
    currency: str


class CommissionIn(Request):
    business_unit: Code
    category: Code = Field(description="a category code, or '*' for the marketplace default")
    rate: Decimal = Field(ge=0, lt=1, json_schema_extra=decimal_text(FRACTION_TEXT))


class ImportErrorOut(BaseModel):
    line: int
    errors: list[dict[str, str]]


class ImportReportOut(BaseModel):
    imported: bool
    rows: int
    rows_imported: int
    products_created: int
    skus_created: int
    prices_set: int
    stock_set: int = Field(description="rows whose stock and warehouse columns set the units on hand")
    errors: list[ImportErrorOut]


class ListedSku(BaseModel):
    id: str
    code: str
    title: str
    category: str
    seller: str
    price_minor: int
    currency: str
    available: int
