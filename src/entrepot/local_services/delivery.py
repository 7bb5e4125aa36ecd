"""On-demand delivery's rules as the service applies them to stored orders: pure (no I/O, every time
passed in).

An order's states: placed -> assigned -> picked_up -> delivered, or cancelled while not yet picked up; an
assigned order goes back to placed when its trip is taken back (its courier is late, declined or let the
offer lapse) so the next round plans it again. A trip's: offered -> accepted -> done, or released.
Anything else is a 409 naming the state it is in."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from entrepot.kernel.errors import FieldError, InvalidTransition, ValidationFailed
from entrepot.kernel.money import amount_problem, max_minor, minor_unit_exponent, round_half_up

ORDER_MOVES: dict[str, frozenset[str]] = {
    "placed": frozenset({"assigned", "cancelled"}),
    "assigned": frozenset({"placed", "picked_up", "cancelled"}),
    "picked_up": frozenset({"delivered"}),
    "delivered": frozenset(),
    "cancelled": frozenset(),
}
TRIP_MOVES: dict[str, frozenset[str]] = {
    "offered": frozenset({"accepted", "released"}),
    "accepted": frozenset({"done", "released"}),
    "done": frozenset(),
    "released": frozenset(),
}
ACTIVE_TRIP = ("offered", "accepted")
OPEN_ORDER = ("placed", "assigned", "picked_up")
LONGEST_SHIFT = dt.timedelta(hours=16)
# A bag's units (what ondemand.CAPACITY counts): up to 4 restaurant items fill one, up to 10 grocery
# items a heavier one of 2.
ITEMS_PER_UNIT = {"restaurant": 4, "grocery": 10}
UNITS_PER_BAG = {"restaurant": 1, "grocery": 2}
MAX_UNITS = 4  # what the smallest bag carries (batching.BatchRules.max_units): any courier takes it


def move_order(ref: str, state: str, to: str) -> str:
    if to not in ORDER_MOVES[state]:
        raise InvalidTransition(f"order {ref} is {state}: it cannot become {to}", state=state)
    return to


def move_trip(ref: str, state: str, to: str) -> str:
    if to not in TRIP_MOVES[state]:
        raise InvalidTransition(f"trip {ref} is {state}: it cannot become {to}", state=state)
    return to


@dataclass(frozen=True)
class Item:
    """An order's line as stored: the menu item's name and price copied at placement (`item`: its id)."""

    name: str
    quantity: int
    unit_price_minor: int
    item: str | None = None


@dataclass(frozen=True)
class Line:
    """What a buyer asks for: a menu item (its public id) and how many. The buyer names no price."""

    item: str
    quantity: int


@dataclass(frozen=True)
class Offer:
    """A store's menu item as pricing reads it: `on_sale` when it is available and still on the menu."""

    ref: str
    name: str
    price_minor: int
    on_sale: bool


def price_lines(lines: Sequence[Line], menu: Mapping[str, Offer]) -> list[Item]:
    """Each line priced from the store's menu (`menu`: its items the lines name, by id), or every line
    that names no item of this store's menu, or one not on sale, refused at once. Another store's item is
    answered as an unknown one: the order is the store's menu or nothing."""
    errors = []
    for i, line in enumerate(lines):
        offer = menu.get(line.item)
        if offer is None:
            errors.append(FieldError(f"items[{i}].item", f"{line.item} is not on this store's menu"))
        elif not offer.on_sale:
            errors.append(FieldError(f"items[{i}].item", f"{offer.name} is not available now"))
    if errors:
        raise ValidationFailed("the order names items the store does not sell now", errors)
    return [
        Item(menu[line.item].name, line.quantity, menu[line.item].price_minor, line.item) for line in lines
    ]


