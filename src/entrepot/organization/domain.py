"""Pure rules of the organisation tree and its effective-dated memberships."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError

from entrepot.kernel.countries import country_error
from entrepot.kernel.errors import Conflict, FieldError, ValidationFailed
from entrepot.kernel.money import validate_currency

KINDS = ("group", "segment", "division", "business_unit")
PARENT_KIND = {"segment": "group", "division": "segment", "business_unit": "division"}
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
# The business unit that runs on-demand delivery (the group's Ele.me, under Local consumer services:
# simulation.scenario seeds it): local services' revenue and trips are accounted to it.
ON_DEMAND_UNIT = "ele-me"


@dataclass(frozen=True)
class Membership:
    parent_code: str
    valid_from: dt.date
    valid_to: dt.date | None

    def covers(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


def check_code(code: str, field: str = "code") -> str:
    if not CODE_PATTERN.match(code):
        raise ValidationFailed(
            f"{field} must be 2-63 lower-case letters, digits or dashes",
            [FieldError(field, f"{code!r} is not a valid code")],
        )
    return code


def check_parent_kind(child_kind: str, parent_kind: str | None) -> None:
    expected = PARENT_KIND.get(child_kind)
    if child_kind == "group":
        if parent_kind is not None:
            raise ValidationFailed("a group has no parent", [FieldError("parent", "must be empty")])
        return
    if parent_kind != expected:
        raise ValidationFailed(
            f"a {child_kind} must sit under a {expected}, not under a {parent_kind or 'nothing'}",
            [FieldError("parent", f"expected a {expected}")],
        )


def parent_on(memberships: list[Membership], day: dt.date) -> str | None:
    for membership in memberships:
        if membership.covers(day):
            return membership.parent_code
    return None


def plan_move(history: list[Membership], new_parent: str, effective: dt.date) -> Membership:
    """Check a move on `effective` and return the open membership it ends (kept as history)."""
    current = [m for m in history if m.valid_to is None]
    if not current:
        raise Conflict("the unit has no open membership to move from")
    open_membership = current[0]
    if effective <= open_membership.valid_from:
        raise ValidationFailed(
            f"the move must take effect after {open_membership.valid_from.isoformat()},"
            " when the current membership began",
            [FieldError("effective_from", "too early")],
        )
    if open_membership.parent_code == new_parent:
        raise Conflict(f"the unit already sits under {new_parent}", code="no-change")
    return open_membership


def check_open(code: str, closed_on: dt.date | None) -> None:
    """A unit closed by a reorganisation takes no new member: a membership starts open-ended, and would
    run past the closing day (the units that replaced it take the members)."""
    if closed_on is not None:
        raise Conflict(f"{code} was closed on {closed_on.isoformat()}: it takes no new member", code="closed")


def plan_close(code: str, closed_on: dt.date | None, members: dict[str, dt.date | None], on: dt.date) -> None:
    """Check that a unit can close on `on`: not closed already, and none of its members (child code ->
    the end of its membership, None when open) still sits under it on that day or later."""
    if closed_on is not None:
        raise Conflict(f"{code} was closed on {closed_on.isoformat()} already", code="closed")
    staying = sorted(child for child, end in members.items() if end is None or end > on)
    if staying:
        raise Conflict(
            f"{code} still holds {', '.join(staying)} on {on.isoformat()}: move them out first",
            code="not-empty",
        )


@dataclass(frozen=True)
class PendingMove:
    """A move that has not taken effect yet: the membership it ends and the one it starts."""

    previous: Membership
    planned: Membership


def pending_move(history: list[Membership], today: dt.date) -> PendingMove:
    """The unit's latest move (`history` in date order) while it is still in the future."""
    latest = history[-2:]
    if len(latest) < 2 or latest[1].valid_to is not None or latest[0].valid_to != latest[1].valid_from:
        raise Conflict("the unit has no move to revise", code="no-move")
    previous, planned = latest
    if planned.valid_from <= today:
        raise Conflict(
            f"the move under {planned.parent_code} took effect on {planned.valid_from.isoformat()}:"
            " it is history now; move the unit again instead",
            code="in-effect",
        )
    return PendingMove(previous, planned)


def check_corrected_date(pending: PendingMove, effective: dt.date, today: dt.date) -> None:
    """A corrected move is still a future one, after the membership it ends began."""
    earliest = max(today, pending.previous.valid_from) + dt.timedelta(days=1)
    if effective < earliest:
        raise ValidationFailed(
            f"a corrected move must take effect on {earliest.isoformat()} or later",
            [FieldError("effective_from", f"on {earliest.isoformat()} or later")],
        )


@dataclass(frozen=True)
class MarketSpec:
    country: str
    currency: str
    locale: str
    time_zone: str
    tax_rate: Decimal


def check_market(spec: MarketSpec) -> MarketSpec:
    errors: list[FieldError] = []
    if (bad_country := country_error(spec.country)) is not None:
        errors.append(bad_country)
    try:
        validate_currency(spec.currency)
    except ValidationFailed as exc:
        errors.append(FieldError("currency", exc.detail))
    try:
        Locale.parse(spec.locale.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        errors.append(FieldError("locale", f"unknown locale {spec.locale!r}"))
    try:
        ZoneInfo(spec.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(FieldError("time_zone", f"unknown IANA time zone {spec.time_zone!r}"))
    if not spec.tax_rate.is_finite() or not Decimal(0) <= spec.tax_rate < Decimal(1):
        errors.append(FieldError("tax_rate", "must be a fraction from 0 up to 1, e.g. 0.09 for 9 %"))
    if errors:
        raise ValidationFailed("invalid market", errors)
    return spec


def local_date(moment: dt.datetime, time_zone: str) -> dt.date:
    """The calendar day in a market's time zone: 'day' boundaries follow the market, not UTC."""
    return moment.astimezone(ZoneInfo(time_zone)).date()
