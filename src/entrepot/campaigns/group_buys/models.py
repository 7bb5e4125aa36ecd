"""Tables of group buying: a campaign's team price, its teams, and the members' held payments.

A campaign sets units aside from a warehouse like a flash sale. A member's unit is held for their team
while it fills (`held`) and sold when it completes (`sold`); a failed team gives its units back.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from entrepot.campaigns.common import CampaignHeader
from entrepot.platform.db import Base, BigId, UtcDateTime, table_of


class GroupBuy(CampaignHeader, Base):
    __tablename__ = "group_buys"
    team_price_minor: Mapped[int] = mapped_column(BigInteger)
    team_size: Mapped[int] = mapped_column(Integer)
    team_window_seconds: Mapped[int] = mapped_column(Integer)  # a team fails unless full within this
    held: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (
        CheckConstraint("stock > 0 AND team_size >= 2 AND team_window_seconds > 0", name="shape"),
        CheckConstraint("held >= 0 AND sold >= 0", name="counters_non_negative"),
        CheckConstraint("held + sold <= stock", name="never_oversold"),
        CheckConstraint("team_price_minor >= 0", name="price_non_negative"),
        CheckConstraint("ends_at > starts_at", name="window"),
    )


class GroupTeam(Base):
    __tablename__ = "group_teams"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    group_buy_id: Mapped[int] = mapped_column(ForeignKey("group_buys.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    members: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    opened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    settled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (
        CheckConstraint("status IN ('open','completed','failed')", name="status"),
        CheckConstraint("members >= 0", name="members_non_negative"),
        Index("ix_group_teams_status_deadline", "status", "deadline"),
    )


class GroupMember(Base):
    """A buyer in a team, with the payment authorised on joining: captured or released with the team."""

    __tablename__ = "group_members"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("group_teams.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    payment_id: Mapped[str] = mapped_column(String(40), unique=True)
    payment_status: Mapped[str] = mapped_column(String(16))
    joined_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    settled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (
        UniqueConstraint("team_id", "buyer_id"),
        CheckConstraint("payment_status IN ('authorized','captured','released')", name="payment_status"),
    )


GROUP_BUYS = table_of(GroupBuy)
TEAMS = table_of(GroupTeam)
MEMBERS = table_of(GroupMember)
