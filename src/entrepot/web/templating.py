"""The console's templates (Jinja2, autoescaped) and the one way a page is rendered."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from entrepot.identity.sessions import SignedIn
from entrepot.kernel.money import Money

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

# Navigation by role: (label, path, roles that see it). A page's own check decides access; this only
# leaves out links that would answer 403.
EVERYONE = frozenset({"operator", "seller", "buyer", "carrier"})
NAV = (
    ("Overview", "/overview", frozenset({"operator"})),
    ("Orders", "/orders", frozenset({"operator", "seller", "buyer"})),
    ("Organisation", "/organisation", EVERYONE),
    ("Markets", "/markets", EVERYONE),
    ("Sellers", "/sellers", frozenset({"operator"})),
    ("Catalog", "/catalog", frozenset({"seller"})),
    ("Inventory", "/inventory", frozenset({"operator", "seller"})),
    ("Peak days", "/peak", frozenset({"operator", "seller"})),
    ("Logistics", "/logistics", frozenset({"operator", "carrier"})),
    ("Shipments", "/logistics/shipments", frozenset({"seller"})),  # a seller's own, not the network
    ("Local services", "/local", frozenset({"operator", "seller"})),
    ("Reporting", "/reporting", frozenset({"operator"})),
    ("Emissions", "/emissions", frozenset({"operator", "seller"})),
    ("API keys", "/api-keys", frozenset({"operator"})),
    ("Users", "/users", frozenset({"operator"})),
    ("Audit trail", "/audit", frozenset({"operator"})),
)


def nav_for(role: str) -> list[tuple[str, str]]:
    return [(label, path) for label, path, roles in NAV if role in roles]


def money(minor: int | None, currency: str) -> str:
    """`1,234.50 SGD`: the currency's own number of decimals (Money), grouped thousands."""
    if minor is None:
        return "-"
    return f"{Money(minor, currency).to_decimal():,f} {currency}"


def when(value: dt.datetime | None) -> str:
    return "-" if value is None else value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def clock(value: dt.datetime | None, zone: str, pattern: str = "%H:%M") -> str:
    """A moment on the clocks of a place (a city's stores and couriers), its zone's abbreviation after:
    `14:05 EET`. The console's other pages say UTC; a dispatcher reads the city's own time."""
    if value is None:
        return "-"
    return value.astimezone(ZoneInfo(zone)).strftime(f"{pattern} %Z")


def percent(value: float | Decimal | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def duration(seconds: int) -> str:
    """`45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`: the two largest units are what a person reads."""
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if days:
        return f"{days} d {hours % 24} h"
    if hours:
        return f"{hours} h {minutes % 60} min"
    return f"{minutes} min" if minutes else f"{seconds} s"


def words(code: str | None) -> str:
    """A status code as words: `return_requested` reads `return requested`."""
    return "" if code is None else code.replace("_", " ").replace("-", " ")


templates.env.filters.update(
    money=money, when=when, clock=clock, percent=percent, words=words, duration=duration
)


def viewer_of(request: Request) -> SignedIn | None:
    viewer: SignedIn | None = getattr(request.state, "viewer", None)
    return viewer


def render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    """A page: the template with who is signed in and their navigation. Never cached: pages show
    private data, and a shared computer's back button must not show it after signing out."""
    viewer = viewer_of(request)
    context.update(
        viewer=viewer,
        nav=nav_for(viewer.principal.role) if viewer else [],
        path=request.url.path,
    )
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response
