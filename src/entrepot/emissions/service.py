"""Use cases of emissions accounting: factor tables and calculation versions, and the emissions of each
shipment's transport chain, stored when its legs are known and recomputed as a new version (never
overwritten) when a factor table is loaded.

Shipments, legs and the network are read only through logistics' service functions, orders through
ordering's queries, and the organisation through its service."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from entrepot.emissions import local_trips, vector
from entrepot.emissions.categories import category_of_lane
from entrepot.emissions.defaults import DEFAULT_NAME, sha256_of
from entrepot.emissions.domain import Element, HubOperation, Leg, Result, element_emissions
from entrepot.emissions.factors import (
    Factor,
    FactorFileError,
    FactorSet,
    parse_countries,
    parse_factor_csv,
)
from entrepot.emissions.models import (
    CalculationVersion,
    ElementActivity,
    ElementResult,
    FactorTableRow,
    ShipmentActivity,
)
from entrepot.emissions.versions import (
    current_version,
    factor_set,
    factor_set_of,
    install_packaged,
    lock_for_new_version,
    resolve_version,
    store_table,
)
from entrepot.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from entrepot.kernel.events import DomainEvent
from entrepot.logistics import service as logistics
from entrepot.logistics import tracking_service as tracking
from entrepot.ordering import queries as orders
from entrepot.organization import service as organization
from entrepot.platform import audit
from entrepot.platform.db import record_event

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,47}")
USER_KINDS = ("regional", "carrier")  # the default table ships with the package
# Every kind of handling site a route passes through is a hub operation (ISO 14083's hub elements).
HUB_KINDS = (
    "fulfilment_warehouse",
    "sortation_hub",
    "airport",
    "seaport",
    "rail_terminal",
    "customs_point",
    "delivery_station",
)


# --- factor tables and versions ------------------------------------------------------------------


def load_table(
    session: Session, name: str, kind: str, text: str, now: dt.datetime, countries: str | None = None
) -> tuple[FactorTableRow, int]:
    """Load a user's factor table as the next version of `name`, then recompute every stored shipment as
    a new calculation version. A malformed file is rejected whole (each bad row with its reason), and a
    file identical to the newest version of its name (and scope) changes nothing. A regional table names
    the countries it applies in (`countries`, ISO 3166 alpha-2); a carrier table may."""
    if not NAME_PATTERN.fullmatch(name) or name == DEFAULT_NAME:
        raise ValidationFailed(
            "invalid table name", [FieldError("name", "1-48 of a-z 0-9 . _ -, not the default's")]
        )
    if kind not in USER_KINDS:
        raise ValidationFailed("invalid kind", [FieldError("kind", f"one of {', '.join(USER_KINDS)}")])
    scope = _scope(kind, countries)
    lock_for_new_version(session, now)  # loads one at a time, recordings wait (see versions.current_version)
    latest = session.scalar(
        select(FactorTableRow)
        .where(FactorTableRow.name == name)
        .order_by(FactorTableRow.version.desc())
        .limit(1)
    )
    version = 1 if latest is None else latest.version + 1
    try:
        table = replace(parse_factor_csv(text, name, version, kind), countries=scope)
    except FactorFileError as error:
        fields = [FieldError(f"row {e.row}", e.reason) for e in error.errors[:200]]
        raise ValidationFailed(f"factor file rejected: {len(error.errors)} bad rows", fields) from None
    digest = sha256_of(text)
    listed = sorted(scope) if scope is not None else None
    if latest is not None and latest.sha256 == digest and latest.kind == kind and latest.countries == listed:
        raise Conflict(f"identical to {name}@{latest.version}: nothing loaded", code="factor-table-unchanged")
    row = store_table(session, table, digest, now)
    number = new_version(session, f"factor table {name}@{version} loaded", now)
    before = None if latest is None else {"version": latest.version, "sha256": latest.sha256}
    after = {"version": version, "kind": kind, "sha256": digest, "calculation_version": number}
    audit.record(session, "factor_table.loaded", name, before, after | {"countries": listed}, now)
    return row, number


def _scope(kind: str, countries: str | None) -> frozenset[str] | None:
    if countries is None or not countries.strip():
        if kind == "regional":
            raise ValidationFailed(
                "a regional table needs its scope",
                [FieldError("countries", "must name the ISO 3166 alpha-2 codes it applies in (CN, SG)")],
            )
        return None
    try:
        return parse_countries(countries)
    except ValueError as error:
        raise ValidationFailed("invalid countries", [FieldError("countries", str(error))]) from None


def new_version(session: Session, reason: str, now: dt.datetime) -> int:
    """Open the next calculation version with the tables now in force, and recompute every stored
    shipment and local courier trip under it; the results of earlier versions stay as they were."""
    number = lock_for_new_version(session, now)
    factors = factor_set(session)
    session.add(CalculationVersion(number=number, tables=factors.labels, reason=reason[:200], created_at=now))
    session.flush()
    recompute(session, number, factors)
    local_trips.recompute(session, number, factors)
    record_event(
        session, DomainEvent("emissions.recomputed", f"v{number}", {"version": number, "reason": reason}), now
    )
    # This process's planner and quotes re-weigh at once (others on their next network check, seconds).
    logistics.forget_network()
    return number


def recompute(session: Session, number: int, factors: FactorSet, batch: int = 20_000) -> int:
    """Every stored element under version `number`, legs vectorised (the same figures as the library's,
    to the milligram: see `vector`). Returns how many."""
    done, after = 0, 0
    countries = _countries_of(session)
    while True:
        rows = session.execute(
            select(
                ElementActivity.id,
                ElementActivity.shipment_id,
                ElementActivity.kind,
                ElementActivity.mode,
                ElementActivity.vehicle,
                ElementActivity.carrier,
                ElementActivity.mass_g,
                ElementActivity.distance_km,
                ElementActivity.distance_rule,
                ElementActivity.trip,
                ElementActivity.origin,
                ElementActivity.destination,
            )
            .where(ElementActivity.id > after)
            .order_by(ElementActivity.id)
            .limit(batch)
        ).all()
        if not rows:
            return done
        session.execute(insert(ElementResult), _batch_values(number, rows, factors, countries))
        done += len(rows)
        after = rows[-1].id


def _countries_of(session: Session) -> dict[str, str]:
    """Each network node's country: which scoped factor tables may answer for an element there."""
    return {code: node.country for code, node in logistics.network(session).nodes.items()}


