"""What every storefront page shares: the shop a path names (a marketplace's market), its layout and
formats, the buyer's cart of that market (its id kept in a cookie of the shop's path), and how a refusal
is shown (in the shop's layout, with the status the API answers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import jinja2
from fastapi import Path, Request
from fastapi.templating import Jinja2Templates
from jinja2.runtime import Context
from sqlalchemy.orm import Session
from starlette.responses import Response

from entrepot.identity.sessions import SignedIn
from entrepot.kernel.errors import DomainError, NotFound
from entrepot.ordering import carts
from entrepot.ordering.models import Cart
from entrepot.organization import service as organization
from entrepot.organization.service import MarketView
from entrepot.platform.problems import PROBLEM_BASE
from entrepot.web.locale import MarketFormat
from entrepot.web.routing import ConsoleRoute
from entrepot.web.shop import words
from entrepot.web.templating import HERE, templates, viewer_of

CART_COOKIE = "entrepot_cart"
PAGE_SIZE = 12  # products a page: a phone's few screens
Marketplace = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="`lazada`")]
MarketPart = Annotated[str, Path(pattern=r"^[a-z]{2}$", description="the market's country, `sg`")]

env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    extensions=["jinja2.ext.i18n"],
)


# The market's catalogue comes with each page (`translations`), not installed on the environment: two
# requests in two markets render at the same time. Jinja's "new style" wrappers around these give
# `_("%(n)s in stock", n=...)` and `{% trans %}` their placeholders and autoescaping.
@jinja2.pass_context
def _gettext(context: Context, message: str) -> str:
    found: str = context["translations"].gettext(message)
    return found


@jinja2.pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    found: str = context["translations"].ngettext(singular, plural, n)
    return found


env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
env.filters.update(templates.env.filters)
env.globals.update(
    order_status=words.ORDER_STATUS,
    order_event=words.ORDER_EVENT,
    payment_status=words.PAYMENT_STATUS,
    scan_words=words.SCAN,
    team_status=words.TEAM_STATUS,
)
shop_templates = Jinja2Templates(env=env)


@dataclass(frozen=True)
class Shop:
    """A marketplace's market as a storefront: `/shop/lazada/sg`."""

    marketplace: str
    market: MarketView

    @property
    def path(self) -> str:
        return f"/shop/{self.marketplace}/{self.market.country.lower()}"

    @property
    def format(self) -> MarketFormat:
        return MarketFormat(self.market.locale, self.market.currency, self.market.time_zone)


def open_shop(session: Session, marketplace: str, market: str) -> Shop:
    """The shop of `/shop/{marketplace}/{market}`; 404 when the marketplace sells in no such market."""
    try:
        found = organization.get_market(session, f"{marketplace}-{market}")
    except NotFound:
        raise NotFound(f"{marketplace} has no shop in {market.upper()}") from None
    return Shop(marketplace, found)


def render_shop(
    request: Request, name: str, shop: Shop | None, status: int = 200, cart_count: int = 0, **context: Any
) -> Response:
    """A storefront page in the market's language and formats; never cached (a buyer's own data)."""
    fmt = shop.format if shop else MarketFormat("en", "USD", "UTC")
    context.update(
        viewer=viewer_of(request),
        shop=shop,
        fmt=fmt,
        cart_count=cart_count,
        path=request.url.path,
        translations=fmt.translations(),
    )
    response = shop_templates.TemplateResponse(request, name, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def shop_error(request: Request, status: int, title: str, detail: str, code: str) -> Response:
    return render_shop(
        request, "shop_error.html", None, status, title=title, detail=detail, type=PROBLEM_BASE + code
    )


class ShopRoute(ConsoleRoute):
    """As routing.ConsoleRoute (no session: the sign-in page; a service's refusal: its status), in the
    shop's layout."""

    error_page = staticmethod(shop_error)


# The buyer's cart in a shop: its id in a cookie scoped to the shop's path, so each market keeps its own.
# The cart service decides whose it is: a cart id of another buyer (a shared computer) is not found.


def current_cart(session: Session, request: Request, viewer: SignedIn, open_only: bool = True) -> Cart | None:
    """The buyer's open cart in this shop, if the cookie names one (or the cart it names, checked out
    or not, for a checkout sent twice: the cart service replays its order for the same key)."""
    cart_id = request.cookies.get(CART_COOKIE)
    if not cart_id or viewer.principal.role != "buyer" or len(cart_id) > 64:
        return None
    try:
        cart = carts.get_cart(session, viewer.principal, cart_id)
    except DomainError:
        return None
    return cart if cart.status == "open" or not open_only else None


def items_in(session: Session, cart: Cart | None) -> int:
    return sum(quantity for _, quantity in carts.cart_lines(session, cart)) if cart else 0


def keep_cart(request: Request, response: Response, shop: Shop, cart: Cart) -> None:
    response.set_cookie(
        CART_COOKIE,
        cart.public_id,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path=shop.path,
    )


def forget_cart(request: Request, response: Response, shop: Shop) -> None:
    response.delete_cookie(
        CART_COOKIE, path=shop.path, httponly=True, samesite="lax", secure=request.url.scheme == "https"
    )