def order_total(items: Sequence[Item], currency: str) -> int:
    """The items' total in minor units; refused when a price is no price or the total passes the most a
    price may be."""
    errors = [
        FieldError(f"items[{i}].unit_price_minor", problem)
        for i, item in enumerate(items)
        if (problem := amount_problem(item.unit_price_minor, currency)) is not None
    ]
    total = sum(item.quantity * item.unit_price_minor for item in items)
    if not errors and total > max_minor(currency):
        errors.append(FieldError("items", f"the total passes {max_minor(currency)} minor units"))
    if errors:
        raise ValidationFailed(f"the order's prices are not {currency} prices to charge", errors)
    return total


# What the buyer pays for the ride, in the store's currency (major units): a base for the pick-up and
# hand-over, plus a part per kilometre of the route from the store to the door by the quote's mode (the
# courier is not known yet, and a fee must not change with who carries it). Set per currency so that each
# market's fee is a round local price. A currency not listed has no fee to charge: its orders are refused
# (a 422 saying so) rather than charged a figure meant for another currency.
DELIVERY_TARIFF: dict[str, tuple[Decimal, Decimal]] = {  # currency: (base, per km)
    "EUR": (Decimal("1.99"), Decimal("0.50")),
    "USD": (Decimal("1.99"), Decimal("0.50")),
    "GBP": (Decimal("1.79"), Decimal("0.45")),
    "CNY": (Decimal("3"), Decimal("1")),
    "SGD": (Decimal("2.50"), Decimal("0.60")),
    "MYR": (Decimal("3"), Decimal("1")),
    "THB": (Decimal("15"), Decimal("5")),
    "VND": (Decimal("15000"), Decimal("4000")),
    "IDR": (Decimal("8000"), Decimal("2500")),
    "PHP": (Decimal("39"), Decimal("10")),
    "BRL": (Decimal("5.99"), Decimal("1.50")),
    "SAR": (Decimal("7"), Decimal("2")),
    "JPY": (Decimal("300"), Decimal("80")),
}
# The platform's commission on a delivered order's goods, by store kind: restaurants pay more than
# groceries, whose margins are thinner (Ele.me-like rates). The rate is kept on the order with its amount,
# so changing these never restates an order already placed.
COMMISSION_RATE: dict[str, Decimal] = {"restaurant": Decimal("0.18"), "grocery": Decimal("0.08")}


def delivery_fee(currency: str, metres: int) -> int:
    """The delivery fee in the currency's minor units for a route of `metres` (half up)."""
    if currency not in DELIVERY_TARIFF:
        raise ValidationFailed(
            f"no delivery tariff in {currency}: on-demand orders are taken in "
            + ", ".join(sorted(DELIVERY_TARIFF)),
            [FieldError("store", f"its currency {currency} has no delivery tariff")],
        )
    base, per_km = DELIVERY_TARIFF[currency]
    major = base + per_km * Decimal(metres) / 1000
    return round_half_up(major.scaleb(minor_unit_exponent(currency)))


def commission(kind: str, goods_minor: int) -> tuple[Decimal, int]:
    """The store kind's commission rate and its amount on the goods, in minor units (half up)."""
    rate = COMMISSION_RATE[kind]
    return rate, round_half_up(rate * goods_minor)


def units_of(kind: str, items: Sequence[Item]) -> int:
    """How much of a bag the order fills; more than any courier carries is refused."""
    count = sum(item.quantity for item in items)
    units = math.ceil(count / ITEMS_PER_UNIT[kind]) * UNITS_PER_BAG[kind]
    if units > MAX_UNITS:
        most = MAX_UNITS // UNITS_PER_BAG[kind] * ITEMS_PER_UNIT[kind]
        raise ValidationFailed(
            f"{count} items fill {units} units of a bag; a courier carries {MAX_UNITS} (at most {most} items "
            f"from a {kind})",
            [FieldError("items", f"at most {most} items in one order")],
        )
    return units