def _where(countries: dict[str, str], *nodes: str) -> tuple[str, ...]:
    found = tuple(countries.get(n, "") for n in nodes)
    return () if "" in found else found  # a node off the network: only unscoped tables answer


def _batch_values(
    number: int, rows: Sequence[Any], factors: FactorSet, countries: dict[str, str]
) -> list[dict[str, Any]]:
    hubs = [(r, element_emissions(_element(r, countries), factors)) for r in rows if r.kind == "hub"]
    values = [_result_values(number, r.id, r.shipment_id, result) for r, result in hubs]
    legs = [r for r in rows if r.kind == "leg"]
    if not legs:
        return values
    requests: dict[vector.Request, int] = {}
    codes = np.array(
        [
            requests.setdefault(
                (*category_of_lane(r.mode, r.vehicle), r.carrier, _where(countries, r.origin, r.destination)),
                len(requests),
            )
            for r in legs
        ],
        dtype=np.int64,
    )
    km = np.array([r.distance_km for r in legs], dtype=np.float64)
    resolved = vector.resolve(factors, list(requests), codes, km)
    arrays = vector.leg_emissions(
        np.array([r.mass_g for r in legs], dtype=np.int64), km, resolved.ttw, resolved.wtt
    )
    asked = list(requests)
    for i, r in enumerate(legs):
        slot = int(resolved.index[i])
        factor = resolved.factors[slot] if slot >= 0 else None
        category = factor.category if factor else "/".join(asked[int(codes[i])][:3])
        figures = (float(arrays.tkm[i]), int(arrays.ttw_mg[i]), int(arrays.wtt_mg[i]), category, factor)
        values.append(_values(number, r.id, r.shipment_id, *figures))
    return values


