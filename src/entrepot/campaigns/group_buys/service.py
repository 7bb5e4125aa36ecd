"""Group buying: a team price when `team_size` buyers join one team within its window.

Each member's payment is authorised when they join (the provider answers an authorisation at once, as
card networks do) and only captured when their team fills up; a team still short at its deadline fails
and every member's authorisation is released, so nobody is charged for a failed team. Captures and
releases are written as outbox events in the same transaction that decides them, so a crash can
neither capture a failed team nor forget to release one.

Units: a joining member takes one unit of the campaign's stock for their team (`held`), with the same
conditional update as everywhere, so a completed team's units are never oversold; a failed team gives
them back. Locks are always taken team first, then campaign, so joiners and the sweeper never deadlock.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from entrepot.campaigns.common import Window, campaign_sku, open_header
from entrepot.campaigns.group_buys.models import GROUP_BUYS, MEMBERS, GroupBuy, GroupMember, GroupTeam
from entrepot.campaigns.group_buys.payments import CAPTURE, RELEASE
from entrepot.inventory import hot_stock
from entrepot.inventory.domain import MAX_STOCK_UNITS
from entrepot.kernel.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    InsufficientStock,
    ValidationFailed,
)
from entrepot.kernel.ids import new_id
from entrepot.kernel.money import amount_problem
from entrepot.ordering.payments import PaymentProvider, PaymentRequest
from entrepot.platform import audit
from entrepot.platform.db import by_public_id, record_events
from entrepot.platform.principal import Principal

_buy = GROUP_BUYS.c
_member = MEMBERS.c


class PaymentDeclined(DomainError):
    def __init__(self, reason: str) -> None:
        super().__init__(
            f"the payment was not authorised: {reason}",
            [],
            {"reason": reason},
            "payment-declined",
            402,
            "Payment declined",
        )


@dataclass(frozen=True)
class GroupBuySpec:
    sku: str
    market: str
    team_price_minor: int
    team_size: int
    team_window_seconds: int
    stock: int
    starts_at: dt.datetime
    ends_at: dt.datetime


def create_group_buy(
    session: Session, principal: Principal, spec: GroupBuySpec, now: dt.datetime
) -> GroupBuy:
    target = campaign_sku(session, principal, spec.market, spec.sku, "group buys")
    _check_spec(spec, target.market.currency, now)
    window = Window(spec.stock, spec.starts_at, spec.ends_at)
    campaign = GroupBuy(
        **open_header(session, target, spec.sku, new_id("grp"), window, now),
        team_price_minor=spec.team_price_minor,
        team_size=spec.team_size,
        team_window_seconds=spec.team_window_seconds,
        held=0,
    )
    session.add(campaign)
    session.flush()
    audit.record(session, "group_buy.created", campaign.public_id, None, _terms(campaign), now)
    return campaign


def _terms(campaign: GroupBuy) -> dict[str, object]:
    """What a seller or an operator set when making the group buy, as the audit trail shows it."""
    return {
        "sku": campaign.sku_ref,
        "market": campaign.market_ref,
        "team_price_minor": campaign.team_price_minor,
        "currency": campaign.currency,
        "team_size": campaign.team_size,
        "team_window_seconds": campaign.team_window_seconds,
        "stock": campaign.stock,
        "starts_at": campaign.starts_at,
        "ends_at": campaign.ends_at,
    }


def _check_spec(spec: GroupBuySpec, currency: str, now: dt.datetime) -> None:
    errors = []
    price = amount_problem(spec.team_price_minor, currency, allow_zero=True)
    if price is not None:
        errors.append(FieldError("team_price_minor", price))
    if not 2 <= spec.team_size <= 100:
        errors.append(FieldError("team_size", "2 to 100 buyers"))
    if not 60 <= spec.team_window_seconds <= 7 * 24 * 3600:
        errors.append(FieldError("team_window_seconds", "1 minute to 7 days"))
    if not spec.team_size <= spec.stock <= MAX_STOCK_UNITS:
        errors.append(FieldError("stock", f"at least one team's worth, at most {MAX_STOCK_UNITS} units"))
    if spec.ends_at <= spec.starts_at or spec.ends_at <= now:
        errors.append(FieldError("ends_at", "after starts_at and in the future"))
    if errors:
        raise ValidationFailed("invalid group buy", errors)


def get_group_buy(session: Session, public_id: str) -> GroupBuy:
    return by_public_id(session, GroupBuy, public_id, "group buy")


def get_team(session: Session, public_id: str, for_update: bool = False) -> GroupTeam:
    return by_public_id(session, GroupTeam, public_id, "team", lock=for_update)


def open_team(
    session: Session, principal: Principal, ref: str, method: str, provider: PaymentProvider, now: dt.datetime
) -> GroupTeam:
    """Start a team and join it as its first member."""
    buyer_id = _buyer(principal)
    campaign = get_group_buy(session, ref)
    if not campaign.starts_at <= now < campaign.ends_at:
        raise Conflict("the group buy is not running now", code="group-buy-not-open")
    deadline = min(now + dt.timedelta(seconds=campaign.team_window_seconds), campaign.ends_at)
    team = GroupTeam(
        public_id=new_id("team"),
        group_buy_id=campaign.id,
        status="open",
        members=0,
        deadline=deadline,
        opened_at=now,
    )
    session.add(team)
    session.flush()
    _add_member(session, campaign, team, buyer_id, method, provider, now)
    return team


def join_team(
    session: Session,
    principal: Principal,
    team_ref: str,
    method: str,
    provider: PaymentProvider,
    now: dt.datetime,
) -> GroupTeam:
    """Join an open team; the member who fills it completes it, capturing every member's payment."""
    buyer_id = _buyer(principal)
    team = get_team(session, team_ref, for_update=True)  # joiners of one team queue here
    if team.status != "open" or now >= team.deadline:
        raise Conflict(
            f"the team is {team.status if team.status != 'open' else 'past its deadline'}", code="team-closed"
        )
    campaign = session.get(GroupBuy, team.group_buy_id)
    assert campaign is not None
    if team.members >= campaign.team_size:
        raise Conflict("the team is full", code="team-closed")
    already = session.scalar(
        select(_member.id).where(_member.team_id == team.id, _member.buyer_id == buyer_id)
    )
    if already is not None:
        raise Conflict("you are already in this team", code="already-member")
    _add_member(session, campaign, team, buyer_id, method, provider, now)
    if team.members == campaign.team_size:
        _complete(session, campaign, team, now)
    return team