def minute_of(text: str, field: str) -> int:
    """'HH:MM' (24:00 for midnight at the end of the day) as minutes of the day."""
    hours, _, minutes = text.partition(":")
    if hours.isdigit() and minutes.isdigit() and len(minutes) == 2:
        value = int(hours) * 60 + int(minutes)
        if int(minutes) < 60 and 0 <= value <= 24 * 60:
            return value
    raise ValidationFailed(f"{field} must be a time of day HH:MM, not {text!r}", [FieldError(field, "HH:MM")])


def opening_hours(opens: str, closes: str) -> tuple[int, int]:
    """A store's daily hours as minutes of the day; it must open before it closes (a store open past
    midnight closes at 24:00 and opens again at 00:00)."""
    start, end = minute_of(opens, "opens"), minute_of(closes, "closes")
    if not start < end:
        raise ValidationFailed(
            f"the store must open before it closes: {opens} to {closes}",
            [FieldError("closes", "after opens, at most 24:00")],
        )
    return start, end


def clock_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def second_of_day(moment: dt.datetime, time_zone: str) -> float:
    """Seconds since the local midnight of `moment` in the time zone."""
    local = moment.astimezone(ZoneInfo(time_zone))
    return local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6


def check_shift(starts: dt.datetime, ends: dt.datetime, now: dt.datetime) -> None:
    """A shift must end after it starts, last at most LONGEST_SHIFT and not be over already."""
    problems = []
    if not starts < ends:
        problems.append(FieldError("shift_ends_at", "after shift_starts_at"))
    elif ends - starts > LONGEST_SHIFT:
        problems.append(FieldError("shift_ends_at", "at most 16 hours after shift_starts_at"))
    elif ends <= now:
        problems.append(FieldError("shift_ends_at", "in the future"))
    if problems:
        raise ValidationFailed(f"an impossible shift: {starts.isoformat()} to {ends.isoformat()}", problems)


def backlog_s(
    due_orders: int, free_couriers: int, on_shift: int, orders_per_trip: float, trip_s: float
) -> float:
    """How long a new order should expect to wait for a courier beyond its kitchen time: the due orders
    that outnumber the free couriers, spread over the couriers on shift (as `Dispatcher._backlog`)."""
    shortfall = max(0.0, due_orders / orders_per_trip - free_couriers)
    return shortfall * trip_s / max(1, on_shift)


def check_open(
    store: str, opens_minute: int, closes_minute: int, moment: dt.datetime, time_zone: str
) -> float:
    """The store's local second of the day at `moment`; refused (422) outside its opening hours."""
    second = second_of_day(moment, time_zone)
    if not opens_minute * 60 <= second < closes_minute * 60:
        local = moment.astimezone(ZoneInfo(time_zone)).strftime("%H:%M")
        raise ValidationFailed(
            f"store {store} is closed at {local} ({time_zone}): it takes orders from "
            f"{clock_text(opens_minute)} to {clock_text(closes_minute)}",
            [FieldError("store", "closed at this time")],
        )
    return second


def eta_after_pickup(
    stops: Sequence[dict[str, Any]], ref: str, picked_at: dt.datetime, pickup_s: float, dropoff_s: float
) -> dt.datetime | None:
    """When an order picked up at `picked_at` should reach its door: the trip's planned drop-off, moved
    by how early or late the pick-up came against its plan (the stops after it move with it), plus the
    hand-over. None when the trip's plan does not name the order at both ends."""
    pick = next((s for s in stops if s["kind"] == "pickup" and ref in s["orders"]), None)
    drop = next((s for s in stops if s["kind"] == "dropoff" and ref in s["orders"]), None)
    if pick is None or drop is None:
        return None
    planned_done = dt.datetime.fromisoformat(pick["at"]) + dt.timedelta(seconds=pickup_s)
    return (
        dt.datetime.fromisoformat(drop["at"]) + (picked_at - planned_done) + dt.timedelta(seconds=dropoff_s)
    )
