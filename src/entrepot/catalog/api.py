"""Routes of the catalog: sellers, products and SKUs, prices, commissions, CSV import, browsing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from entrepot.catalog import service
from entrepot.catalog.domain import ProductSpec, SkuSpec
from entrepot.catalog.models import Product, Seller, Sku
from entrepot.catalog.schemas import (
    CommissionIn,
    PriceIn,
    PriceOut,
    ProductIn,
    ProductOut,
    SellerIn,
    SellerOut,
    SkuOut,
)
from entrepot.organization import service as organization
from entrepot.platform.deps import Caller, Ctx, Operator, Paging, next_cursor
from entrepot.platform.schemas import CodePath, CodeQuery, IdPath, IdQuery, ListPage, Text

router = APIRouter(tags=["catalog"])


def seller_out(session: Session, seller: Seller) -> SellerOut:
    codes = organization.unit_codes(session, service.seller_marketplace_ids(session, seller.id))
    return SellerOut(
        id=seller.public_id, name=seller.name, country=seller.country, marketplaces=sorted(codes.values())
    )


@router.post("/sellers", status_code=201, response_model=SellerOut)
def create_seller(body: SellerIn, ctx: Ctx, _: Operator) -> SellerOut:
    with ctx.db.transaction() as session:
        seller = service.create_seller(
            session, body.name, body.country.upper(), body.marketplaces, ctx.clock()
        )
        return seller_out(session, seller)


@router.get("/sellers", response_model=ListPage[SellerOut])
def list_sellers(
    ctx: Ctx,
    _: Operator,
    paging: Paging,
    q: Annotated[Text | None, Query(max_length=200, description="part of the name, in any case")] = None,
) -> ListPage[SellerOut]:
    with ctx.db.transaction() as session:
        sellers = service.list_sellers(session, paging.after, paging.limit, (q or "").strip() or None)
        marketplaces = service.sellers_marketplace_ids(session, [s.id for s in sellers])
        codes = organization.unit_codes(session, set().union(*marketplaces.values()))
        items = [
            SellerOut(
                id=s.public_id,
                name=s.name,
                country=s.country,
                marketplaces=sorted(codes[unit_id] for unit_id in marketplaces[s.id]),
            )
            for s in sellers
        ]
        return ListPage(items=items, next_cursor=next_cursor([s.id for s in sellers], paging.limit))


@router.get("/sellers/{seller_id}", response_model=SellerOut)
def get_seller(seller_id: IdPath, ctx: Ctx, principal: Caller) -> SellerOut:
    with ctx.db.transaction() as session:
        return seller_out(session, service.visible_seller(session, principal, seller_id))


def product_out(product: Product, seller: str, skus: list[Sku]) -> ProductOut:
    return ProductOut(
        id=product.public_id,
        seller=seller,
        ref=product.ref,
        title=product.title,
        category=product.category,
        hs_code=product.hs_code,
        origin_country=product.origin_country,
        skus=[
            SkuOut(
                id=s.public_id,
                code=s.code,
                weight_g=s.weight_g,
                length_mm=s.length_mm,
                width_mm=s.width_mm,
                height_mm=s.height_mm,
            )
            for s in skus
        ],
    )


@router.post("/products", status_code=201, response_model=ProductOut)
def create_product(body: ProductIn, ctx: Ctx, principal: Caller) -> ProductOut:
    spec = ProductSpec(body.ref, body.title, body.category, body.hs_code, body.origin_country.upper())
    skus = [SkuSpec(s.code, s.weight_g, s.length_mm, s.width_mm, s.height_mm) for s in body.skus]
    with ctx.db.transaction() as session:
        seller = service.acting_seller(session, principal, body.seller)
        product = service.create_product(session, seller, spec, skus, ctx.clock())
        return product_out(product, seller.public_id, service.product_skus(session, [product.id])[product.id])


@router.get("/products", response_model=ListPage[ProductOut])
def list_products(
    ctx: Ctx, principal: Caller, paging: Paging, category: CodeQuery = None, seller: IdQuery = None
) -> ListPage[ProductOut]:
    scope = service.seller_scope(principal)
    with ctx.db.transaction() as session:
        if scope is None and seller:
            scope = service.get_seller(session, seller).id
        rows = service.list_products(session, scope, paging.after, paging.limit, category)
        skus = service.product_skus(session, [p.id for p, _ in rows])
        return ListPage(
            items=[product_out(p, s, skus[p.id]) for p, s in rows],
            next_cursor=next_cursor([p.id for p, _ in rows], paging.limit),
        )


@router.get("/products/{product_id}", response_model=ProductOut)
def get_product(product_id: IdPath, ctx: Ctx, principal: Caller) -> ProductOut:
    scope = service.seller_scope(principal)
    with ctx.db.transaction() as session:
        product, seller = service.get_product(session, product_id, scope)
        return product_out(product, seller, service.product_skus(session, [product.id])[product.id])


@router.put("/skus/{sku_id}/prices/{market}", response_model=PriceOut)
def set_price(sku_id: IdPath, market: CodePath, body: PriceIn, ctx: Ctx, principal: Caller) -> PriceOut:
    scope = service.seller_scope(principal)
    with ctx.db.transaction() as session:
        sku = service.get_sku(session, sku_id, scope)
        price = service.set_price(session, sku, market, body.amount_minor, body.currency)
        return PriceOut(
            sku=sku.public_id, market=market, amount_minor=price.amount_minor, currency=price.currency
        )


@router.put("/commissions", status_code=204)
def set_commission(body: CommissionIn, ctx: Ctx, _: Operator) -> None:
    with ctx.db.transaction() as session:
        service.set_commission(session, body.business_unit, body.category, body.rate)
