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
