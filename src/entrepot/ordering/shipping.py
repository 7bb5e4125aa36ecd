"""The shipping-rates port: what checkout asks for a basket's delivery, and the options it gets back.

Checkout knows nothing of networks or planners: it hands a `ShippingRates` implementation the parcels
(one per allocated warehouse), where they go and when, and gets delivery options, each a service level
(express, standard, economy) answering one or both objectives (cheapest, greenest), with the buyer's fee
in the market's currency, a promised delivery date in the market's time zone, transit days and CO2e.
The logistics context implements it (`entrepot.logistics.rates.NetworkRates`); `FlatZoneRates` is the
market's flat zone fees, for a deployment without a logistics network.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Protocol

from sqlalchemy.orm import Session

from entrepot.kernel.errors import DomainError, FieldError

SERVICE_LEVELS = ("express", "standard", "economy")  # tightest promise first
OBJECTIVES = ("cheapest", "greenest")
OPTION_IDS = tuple(f"{service}-{objective}" for service in SERVICE_LEVELS for objective in OBJECTIVES)
NETWORK = "network"
FLAT_ZONE_FEES = "flat_zone_fees"


@dataclass(frozen=True)
class ParcelToShip:
    """What one warehouse sends: the goods of the lines allocated to it."""

    warehouse: str  # the warehouse's code, which is also its node in the logistics network
    warehouse_country: str
    weight_g: int
    volume_cm3: int
    value_minor: int
    flat_fee_minor: int  # the market's zone fee for this parcel (domestic or cross-border)


@dataclass(frozen=True)
class RateRequest:
    currency: str
    time_zone: str  # the market's: promised dates are days there
    destination_country: str
    destination_point: tuple[float, float] | None  # the buyer's location, when known
    parcels: tuple[ParcelToShip, ...]
    now: dt.datetime


@dataclass(frozen=True)
class DeliveryOption:
    service: str
    answers: tuple[str, ...]  # the option ids ("standard-cheapest", ...) this one route set answers
    fee_minor: int
    parcel_fees_minor: tuple[int, ...]  # per parcel, in the request's order
    promised_on: dt.date | None  # None: no date is promised (flat zone fees)
    transit_days: int | None
    co2e_g: int | None
    source: str  # NETWORK or FLAT_ZONE_FEES
    note: str = ""
    default: bool = False
    greenest: bool = False
    co2e_version: str | None = None  # the emission factor version co2e_g was estimated with

    @property
    def id(self) -> str:
        return self.answers[0]

    @property
    def objectives(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.split("-", 1)[1] for a in self.answers))


class ShippingRates(Protocol):
    def options(self, session: Session, request: RateRequest) -> list[DeliveryOption]:
        """Delivery options for the parcels, never none (checkout marks the default and greenest)."""
        ...


def flat_option(request: RateRequest, note: str) -> DeliveryOption:
    """The market's flat zone fee per parcel, as one standard option without a promised date."""
    fees = tuple(p.flat_fee_minor for p in request.parcels)
    answers = tuple(f"standard-{objective}" for objective in OBJECTIVES)
    option = DeliveryOption("standard", answers, sum(fees), fees, None, None, None, FLAT_ZONE_FEES, note)
    return replace(option, default=True, greenest=True)


class FlatZoneRates:
    """The market's flat zone fees: what checkout charged before logistics priced parcels."""

    def options(self, session: Session, request: RateRequest) -> list[DeliveryOption]:
        return [flat_option(request, "flat zone fees of the market; no delivery date is promised")]


def mark(options: list[DeliveryOption]) -> list[DeliveryOption]:
    """Mark the default (the cheapest standard option, else the fastest) and the greenest option."""
    if not options:
        return options
    default = next((o for o in options if "standard-cheapest" in o.answers), None) or min(
        options, key=lambda o: (o.transit_days or 0, o.fee_minor)
    )
    greenest = min(options, key=lambda o: (o.co2e_g or 0, o.fee_minor))
    return [replace(o, default=o is default, greenest=o is greenest) for o in options]


def default_option(options: list[DeliveryOption]) -> DeliveryOption:
    return next(o for o in options if o.default)


def pick(options: list[DeliveryOption], wanted: str | None) -> DeliveryOption:
    """The option a buyer asked for by id (any id the option answers), or the default."""
    if wanted is None:
        return default_option(options)
    if wanted not in OPTION_IDS:
        raise UnknownDeliveryOption(wanted)
    chosen = next((o for o in options if wanted in o.answers), None)
    if chosen is None:
        raise DeliveryOptionUnavailable(wanted, [a for o in options for a in o.answers])
    return chosen


class UnknownDeliveryOption(DomainError):
    def __init__(self, wanted: str) -> None:
        super().__init__(
            f"no delivery option {wanted!r}",
            [FieldError("delivery_option", f"one of {', '.join(OPTION_IDS)}")],
            {},
            "validation-failed",
            422,
            "Invalid input",
        )


class DeliveryOptionUnavailable(DomainError):
    def __init__(self, wanted: str, available: list[str]) -> None:
        super().__init__(
            f"{wanted} is not available for this basket now; available: {', '.join(available)}",
            [FieldError("delivery_option", f"one of {', '.join(available)}")],
            {"available": available},
            "delivery-option-unavailable",
            422,
            "Delivery option unavailable",
        )