def _buyer(principal: Principal) -> int:
    if principal.role != "buyer" or principal.buyer_id is None:
        raise Forbidden("this needs a buyer key")
    return principal.buyer_id


def _add_member(
    session: Session,
    campaign: GroupBuy,
    team: GroupTeam,
    buyer_id: int,
    method: str,
    provider: PaymentProvider,
    now: dt.datetime,
) -> None:
    taken = session.execute(
        update(GROUP_BUYS)
        .where(_buy.id == campaign.id, _buy.held + _buy.sold < _buy.stock)
        .values(held=_buy.held + 1)
    ).rowcount  # type: ignore[attr-defined]
    if taken != 1:
        raise InsufficientStock("every unit of the group buy is taken by teams")
    member = GroupMember(
        public_id=new_id("gm"),
        team_id=team.id,
        buyer_id=buyer_id,
        amount_minor=campaign.team_price_minor,
        payment_id=new_id("gpay"),
        payment_status="authorized",
        joined_at=now,
    )
    _authorise(provider, member, campaign.currency, method)
    session.add(member)
    team.members += 1
    session.flush()


def _authorise(provider: PaymentProvider, member: GroupMember, currency: str, method: str) -> None:
    """Ask the provider to hold the amount; a decline raises, and the transaction changes nothing."""
    request = PaymentRequest(member.payment_id, member.public_id, member.amount_minor, currency, method)
    answer = json.loads(provider.authorize(request).body)
    if answer.get("type") != "payment.succeeded":
        raise PaymentDeclined(str(answer.get("reason") or "declined"))


def _complete(session: Session, campaign: GroupBuy, team: GroupTeam, now: dt.datetime) -> None:
    captured = session.execute(
        update(MEMBERS)
        .where(_member.team_id == team.id, _member.payment_status == "authorized")
        .values(payment_status="captured", settled_at=now)
        .returning(_member.payment_id, _member.amount_minor)
    ).all()
    session.execute(
        update(GROUP_BUYS)
        .where(_buy.id == campaign.id)
        .values(held=_buy.held - team.members, sold=_buy.sold + team.members)
    )
    team.status, team.settled_at = "completed", now
    payloads = [(pid, {"amount_minor": amount, "currency": campaign.currency}) for pid, amount in captured]
    record_events(session, CAPTURE, payloads, now)
    record_events(session, "group_team.completed", [(team.public_id, {"members": team.members})], now)
    session.flush()


def fail_overdue_teams(session: Session, now: dt.datetime, batch: int = 200) -> int:
    """Teams still short at their deadline fail: every member's authorisation is released and the
    units go back. SKIP LOCKED leaves a team someone is joining right now to the next round."""
    teams = session.scalars(
        select(GroupTeam)
        .where(GroupTeam.status == "open", GroupTeam.deadline <= now)
        .order_by(GroupTeam.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all()
    for team in teams:
        released = (
            session.execute(
                update(MEMBERS)
                .where(_member.team_id == team.id, _member.payment_status == "authorized")
                .values(payment_status="released", settled_at=now)
                .returning(_member.payment_id)
            )
            .scalars()
            .all()
        )
        session.execute(
            update(GROUP_BUYS).where(_buy.id == team.group_buy_id).values(held=_buy.held - team.members)
        )
        team.status, team.settled_at = "failed", now
        record_events(session, RELEASE, [(pid, {}) for pid in released], now)
        record_events(session, "group_team.failed", [(team.public_id, {"members": team.members})], now)
    session.flush()
    return len(teams)


def members_of(session: Session, team: GroupTeam) -> list[GroupMember]:
    return list(
        session.scalars(select(GroupMember).where(GroupMember.team_id == team.id).order_by(GroupMember.id))
    )


def close_ended(session: Session, now: dt.datetime) -> int:
    """Campaigns past their end with no team still filling: units sold leave the warehouse, the rest
    go back on sale."""
    ended = session.scalars(
        select(GroupBuy)
        .where(GroupBuy.closed_at.is_(None), GroupBuy.ends_at <= now, GroupBuy.held == 0)
        .with_for_update(skip_locked=True)
    ).all()
    for campaign in ended:
        hot_stock.settle_sale(
            session, campaign.public_id, campaign.sku_id, campaign.warehouse_id, campaign.sold, now
        )
        campaign.closed_at = now
    session.flush()
    return len(ended)


def payment_status_of(session: Session, team_id: int, buyer_id: int | None) -> str | None:
    """The payment status of this buyer's place in the team; None when the buyer is not in it."""
    return session.scalar(
        select(GroupMember.payment_status).where(
            GroupMember.team_id == team_id, GroupMember.buyer_id == buyer_id
        )
    )
