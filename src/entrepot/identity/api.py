"""Routes of identity: buyers and API keys (operators only), and who am I."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from entrepot.identity import service
from entrepot.identity.schemas import ApiKeyIn, ApiKeyOut, BuyerIn, BuyerOut
from entrepot.platform.deps import Caller, Ctx, Operator
from entrepot.platform.schemas import IdPath

router = APIRouter(tags=["identity"])


class WhoAmI(BaseModel):
    role: str
    key: str
    seller: str | None
    buyer: str | None


@router.get("/me", response_model=WhoAmI)
def me(principal: Caller) -> WhoAmI:
    return WhoAmI(
        role=principal.role,
        key=principal.key_id,
        seller=principal.seller_public_id,
        buyer=principal.buyer_public_id,
    )


@router.post("/buyers", status_code=201, response_model=BuyerOut)
def create_buyer(body: BuyerIn, ctx: Ctx, _: Operator) -> BuyerOut:
    with ctx.db.transaction() as session:
        buyer = service.create_buyer(
            session, body.name, body.country.upper(), ctx.clock(), body.latitude, body.longitude
        )
        return BuyerOut(id=buyer.public_id, name=buyer.name, country=buyer.country)


@router.post("/api-keys", status_code=201, response_model=ApiKeyOut)
def create_key(body: ApiKeyIn, ctx: Ctx, _: Operator) -> ApiKeyOut:
    with ctx.db.transaction() as session:
        key, plaintext = service.create_api_key(
            session, body.role, body.name, ctx.clock(), body.seller, body.buyer, body.carrier, ctx.carriers
        )
        return ApiKeyOut(id=key.public_id, role=key.role, name=key.name, carrier=key.carrier, key=plaintext)


@router.delete("/api-keys/{key_id}", status_code=204)
def revoke_key(key_id: IdPath, ctx: Ctx, _: Operator) -> None:
    with ctx.db.transaction() as session:
        service.revoke_api_key(session, key_id, ctx.clock())