def element_of(row: ElementActivity, countries: dict[str, str] | None = None) -> Element:
    """The calculation's element of a stored row; `countries` (node -> country) places it for scoped
    tables (without it, only unscoped tables answer)."""
    return _element(row, countries or {})


def _element(row: Any, countries: dict[str, str]) -> Element:
    if row.kind == "hub":
        return HubOperation(row.vehicle, row.mass_g, row.origin, _where(countries, row.origin))
    mode, vehicle, energy = category_of_lane(row.mode, row.vehicle)
    where = _where(countries, row.origin, row.destination)
    return Leg(
        mode, vehicle, energy, row.mass_g, row.distance_km, row.distance_rule, row.carrier, row.trip, where
    )


def _values(
    number: int,
    element_id: int,
    shipment_id: int,
    tkm: float,
    ttw_mg: int,
    wtt_mg: int,
    category: str,
    f: Factor | None,
) -> dict[str, Any]:
    return {
        "version": number,
        "element_id": element_id,
        "shipment_id": shipment_id,
        "tkm": tkm,
        "ttw_mg": ttw_mg,
        "wtt_mg": wtt_mg,
        "wtw_mg": ttw_mg + wtt_mg,
        "category": category[:160],
        "factor_table": f.table if f else None,
        "factor_row": f.row if f else None,
        "factor_ttw": f.ttw if f else None,
        "factor_wtt": f.wtt if f else None,
        "factor_wtw": f.wtw if f else None,
        "factor_unit": f.unit if f else None,
        "factor_source": f.source if f else None,
        "missing_factor": f is None,
    }


def _result_values(number: int, element_id: int, shipment_id: int, r: Result) -> dict[str, Any]:
    return _values(number, element_id, shipment_id, r.tkm, r.ttw_mg, r.wtt_mg, r.category, r.factor)


# --- shipments -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dimensions:
    order_ref: str
    seller_ref: str
    market: str
    marketplace: str
    division: str


class _DimensionsReader:
    """Each order's seller, market, marketplace and division (as the organisation stood on the shipment's
    day), for a batch of shipments: the orders read together, each market's marketplace once, and each
    (marketplace, day)'s ancestry once, however many shipments share them."""

    def __init__(self, session: Session, order_refs: Sequence[str]) -> None:
        self.session = session
        self.orders = orders.sellers_and_markets(session, order_refs)
        self.marketplaces: dict[str, str] = {}
        self.divisions: dict[tuple[str, dt.date], str] = {}

    def of(self, order_ref: str, day: dt.date) -> Dimensions:
        seller, market_code = self.orders[order_ref]
        marketplace = self.marketplaces.get(market_code)
        if marketplace is None:
            market = organization.get_market(self.session, market_code)
            marketplace = organization.market_business_unit_code(self.session, market)
            self.marketplaces[market_code] = marketplace
        division = self.divisions.get((marketplace, day))
        if division is None:
            division = organization.ancestry_on(self.session, marketplace, day).get("division", "")
            self.divisions[(marketplace, day)] = division
        return Dimensions(order_ref, seller, market_code, marketplace, division)


def record_shipment(session: Session, shipment_ref: str, now: dt.datetime) -> ShipmentActivity:
    """Store a planned shipment's transport chain (legs, and a hub operation at every node between two
    legs) and its emissions under the current version. Recording it again changes nothing."""
    return record_shipments(session, [shipment_ref], now)[0]


