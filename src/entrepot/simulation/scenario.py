"""The demo group, modelled on the organisation in shared/reference/group-facts.md.

Data only: who sits where (before and after the reorganisation that took effect for the Dec-2021
quarter), the markets with their currency, tax and shipping fees, warehouses in real cities, and the
categories sellers list under. Prices are set in US dollars here and converted to each market's currency.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

# The demo's warehouses and buyers' cities are the places its logistics network is built around: they
# live with the network's tables, and the demo seeds warehouses and buyers there.
from entrepot.logistics.network_tables import BUYER_CITIES as BUYER_CITIES
from entrepot.logistics.network_tables import WAREHOUSES as WAREHOUSES

HISTORY_START = dt.date(2019, 4, 1)
# The Dec-2021 quarter (Oct-Dec 2021) was the first reported under the new structure.
REORGANISATION = dt.date(2021, 10, 1)

GROUP = ("group", "commerce-group", "Commerce group (modelled on Alibaba)", None)
BEFORE = [
    ("segment", "core-commerce", "Core commerce", "commerce-group"),
    ("division", "commerce", "Commerce", "core-commerce"),
    ("division", "logistics", "Logistics", "core-commerce"),
    ("division", "local-services", "Local consumer services", "core-commerce"),
    ("business_unit", "taobao", "Taobao-like marketplace", "commerce"),
    ("business_unit", "tmall", "Tmall-like marketplace", "commerce"),
    ("business_unit", "lazada", "Lazada-like marketplace", "commerce"),
    ("business_unit", "aliexpress", "AliExpress-like cross-border marketplace", "commerce"),
    ("business_unit", "cainiao", "Cainiao-like logistics network", "logistics"),
    ("business_unit", "ele-me", "On-demand delivery", "local-services"),
    ("business_unit", "amap", "Maps", "local-services"),
    # The segments reported beside Core commerce before the reorganisation and after it unchanged.
    ("segment", "cloud", "Cloud", "commerce-group"),
    ("division", "cloud-division", "Cloud", "cloud"),
    ("segment", "digital-media-entertainment", "Digital media and entertainment", "commerce-group"),
    (
        "division",
        "digital-media-entertainment-division",
        "Digital media and entertainment",
        "digital-media-entertainment",
    ),
    ("segment", "innovation-initiatives", "Innovation initiatives and others", "commerce-group"),
    (
        "division",
        "innovation-initiatives-division",
        "Innovation initiatives and others",
        "innovation-initiatives",
    ),
]
AFTER_UNITS = [
    ("segment", "china-commerce", "China commerce", "commerce-group"),
    ("division", "china-commerce-division", "China commerce", "china-commerce"),
    ("segment", "international-commerce", "International commerce", "commerce-group"),
    ("division", "international-commerce-division", "International commerce", "international-commerce"),
    ("segment", "cainiao-segment", "Cainiao", "commerce-group"),
    ("division", "cainiao-division", "Cainiao", "cainiao-segment"),
    ("segment", "local-consumer-services", "Local consumer services", "commerce-group"),
    ("division", "local-consumer-services-division", "Local consumer services", "local-consumer-services"),
]
MOVES = [
    ("taobao", "china-commerce-division"),
    ("tmall", "china-commerce-division"),
    ("lazada", "international-commerce-division"),
    ("aliexpress", "international-commerce-division"),
    ("cainiao", "cainiao-division"),
    ("ele-me", "local-consumer-services-division"),
    ("amap", "local-consumer-services-division"),
]
# Emptied by the moves, closed on the reorganisation's day (divisions before the segment that held them).
CLOSED = ["commerce", "logistics", "local-services", "core-commerce"]


@dataclass(frozen=True)
class MarketData:
    country: str
    currency: str
    locale: str
    time_zone: str
    tax_rate: Decimal
    domestic_fee: Decimal  # major units of the currency
    cross_border_fee: Decimal


CN = MarketData("CN", "CNY", "zh_CN", "Asia/Shanghai", Decimal("0.13"), Decimal("0"), Decimal("30"))
SEA = {
    "SG": MarketData(
        "SG", "SGD", "en_SG", "Asia/Singapore", Decimal("0.09"), Decimal("1.99"), Decimal("3.99")
    ),
    "MY": MarketData(
        "MY", "MYR", "ms_MY", "Asia/Kuala_Lumpur", Decimal("0.10"), Decimal("4.90"), Decimal("9.90")
    ),
    "TH": MarketData("TH", "THB", "th_TH", "Asia/Bangkok", Decimal("0.07"), Decimal("38"), Decimal("79")),
    "VN": MarketData(
        "VN", "VND", "vi_VN", "Asia/Ho_Chi_Minh", Decimal("0.10"), Decimal("16500"), Decimal("39000")
    ),
    "ID": MarketData(
        "ID", "IDR", "id_ID", "Asia/Jakarta", Decimal("0.11"), Decimal("10000"), Decimal("25000")
    ),
    "PH": MarketData("PH", "PHP", "fil_PH", "Asia/Manila", Decimal("0.12"), Decimal("49"), Decimal("99")),
}
FURTHER = {
    "ES": MarketData(
        "ES", "EUR", "es_ES", "Europe/Madrid", Decimal("0.21"), Decimal("2.99"), Decimal("4.99")
    ),
    "FR": MarketData("FR", "EUR", "fr_FR", "Europe/Paris", Decimal("0.20"), Decimal("2.99"), Decimal("4.99")),
    "BR": MarketData(
        "BR", "BRL", "pt_BR", "America/Sao_Paulo", Decimal("0.17"), Decimal("15"), Decimal("25")
    ),
    "SA": MarketData("SA", "SAR", "ar_SA", "Asia/Riyadh", Decimal("0.15"), Decimal("12"), Decimal("19")),
}
MARKETS: dict[str, list[MarketData]] = {
    "taobao": [CN],
    "tmall": [CN],
    "lazada": list(SEA.values()),
    "aliexpress": [*SEA.values(), *FURTHER.values()],
}

# category, HS heading, typical price in USD, typical weight in grams
CATEGORIES = [
    ("phone-accessories", "851762", Decimal("12"), 150),
    ("electronics", "847130", Decimal("180"), 1400),
    ("apparel", "610910", Decimal("15"), 250),
    ("shoes", "640399", Decimal("45"), 900),
    ("beauty", "330499", Decimal("20"), 200),
    ("home", "392410", Decimal("18"), 700),
    ("toys", "950300", Decimal("22"), 500),
    ("sports", "950691", Decimal("35"), 1200),
    ("groceries", "210690", Decimal("8"), 600),
    ("books", "490199", Decimal("14"), 400),
]
COMMISSIONS = {
    "taobao": {"*": Decimal("0.02")},
    "tmall": {"*": Decimal("0.05"), "electronics": Decimal("0.02"), "beauty": Decimal("0.04")},
    "lazada": {"*": Decimal("0.06"), "electronics": Decimal("0.03"), "apparel": Decimal("0.08")},
    "aliexpress": {"*": Decimal("0.08"), "electronics": Decimal("0.05")},
}
# The ECB publishes no VND or SAR rate, so the demo supplies them as operator rates (units per USD).
MANUAL_RATES = {
    # An assumption close to late-2025 levels, not an official rate: load the State Bank of Vietnam's.
    "VND": (Decimal("26300"), "demo assumption, not an official rate"),
    # The riyal has been pegged at 3.75 to the dollar since 1986.
    "SAR": (Decimal("3.75"), "SAMA peg"),
}
