"""Delivery options from the logistics network: logistics' side of checkout's shipping-rates port.

For each service level (express 5, standard 10, economy 20 days) and objective (cheapest, greenest) the
planner's choice for every parcel of the basket; choices that are the same routes are one option,
offered under the tightest service level they keep. Each option carries:
- the buyer's fee: what the seller is billed for the parcels (`service.fee_for`, the network's cost plus
  the margin, in US cents) converted to the market's currency at the ECB rate of the day, so the buyer
  pays the logistics bill of the goods' delivery and the seller passes it on without profit or loss;
- the promised date: the day, in the market's time zone, of the planned arrival plus one day's slack for
  a missed connection, never later than the service level's limit;
- transit days from now to the planned arrival, and the planned routes' estimated CO2e, by the emission
  factor version accounting records shipments under (the note names it: `Network.emissions_version`).
Without a stored network (a fresh database), or when the network cannot serve the basket, the option is
the market's flat zone fees with no promised date, and its note says why.
"""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from entrepot.kernel.fx import FxRates
from entrepot.kernel.money import Money
from entrepot.logistics import service
from entrepot.logistics.domain import Network, from_minutes, to_minutes
from entrepot.logistics.rate_cache import RouteCache, box, dispatch_minute, priced_for, routes_cache
from entrepot.logistics.routing import SERVICE_LEVEL_DAYS, PlanningError, Route, choose
from entrepot.ordering.shipping import (
    NETWORK,
    OBJECTIVES,
    SERVICE_LEVELS,
    DeliveryOption,
    ParcelToShip,
    RateRequest,
    flat_option,
)
from entrepot.organization import service as organization

PROMISE_SLACK_MINUTES = 1440
NO_NETWORK = "no logistics network is stored: the market's flat zone fees, no delivery date promised"


class NetworkRates:
    def __init__(self, fx: FxRates, cache: RouteCache = routes_cache) -> None:
        self._fx = fx  # the app's rates, as customs values are converted with
        self._cache = cache

    def options(self, session: Session, request: RateRequest) -> list[DeliveryOption]:
        net = service.network(session)
        if not net.nodes:
            return [flat_option(request, NO_NETWORK)]
        try:
            routes = self._routes(net, request)
        except PlanningError as error:
            return [flat_option(request, f"{error.detail}: the market's flat zone fees, no date promised")]
        chosen = choices(routes)
        if not chosen:
            return [flat_option(request, "no route keeps even the economy promise: flat zone fees")]
        on = request.now.astimezone(ZoneInfo(request.time_zone)).date()
        fx = organization.rates_for(session, self._fx, request.currency, on)
        version = net.emissions_version
        return [self._option(request, picks, answers, fx, on, version) for picks, answers in chosen]

    def _routes(self, net: Network, request: RateRequest) -> list[list[Route]]:
        station = service.delivery_station(net, request.destination_country, request.destination_point)
        return [
            self._cache.routes(
                net,
                origin := service.warehouse_node(net, parcel.warehouse),
                station,
                parcel.weight_g,
                dispatch_minute(request.now, net.nodes[origin].time_zone),
            )
            for parcel in request.parcels
        ]

    def _option(
        self,
        request: RateRequest,
        picks: tuple[Route, ...],
        answers: tuple[str, ...],
        fx: FxRates,
        on: dt.date,
        emissions_version: str,
    ) -> DeliveryOption:
        level = answers[0].split("-", 1)[0]
        priced = [
            priced_for(r, box(p.weight_g, p.volume_cm3, p.value_minor))
            for r, p in zip(picks, request.parcels, strict=True)
        ]
        fees = tuple(
            fx.convert(Money(service.fee_for(r.cost_cents), "USD"), request.currency, on).amount.minor
            for r in priced
        )
        promise = max(promise_minute(r, level) for r in priced)
        arrives = max(r.arrives for r in priced)
        return DeliveryOption(
            service=level,
            answers=answers,
            fee_minor=sum(fees),
            parcel_fees_minor=fees,
            promised_on=from_minutes(promise).astimezone(ZoneInfo(request.time_zone)).date(),
            transit_days=max(1, math.ceil((arrives - to_minutes(request.now)) / 1440)),
            co2e_g=round(sum(r.emissions_g for r in priced)),
            co2e_version=emissions_version,
            source=NETWORK,
            note=f"{_legs_note(priced, request.parcels)}; CO2e by emission factors {emissions_version}",
        )


def choices(routes: list[list[Route]]) -> list[tuple[tuple[Route, ...], tuple[str, ...]]]:
    """The planner's routes per parcel for every service level x objective that can be kept, the same
    routes answered once: (routes, the option ids they answer), tightest service level first."""
    grouped: dict[tuple[tuple[tuple[str, int], ...], ...], tuple[tuple[Route, ...], list[str]]] = {}
    for level in SERVICE_LEVELS:
        for objective in OBJECTIVES:
            try:
                picks = tuple(choose(per_parcel, level, objective) for per_parcel in routes)
            except PlanningError:
                continue  # this service level cannot be kept for some parcel
            same = tuple(tuple((leg.lane.id, leg.departs) for leg in r.legs) for r in picks)
            grouped.setdefault(same, (picks, []))[1].append(f"{level}-{objective}")
    return [(picks, tuple(answers)) for picks, answers in grouped.values()]


def promise_minute(route: Route, level: str) -> int:
    """Arrival plus a day's slack, capped by the service level's limit (counted from dispatch)."""
    return min(route.arrives + PROMISE_SLACK_MINUTES, route.ready + SERVICE_LEVEL_DAYS[level] * 1440)


def _legs_note(routes: list[Route], parcels: tuple[ParcelToShip, ...]) -> str:
    return "; ".join(
        f"{p.warehouse}: {' > '.join(dict.fromkeys(leg.lane.mode for leg in r.legs))}"
        for r, p in zip(routes, parcels, strict=True)
    )