def record_shipments(
    session: Session, shipment_refs: Sequence[str], now: dt.datetime
) -> list[ShipmentActivity]:
    """Store many planned shipments' transport chains and emissions under the current version, the
    activity of each ref in order. Shipments already recorded are returned as they were (changing
    nothing); the others are read together, their dimensions, version, factors and the network's
    countries once, and their rows written a table at a time. A shipment not stored or without legs
    refuses the whole batch (NotFound, Conflict), so a relay's batch falls back to one event at a time."""
    refs = list(dict.fromkeys(shipment_refs))
    done = {
        a.shipment_ref: a
        for a in session.scalars(select(ShipmentActivity).where(ShipmentActivity.shipment_ref.in_(refs)))
    }
    todo = [ref for ref in refs if ref not in done]
    if todo:
        done |= _record_new(session, todo, now)
    return [done[ref] for ref in shipment_refs]


def _record_new(session: Session, refs: list[str], now: dt.datetime) -> dict[str, ShipmentActivity]:
    shipments = tracking.shipments_by_ref(session, refs)
    legs = tracking.legs_of_shipments(session, [s.id for s in shipments.values()])
    for ref in refs:
        if not legs[shipments[ref].id]:
            raise Conflict(f"shipment {ref} has no legs yet", code="no-legs")
    dimensions = _DimensionsReader(session, [shipments[ref].order_ref for ref in refs])
    activities = {ref: _activity(shipments[ref], dimensions, now) for ref in refs}
    session.add_all(activities.values())
    session.flush()
    net = logistics.network(session)
    elements = [row for ref in refs for row in _chain_rows(net, activities[ref], legs[shipments[ref].id])]
    session.add_all(elements)
    session.flush()
    number = current_version(session, now)
    values = _batch_values(number, elements, factor_set_of(session, number), _countries_of(session))
    session.execute(insert(ElementResult), values)
    return activities


def _activity(shipment: Any, dimensions: _DimensionsReader, now: dt.datetime) -> ShipmentActivity:
    day = shipment.created_at.date()
    dims = dimensions.of(shipment.order_ref, day)
    return ShipmentActivity(
        shipment_ref=shipment.public_id,
        order_ref=dims.order_ref,
        seller_ref=dims.seller_ref,
        market=dims.market,
        marketplace=dims.marketplace,
        division=dims.division,
        planned_on=day,
        weight_g=shipment.weight_g,
        origin_country=shipment.origin_country,
        destination_country=shipment.destination_country,
        recorded_at=now,
    )


def _chain_rows(net: Any, activity: ShipmentActivity, legs: Sequence[Any]) -> list[ElementActivity]:
    """The planned route as a transport chain: a hub operation at every handling site it passes (the
    origin warehouse, sorting hubs, gateways, the delivery station), a leg between each two."""
    rows: list[ElementActivity] = []
    for leg in legs:
        _add_hub(rows, net, activity, leg.origin)
        lane = net.lane(leg.lane_code)
        rows.append(
            ElementActivity(
                shipment_id=activity.id,
                seq=len(rows),
                kind="leg",
                mode=leg.mode,
                vehicle=lane.vehicle if lane else "",
                carrier=lane.carrier if lane else "",
                lane=leg.lane_code,
                origin=leg.origin,
                destination=leg.destination,
                distance_km=leg.distance_km,
                distance_rule=(lane.distance_rule if lane else "given")[:64],
                mass_g=activity.weight_g,
                trip=f"departure:{leg.departure_id}" if leg.departure_id is not None else None,
            )
        )
    _add_hub(rows, net, activity, legs[-1].destination)
    return rows


def _add_hub(rows: list[ElementActivity], net: Any, activity: ShipmentActivity, code: str) -> None:
    node = net.nodes.get(code)
    if node is not None and node.kind in HUB_KINDS:
        rows.append(_hub_row(activity, len(rows), node.kind, code))


def _hub_row(activity: ShipmentActivity, seq: int, kind: str, node: str) -> ElementActivity:
    return _hub_row_for(activity.id, seq, kind, node, activity.weight_g)


