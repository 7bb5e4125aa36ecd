"""API shapes of outbound webhooks. A secret appears in exactly two answers: the subscription's creation
and its rotation (`SecretOut`); nothing else carries it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from entrepot.integrations.domain import EVENT_TYPES
from entrepot.platform.schemas import Moment, Request, Text, one_of

EventType = Annotated[
    Text, Field(max_length=64, examples=["order.paid"], json_schema_extra=one_of(*sorted(EVENT_TYPES)))
]
# What domain.check_url takes, as the document can say it: http(s), a host, no user name, no #fragment
# (whether the host is an internal address is the service's to say: a name is resolved when called)
URL_PATTERN = (
    r"^https?://[A-Za-z0-9][^\s/?#@\[\]\u0000-\u001f\u007f-\u009f]*([/?][^\s#\u0000-\u001f\u007f-\u009f]*)?$"
)


class SubscriptionIn(Request):
    url: Annotated[
        Text,
        Field(
            max_length=2000,
            examples=["https://erp.example.com/hooks/entrepot"],
            json_schema_extra={"pattern": URL_PATTERN},  # in place of Text's own (no controls: this has it)
        ),
    ]
    event_types: Annotated[list[EventType], Field(min_length=1, max_length=100)]
    description: Annotated[Text, Field(max_length=200)] = ""


class SubscriptionOut(BaseModel):
    id: str
    url: str
    event_types: list[str]
    description: str
    status: Literal["active", "disabled"]
    seller: str | None = Field(description="the seller whose own events it hears; null: an operator's")
    rotating_until: dt.datetime | None = Field(description="the previous secret also signs until then")
    failing_since: dt.datetime | None
    disabled_at: dt.datetime | None
    disabled_reason: str | None
    created_at: dt.datetime


class SecretOut(SubscriptionOut):
    secret: str = Field(description="whsec_...: shown this once; keep it where your receiver reads it")


class RotateIn(Request):
    overlap_seconds: Annotated[int | None, Field(ge=0, le=30 * 24 * 3600)] = Field(
        default=None, description="how long the old secret still signs (default: the operator's setting)"
    )


class DeliveryOut(BaseModel):
    id: str
    subscription: str
    webhook_id: str = Field(description="the webhook-id header: the same on every attempt and replay")
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    occurred_at: dt.datetime
    next_attempt_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    response_status: int | None
    response_ms: int | None
    response_excerpt: str | None
    last_error: str | None
    delivered_at: dt.datetime | None
    replay_of: str | None
    request_id: str | None = Field(
        description="the X-Request-Id of the request whose change recorded the event (sent as the "
        "entrepot-request-id header); null for changes no request made"
    )


class ReplayRangeIn(Request):
    since: Moment
    until: Moment


class ReplayedOut(BaseModel):
    queued: int
