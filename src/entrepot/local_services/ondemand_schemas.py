"""API shapes of on-demand delivery: stores, couriers and their pings, orders with their promise, trips,
proofs of delivery. Places are an address of the city's map or a point on it (one of the two)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from entrepot.local_services.city_schemas import PointIn
from entrepot.local_services.city_terms import ATTRIBUTION
from entrepot.local_services.roads import Mode
from entrepot.platform.schemas import Code, Moment, PublicId, Request, Text, printable

# A time of day: the pattern inside the type, so that the document states it in the string's own schema
# (an optional field's too) in place of Text's printable one (ASCII digits hold no control character).
HHMM_PATTERN = r"^[0-9]{2}:[0-9]{2}$"


class _StatesHourMinute:
    """The document states HH:MM's pattern, not Text's printable one (a field states one pattern)."""

    @classmethod
    def __get_pydantic_json_schema__(cls, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema: dict[str, Any] = handler(core)
        schema["pattern"] = HHMM_PATTERN
        return schema


HourMinute = Annotated[
    str,
    AfterValidator(printable),
    StringConstraints(pattern=HHMM_PATTERN, min_length=5, max_length=5),
    _StatesHourMinute,
    Field(description="HH:MM in the market's time zone"),
]


class PlaceIn(Request):
    address: Text | None = Field(default=None, max_length=200, description="a street address of the map")
    point: PointIn | None = Field(default=None, description="or a point on the map")


class StoreIn(Request):
    name: Text = Field(min_length=1, max_length=200)
    kind: Literal["restaurant", "grocery"]
    market: Code = Field(description="the market whose currency and time zone the store uses")
    place: PlaceIn
    opens: HourMinute
    closes: HourMinute
    prep_minutes: int = Field(ge=1, le=240, description="average minutes from order to ready")
    seller: PublicId | None = Field(default=None, description="operators: the seller it belongs to")


class StorePatch(Request):
    name: Text | None = Field(default=None, min_length=1, max_length=200)
    opens: HourMinute | None = None
    closes: HourMinute | None = None
    prep_minutes: int | None = Field(default=None, ge=1, le=240)


class StoreOut(BaseModel):
    id: str
    name: str
    kind: str
    market: str
    currency: str
    time_zone: str
    address: str
    lat: float
    lon: float
    opens: str
    closes: str
    prep_minutes: int
    attribution: str = ATTRIBUTION


class CourierIn(Request):
    name: Text = Field(min_length=1, max_length=200)
    mode: Mode = Field(description="ebike, scooter, car or walking (its bag holds less: see CAPACITY)")
    key: PublicId = Field(description="the carrier API key the courier acts with (its id)")
    shift_starts_at: Moment
    shift_ends_at: Moment


class PingIn(Request):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)


class CourierOut(BaseModel):
    id: str
    name: str
    mode: str
    capacity: int
    shift_starts_at: dt.datetime
    shift_ends_at: dt.datetime
    lat: float | None
    lon: float | None
    position_at: dt.datetime | None


MAX_PRICE_MINOR = 10**15  # the schema's bound; a currency's own ceiling (kernel.money) is checked after


class MenuItemIn(Request):
    name: Text = Field(min_length=1, max_length=200, description="unique among the store's items")
    price_minor: int = Field(
        ge=1, le=MAX_PRICE_MINOR, description="minor units of the store's currency (no zero price)"
    )
    description: Text | None = Field(default=None, max_length=500)
    available: bool = Field(default=True, description="on sale now (false: sold out for the time being)")
    position: int | None = Field(
        default=None, ge=0, le=1_000_000, description="the menu's order, lowest first; default after the last"
    )


class MenuItemPatch(Request):
    name: Text | None = Field(default=None, min_length=1, max_length=200)
    price_minor: int | None = Field(default=None, ge=1, le=MAX_PRICE_MINOR)
    description: Text | None = Field(default=None, max_length=500, description="an empty one clears it")
    available: bool | None = None
    position: int | None = Field(default=None, ge=0, le=1_000_000)


class MenuItemOut(BaseModel):
    id: str
    name: str
    price_minor: int
    currency: str
    description: str | None
    available: bool
    position: int
    archived: bool = Field(description="taken off the menu: no longer listed or ordered")
    updated_at: dt.datetime


class MenuOut(BaseModel):
    store: str
    currency: str
    items: list[MenuItemOut] = Field(
        description="in the menu's order: what is on sale, or every item for the store's seller and operators"
    )


class LineIn(Request):
    item: PublicId = Field(description="a menu item of the store (GET /local/stores/{ref}/menu)")
    quantity: int = Field(ge=1, le=100)


class OrderIn(Request):
    store: PublicId
    items: list[LineIn] = Field(
        min_length=1, max_length=50, description="priced from the store's menu when the order is placed"
    )
    drop_off: PlaceIn


class ItemOut(BaseModel):
    item: str | None = Field(default=None, description="the menu item (null: placed before stores had menus)")
    name: str = Field(description="the item's name when the order was placed")
    quantity: int
    unit_price_minor: int = Field(description="the menu's price when the order was placed")


class OrderOut(BaseModel):
    id: str
    store: str
    state: Literal["placed", "assigned", "picked_up", "delivered", "cancelled"]
    items: list[ItemOut]
    total_minor: int = Field(description="the goods: the items' prices, minor units of `currency`")
    delivery_fee_minor: int = Field(description="quoted at placement: a base plus a part per km of the route")
    payable_minor: int = Field(description="what the buyer pays: the goods plus the delivery fee")
    currency: str
    address: str
    lat: float
    lon: float
    placed_at: dt.datetime
    ready_at: dt.datetime
    eta_at: dt.datetime = Field(description="when it is expected now")
    eta_spread_s: int = Field(description="one standard deviation of the ETA, seconds")
    promised_at: dt.datetime = Field(description="quoted at placement: 19 orders in 20 arrive by then")
    trip: str | None
    picked_up_at: dt.datetime | None
    delivered_at: dt.datetime | None
    cancelled_at: dt.datetime | None


class CancelIn(Request):
    reason: Text | None = Field(default=None, max_length=300)


class ProofIn(Request):
    kind: Literal["code", "photo", "signature"]
    reference: Text = Field(min_length=1, max_length=300, description="the code read out, or the file's id")
    point: PointIn | None = None


class StopOut(BaseModel):
    kind: str
    orders: list[str]
    lat: float
    lon: float
    at: dt.datetime = Field(description="planned start of the stop's work")


class TripOut(BaseModel):
    id: str
    courier: str
    state: str
    stops: list[StopOut]
    offered_at: dt.datetime
    eta_first_at: dt.datetime
    free_at: dt.datetime
    accepted_at: dt.datetime | None
    attribution: str = ATTRIBUTION


class RoundOut(BaseModel):
    trips_offered: int
    orders_assigned: int
    released: int
    waiting: int