def _hub_row_for(shipment_id: int, seq: int, kind: str, node: str, mass_g: int) -> ElementActivity:
    return ElementActivity(
        shipment_id=shipment_id,
        seq=seq,
        kind="hub",
        mode="hub",
        vehicle=kind,
        carrier="",
        lane="",
        origin=node,
        destination=node,
        distance_km=0.0,
        distance_rule="hub operation",
        mass_g=mass_g,
        trip=None,
    )


@dataclass(frozen=True)
class ShipmentEmissions:
    activity: ShipmentActivity
    version: int
    elements: list[tuple[ElementActivity, ElementResult]]


def shipment_emissions(
    session: Session, shipment_ref: str, version: int | None = None, seller_ref: str | None = None
) -> ShipmentEmissions:
    query = select(ShipmentActivity).where(ShipmentActivity.shipment_ref == shipment_ref)
    if seller_ref is not None:
        query = query.where(ShipmentActivity.seller_ref == seller_ref)
    activity = session.scalar(query)
    if activity is None:
        raise NotFound(f"no emissions recorded for shipment {shipment_ref}")
    number = resolve_version(session, version)
    rows = session.execute(
        select(ElementActivity, ElementResult)
        .join(ElementResult, ElementResult.element_id == ElementActivity.id)
        .where(ElementActivity.shipment_id == activity.id, ElementResult.version == number)
        .order_by(ElementActivity.seq)
    ).all()
    return ShipmentEmissions(activity, number, [(a, r) for a, r in rows])


# --- backfill ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backfill:
    version: int
    tables: list[str]  # the package's tables stored by this backfill ("name@version")
    hubs_added: int  # hub operations added to chains recorded before origins and stations counted
    shipments: int


def backfill(session: Session, now: dt.datetime) -> Backfill | None:
    """Bring stored shipments up to the package's default tables and hub accounting: store any default
    table the database lacks (the hub intensities, or a newer edition) with its audit entry, add the
    origin's and the delivery station's hub operations to chains recorded without them, and recompute
    everything as a new calculation version. Earlier versions keep their figures (queryable by
    version); the added hub elements have results only from the new version on. Nothing to do: None."""
    lock_for_new_version(session, now)
    stored = install_packaged(session, now)
    added = _add_endpoint_hubs(session)
    if not stored and not added:
        return None
    labels = [f"{row.name}@{row.version}" for row in stored]
    reason = f"backfill: {', '.join(labels) or 'hub operations at origins and stations'}"
    number = new_version(session, reason, now)
    for row in stored:
        after = {
            "version": row.version,
            "kind": row.kind,
            "sha256": row.sha256,
            "calculation_version": number,
        }
        audit.record(session, "factor_table.loaded", row.name, None, after, now)
    shipments = int(session.scalar(select(func.count()).select_from(ShipmentActivity)) or 0)
    return Backfill(number, labels, added, shipments)


def _add_endpoint_hubs(session: Session) -> int:
    """Hub rows for the first leg's origin and the last leg's destination where a chain lacks them (they
    go after the chain's last element: `seq` is unique per shipment, and earlier versions stay as read)."""
    net = logistics.network(session)
    chains: dict[int, list[ElementActivity]] = {}
    for row in session.scalars(
        select(ElementActivity).order_by(ElementActivity.shipment_id, ElementActivity.seq)
    ):
        chains.setdefault(row.shipment_id, []).append(row)
    added: list[ElementActivity] = []
    for shipment_id, rows in chains.items():
        legs = [r for r in rows if r.kind == "leg"]
        hubs = {r.origin for r in rows if r.kind == "hub"}
        seq = rows[-1].seq + 1
        for code in dict.fromkeys((legs[0].origin, legs[-1].destination)) if legs else ():
            node = net.nodes.get(code)
            if node is None or node.kind not in HUB_KINDS or code in hubs:
                continue
            hub = _hub_row_for(shipment_id, seq, node.kind, code, legs[0].mass_g)
            added.append(hub)
            seq += 1
    session.add_all(added)
    session.flush()
    return len(added)
