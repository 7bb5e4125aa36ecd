"""Reference network data: the demo's logistics network, built from reference data that ships with
packages, and synthetic networks of any size for benchmarks. Pure functions: no database, no network.

Real data
    Airports (IATA code, coordinates, time zone, country) come from the `airportsdata` package; country
    codes are checked against `pycountry`. Every other node's time zone is that of the nearest city's
    airport in the same country. Cities, districts, seaports, rail terminals and border crossings are
    placed at approximate centres (to about 0.01 degree) typed in for the demo.

Distances
    By the stated rules of `domain.rule_distance_km` (air great-circle + 95 km, road x 1.25, rail x 1.2,
    sea x 1.3), except for ocean routes from Asia to Europe, the Middle East and Brazil, where the great
    circle crosses continents: those follow named sea waypoints (Malacca, Suez, Gibraltar, the Cape...)
    and add `SEA_ROUTED_DETOUR` for the bends between them. The lane records which rule it used.

Modelling assumptions (not sourced figures; chosen for the right order of magnitude, change freely)
    Speeds, costs, capacities and weight limits per carrier service are in `SERVICES`; handling time per
    node kind in `HANDLING_MINUTES`; last-mile price levels per country in `LAST_MILE_COST_LEVEL`.
    Transit = distance / average speed + a fixed time (taxi and unloading for air, port stay for sea,
    terminal time for rail, loading for trucks, the delivery round for last-mile vans).
    Cost in US cents per parcel = a fixed part + per chargeable kg (a base + a part per 1,000 km), so
    long-haul air costs several dollars a kg, rail about one, sea tens of cents.
    Schedules: passenger-flight belly cargo daily (domestic twice daily, cut-off 2 h; international
    cut-off 3 h), freighters 5 a week within Asia and 2-3 a week long haul, at night (cut-off 4 h);
    sailings weekly (cut-off 24 h, 48 h on ocean routes over 6,000 km); China-Europe and China-Vietnam
    block trains once or twice a week (cut-off 24 h). Weekdays and hours are spread over the week by a
    stable hash of the lane id, so they are the same on every run and every machine.
    Trucks and vans leave whenever a parcel is ready (no schedule). A last-mile lane runs from a
    sortation hub through the delivery station to the buyer's door: its transit includes the round.
    Delivery stations also send pickups (returns) back to their hub, and hubs replenish warehouses, so
    every node can reach every other.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise, permutations

import airportsdata
import pycountry

from entrepot.logistics.domain import (
    ROAD_DETOUR,
    Lane,
    Network,
    Node,
    Schedule,
    great_circle_km,
    rule_distance_km,
)
from entrepot.simulation.scenario import BUYER_CITIES, WAREHOUSES


@dataclass(frozen=True)
class Service:
    """One kind of carrier service: every lane of that service is built from these numbers."""

    mode: str
    vehicle: str  # a key of domain.ESTIMATED_WTW_G_PER_TKM
    carrier: str
    speed_kmh: float  # average over the lane, stops included
    extra_minutes: int  # on top of the moving time (see the module docstring)
    fixed_cents: int  # US cents per parcel
    per_kg_cents: float  # US cents per chargeable kg, whatever the distance...
    per_kg_per_1000_km_cents: float  # ...plus this much per 1,000 km
    max_parcel_kg: float
    capacity_kg: float  # per departure


# Assumptions, not sourced figures (see the module docstring).
SERVICES = {
    # Belly hold of passenger flights: frequent, a little dearer than freighters.
    "belly_short": Service("air", "short_haul", "Airline belly hold", 700, 150, 120, 110, 50, 30, 3_000),
    "belly_long": Service("air", "long_haul", "Airline belly hold", 820, 180, 150, 180, 35, 30, 5_000),
    "freighter_short": Service("air", "short_haul", "Cargo airline", 700, 150, 100, 90, 45, 30, 15_000),
    "freighter_long": Service("air", "long_haul", "Cargo airline", 820, 180, 120, 150, 30, 30, 40_000),
    # About 16 knots (slow steaming); a day in port before the boxes are off the ship.
    "sea_container": Service("sea", "container_ship", "Container line", 30, 1440, 80, 8, 1.5, 2_000, 200_000),
    # China-Europe trains average about 700 km a day with border and gauge changes.
    "block_train": Service(
        "rail", "freight_train", "Block train operator", 30, 1440, 100, 30, 6, 2_000, 60_000
    ),
    # Express line-haul runs with two drivers; groupage waits to fill and stops on the way.
    "road_express": Service("road", "truck", "Express line-haul", 60, 60, 25, 2, 12, 1_000, 8_000),
    "road_groupage": Service("road", "truck", "Groupage trucking", 40, 240, 15, 1, 7, 1_000, 20_000),
    # Vans: the fixed part is scaled by LAST_MILE_COST_LEVEL of the station's country.
    "van_diesel": Service("last_mile", "van_diesel", "Courier", 25, 240, 90, 10, 0, 30, 700),
    "van_electric": Service("last_mile", "van_electric", "EV courier", 25, 240, 95, 10, 0, 30, 500),
    "van_pickup": Service("last_mile", "van_diesel", "Courier", 25, 480, 60, 10, 0, 30, 700),
}
AIR_LONG_HAUL_KM = 3700.0  # DESNZ calls flights over 3,700 km long haul; its emission factors follow that
SEA_ROUTED_DETOUR = 1.02  # bends between waypoints: brings Shanghai-Rotterdam near the usual ~19,500 km
SEA_LONG_CUTOFF_KM = 6000.0  # ocean sailings beyond this close 48 h ahead, shorter ones 24 h
GROUPAGE_MIN_KM = 400.0  # shorter runs have one truck class: consolidating saves too little to offer
BROKERAGE_CENTS = 150  # customs brokerage per parcel when a truck crosses a land border (assumption)
FEEDER_RADIUS_KM = 150.0  # trucks link a gateway or warehouse to every hub this close (and the nearest two)
HUB_LINK_KM = 900.0  # hubs in one road zone but different countries are linked when this close
SECOND_HUB_KM = 40.0  # a station is also served by any other hub this close
DOMESTIC_AIR_MIN_KM = 300.0  # nobody flies parcels shorter than this within a country
HANDLING_MINUTES = {
    "fulfilment_warehouse": 240,  # cross-docking when a parcel passes through
    "sortation_hub": 120,
    "airport": 180,  # screening and build-up, or break-down and import clearance
    "seaport": 720,  # container freight station: stuffing or unstuffing, clearance
    "rail_terminal": 720,
    "customs_point": 360,  # a land border: inspection and release
    "delivery_station": 60,
}
# Relative price of a last-mile delivery by country (1.0 = 90 cents a parcel by diesel van): an assumption.
LAST_MILE_COST_LEVEL = {
    "CN": 0.6, "SG": 1.8, "MY": 0.8, "TH": 0.6, "VN": 0.5, "ID": 0.5, "PH": 0.5,
    "ES": 2.5, "FR": 3.0, "DE": 3.0, "NL": 3.0, "PL": 1.5, "BE": 3.0,
    "SA": 1.5, "AE": 1.5, "BR": 1.2, "MX": 1.0,
}  # fmt: skip
REGIONS = {
    **dict.fromkeys(("CN", "SG", "MY", "TH", "VN", "ID", "PH"), "asia"),
    **dict.fromkeys(("ES", "FR", "DE", "NL", "PL", "BE"), "europe"),
    **dict.fromkeys(("SA", "AE"), "middle_east"),
    **dict.fromkeys(("BR", "MX"), "latin_america"),
}
# Airports with intercontinental services; the Asian "main" ones also have freighters within Asia, and
# the "regional" ones passenger flights to other Asian countries. Others fly domestic only.


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


LONG_HAUL_AIRPORTS = (
    _codes("PVG HGH SZX CAN CGO PEK SIN KUL BKK")  # Asia
    | _codes("MAD BCN CDG LGG FRA LEJ AMS WAW")  # Europe
    | _codes("RUH JED DMM DXB GRU VCP MEX GDL")  # Middle East, Latin America
)
ASIA_MAIN_AIRPORTS = _codes("PVG HGH SZX CAN CGO PEK SIN KUL BKK SGN HAN CGK MNL")
ASIA_REGIONAL_AIRPORTS = ASIA_MAIN_AIRPORTS | _codes(
    "NGB XIY CTU NNG XMN PEN JHB CNX HKT DAD SUB DPS KNO CEB CRK DVO"
)

# Sortation hubs, one per city. zone: hubs in one road zone are linked by truck (islands not joined by
# truck ferries are zones of their own). The airport gives the city its time zone and is its gateway.
CITIES = """
# country city airport zone latitude longitude
CN hangzhou        HGH cn             30.274  120.155
CN yiwu            YIW cn             29.306  120.075
CN ningbo          NGB cn             29.868  121.544
CN shanghai        PVG cn             31.230  121.474
CN shenzhen        SZX cn             22.543  114.058
CN guangzhou       CAN cn             23.129  113.264
CN xiamen          XMN cn             24.480  118.089
CN nanning         NNG cn             22.817  108.366
CN xian            XIY cn             34.341  108.940
CN zhengzhou       CGO cn             34.747  113.625
CN beijing         PEK cn             39.904  116.407
CN chengdu         CTU cn             30.573  104.066
SG jurong          SIN sg              1.333  103.720
SG loyang          SIN sg              1.372  103.967
MY kuala-lumpur    KUL my-peninsula    3.139  101.687
MY shah-alam       KUL my-peninsula    3.073  101.518
MY penang          PEN my-peninsula    5.354  100.400
MY johor-bahru     JHB my-peninsula    1.492  103.741
MY ipoh            IPH my-peninsula    4.597  101.090
MY melaka          MKZ my-peninsula    2.189  102.250
MY kuantan         KUA my-peninsula    3.808  103.326
MY kota-kinabalu   BKI my-sabah        5.980  116.073
MY kuching         KCH my-sarawak      1.553  110.359
TH bangkok         BKK th             13.756  100.502
TH chonburi        UTP th             13.361  100.985
TH chiang-mai      CNX th             18.788   98.985
TH khon-kaen       KKC th             16.432  102.824
TH phuket          HKT th              7.880   98.392
TH hat-yai         HDY th              7.008  100.474
VN ho-chi-minh     SGN vn             10.823  106.630
VN binh-duong      SGN vn             10.980  106.652
VN can-tho         VCA vn             10.045  105.747
VN nha-trang       CXR vn             12.238  109.197
VN da-nang         DAD vn             16.054  108.202
VN hanoi           HAN vn             21.028  105.854
VN hai-phong       HPH vn             20.845  106.688
ID jakarta         CGK id-west        -6.200  106.845
ID bandung         BDO id-west        -6.917  107.619
ID semarang        SRG id-west        -6.967  110.420
ID yogyakarta      YIA id-west        -7.797  110.370
ID surabaya        SUB id-west        -7.257  112.752
ID denpasar        DPS id-west        -8.650  115.216
ID palembang       PLM id-west        -2.976  104.775
ID medan           KNO id-west         3.595   98.672
ID makassar        UPG id-sulawesi    -5.147  119.432
ID balikpapan      BPN id-kalimantan  -1.265  116.831
PH manila          MNL ph-luzon       14.600  120.984
PH valenzuela      MNL ph-luzon       14.700  120.983
PH clark           CRK ph-luzon       15.186  120.560
PH batangas        MNL ph-luzon       13.757  121.058
PH cebu            CEB ph-cebu        10.316  123.885
PH iloilo          ILO ph-panay       10.720  122.562
PH davao           DVO ph-mindanao     7.190  125.455
PH cagayan-de-oro  CGY ph-mindanao     8.477  124.646
ES madrid          MAD eu             40.416   -3.704
ES barcelona       BCN eu             41.385    2.173
ES valencia        VLC eu             39.470   -0.376
ES sevilla         SVQ eu             37.389   -5.984
ES zaragoza        ZAZ eu             41.649   -0.889
FR paris           CDG eu             48.857    2.352
FR lille           LIL eu             50.629    3.057
FR lyon            LYS eu             45.764    4.836
FR marseille       MRS eu             43.297    5.370
FR toulouse        TLS eu             43.605    1.444
FR bordeaux        BOD eu             44.838   -0.579
BE liege           LGG eu             50.633    5.567
NL amsterdam       AMS eu             52.368    4.904
NL rotterdam       RTM eu             51.924    4.478
NL eindhoven       EIN eu             51.441    5.470
DE frankfurt       FRA eu             50.110    8.682
DE cologne         CGN eu             50.938    6.960
DE duisburg        DUS eu             51.434    6.762
DE hamburg         HAM eu             53.551    9.994
DE berlin          BER eu             52.520   13.405
DE leipzig         LEJ eu             51.340   12.375
DE munich          MUC eu             48.137   11.576
PL warsaw          WAW eu             52.230   21.012
PL lodz            LCJ eu             51.759   19.456
PL poznan          POZ eu             52.406   16.925
PL wroclaw         WRO eu             51.108   17.039
PL krakow          KRK eu             50.065   19.945
PL gdansk          GDN eu             54.352   18.646
SA riyadh          RUH sa             24.713   46.675
SA jeddah          JED sa             21.485   39.193
SA dammam          DMM sa             26.420   50.089
AE dubai           DXB ae             25.205   55.271
AE abu-dhabi       AUH ae             24.454   54.377
AE sharjah         SHJ ae             25.346   55.421
BR sao-paulo       GRU br            -23.551  -46.633
BR campinas        VCP br            -22.907  -47.063
BR rio-de-janeiro  GIG br            -22.907  -43.173
BR curitiba        CWB br            -25.429  -49.271
BR belo-horizonte  CNF br            -19.917  -43.935
MX mexico-city     MEX mx             19.433  -99.133
MX puebla          PBC mx             19.041  -98.206
MX guadalajara     GDL mx             20.659 -103.349
MX monterrey       MTY mx             25.686 -100.316
"""

# Last-mile delivery stations: served from their city's hub. vans: d = diesel, de = diesel and electric.
STATIONS = """
# country city station latitude longitude vans
CN hangzhou       hangzhou-xihu       30.259  120.130 de
CN hangzhou       hangzhou-binjiang   30.208  120.211 de
CN shanghai       shanghai-pudong     31.221  121.544 de
CN shanghai       shanghai-minhang    31.113  121.382 d
CN shanghai       shanghai-jingan     31.229  121.448 de
CN beijing        beijing-chaoyang    39.921  116.443 de
CN beijing        beijing-haidian     39.959  116.298 d
CN chengdu        chengdu-jinjiang    30.657  104.081 d
CN chengdu        chengdu-wuhou       30.642  104.043 d
CN shenzhen       shenzhen-nanshan    22.533  113.930 de
CN shenzhen       shenzhen-futian     22.541  114.055 de
CN shenzhen       shenzhen-longgang   22.720  114.247 d
CN guangzhou      guangzhou-tianhe    23.125  113.361 d
CN guangzhou      guangzhou-baiyun    23.158  113.273 d
CN xian           xian-yanta          34.219  108.964 d
CN zhengzhou      zhengzhou-jinshui   34.776  113.686 d
SG loyang         tampines             1.353  103.945 de
SG jurong         jurong-east          1.333  103.742 de
SG jurong         woodlands            1.436  103.786 d
SG loyang         ang-mo-kio           1.369  103.849 de
SG loyang         bedok                1.324  103.930 d
SG loyang         toa-payoh            1.334  103.856 de
SG loyang         punggol              1.405  103.902 de
SG jurong         bukit-merah          1.282  103.823 d
SG jurong         clementi             1.315  103.765 d
SG jurong         yishun               1.429  103.835 d
SG loyang         sengkang             1.392  103.895 de
SG jurong         queenstown           1.294  103.786 d
MY kuala-lumpur   bangsar              3.130  101.671 de
MY kuala-lumpur   cheras               3.090  101.740 d
MY kuala-lumpur   ampang               3.150  101.760 d
MY kuala-lumpur   kepong               3.212  101.636 d
MY shah-alam      petaling-jaya        3.107  101.607 de
MY shah-alam      subang-jaya          3.050  101.580 d
MY shah-alam      klang                3.044  101.446 d
MY shah-alam      puchong              3.024  101.618 d
MY penang         george-town          5.414  100.329 d
MY penang         bayan-lepas          5.297  100.266 d
MY penang         butterworth          5.399  100.363 d
MY johor-bahru    johor-bahru          1.462  103.761 d
MY johor-bahru    skudai               1.535  103.657 d
MY johor-bahru    pasir-gudang         1.471  103.903 d
MY ipoh           ipoh                 4.597  101.090 d
MY melaka         melaka               2.196  102.248 d
MY kuantan        kuantan              3.808  103.326 d
MY kota-kinabalu  kota-kinabalu        5.980  116.073 d
MY kuching        kuching              1.553  110.359 d
TH bangkok        bang-na             13.668  100.604 de
TH bangkok        chatuchak           13.828  100.560 de
TH bangkok        khlong-toei         13.722  100.558 de
TH bangkok        bang-kapi           13.766  100.647 d
TH bangkok        thon-buri           13.725  100.486 d
TH bangkok        nonthaburi          13.862  100.514 d
TH bangkok        samut-prakan        13.599  100.597 d
TH bangkok        lat-phrao           13.806  100.607 d
TH chiang-mai     chiang-mai          18.788   98.985 d
TH chonburi       pattaya             12.927  100.877 d
TH chonburi       si-racha            13.174  100.931 d
TH khon-kaen      khon-kaen           16.432  102.824 d
TH phuket         phuket               7.880   98.392 d
TH hat-yai        hat-yai              7.008  100.474 d
VN ho-chi-minh    district-1          10.776  106.701 de
VN ho-chi-minh    tan-binh            10.801  106.653 d
VN ho-chi-minh    thu-duc             10.850  106.772 d
VN ho-chi-minh    binh-thanh          10.811  106.709 d
VN ho-chi-minh    district-7          10.734  106.722 de
VN ho-chi-minh    go-vap              10.838  106.665 d
VN binh-duong     thu-dau-mot         10.980  106.652 d
VN hanoi          hoan-kiem           21.029  105.852 de
VN hanoi          cau-giay            21.036  105.790 de
VN hanoi          long-bien           21.047  105.888 d
VN hanoi          ha-dong             20.972  105.777 d
VN hai-phong      hai-phong           20.845  106.688 d
VN da-nang        hai-chau            16.060  108.221 d
VN can-tho        ninh-kieu           10.033  105.784 d
VN nha-trang      nha-trang           12.238  109.197 d
ID jakarta        jakarta-pusat       -6.186  106.834 de
ID jakarta        jakarta-selatan     -6.261  106.810 de
ID jakarta        jakarta-barat       -6.168  106.759 d
ID jakarta        jakarta-timur       -6.225  106.900 d
ID jakarta        jakarta-utara       -6.138  106.864 d
ID jakarta        bekasi              -6.238  106.975 d
ID jakarta        tangerang           -6.178  106.630 d
ID jakarta        depok               -6.402  106.794 d
ID jakarta        bogor               -6.595  106.816 d
ID bandung        bandung             -6.917  107.619 d
ID semarang       semarang            -6.967  110.420 d
ID yogyakarta     yogyakarta          -7.797  110.370 d
ID surabaya       surabaya            -7.257  112.752 d
ID surabaya       sidoarjo            -7.447  112.718 d
ID medan          medan                3.595   98.672 d
ID palembang      palembang           -2.976  104.775 d
ID denpasar       denpasar            -8.650  115.216 de
ID makassar       makassar            -5.147  119.432 d
ID balikpapan     balikpapan          -1.265  116.831 d
PH manila         makati              14.554  121.024 de
PH manila         bgc-taguig          14.551  121.050 de
PH manila         pasig               14.576  121.085 d
PH manila         manila-city         14.599  120.984 d
PH manila         paranaque           14.479  121.020 d
PH manila         pasay               14.538  121.000 d
PH valenzuela     quezon-city         14.676  121.044 d
PH valenzuela     caloocan            14.651  120.967 d
PH valenzuela     valenzuela          14.700  120.983 d
PH clark          angeles             15.145  120.585 d
PH batangas       batangas            13.757  121.058 d
PH cebu           cebu-city           10.316  123.885 d
PH cebu           mandaue             10.333  123.932 d
PH cebu           lapu-lapu           10.310  123.949 d
PH iloilo         iloilo              10.720  122.562 d
PH davao          davao                7.190  125.455 d
PH cagayan-de-oro cagayan-de-oro       8.477  124.646 d
ES madrid         madrid-centro       40.416   -3.704 de
ES madrid         madrid-chamartin    40.462   -3.677 de
ES madrid         getafe              40.305   -3.732 d
ES madrid         alcala              40.482   -3.364 d
ES barcelona      barcelona-eixample  41.389    2.162 de
ES barcelona      hospitalet          41.360    2.100 d
ES barcelona      badalona            41.450    2.247 d
ES valencia       valencia            39.470   -0.376 d
ES sevilla        sevilla             37.389   -5.984 d
ES zaragoza       zaragoza            41.649   -0.889 d
FR paris          paris-centre        48.857    2.352 de
FR paris          saint-denis         48.936    2.357 d
FR paris          boulogne            48.835    2.240 de
FR paris          creteil             48.790    2.455 d
FR lyon           lyon                45.764    4.836 de
FR marseille      marseille           43.297    5.370 d
FR lille          lille               50.629    3.057 d
FR toulouse       toulouse            43.605    1.444 d
FR bordeaux       bordeaux            44.838   -0.579 d
DE berlin         berlin-mitte        52.520   13.405 de
DE berlin         berlin-spandau      52.536   13.200 d
DE hamburg        hamburg             53.551    9.994 de
DE munich         munich              48.137   11.576 de
DE frankfurt      frankfurt           50.110    8.682 d
DE cologne        cologne             50.938    6.960 d
DE leipzig        leipzig             51.340   12.375 d
NL amsterdam      amsterdam           52.368    4.904 de
NL amsterdam      utrecht             52.091    5.122 de
NL rotterdam      rotterdam           51.924    4.478 de
NL eindhoven      eindhoven           51.441    5.470 d
PL warsaw         warsaw-srodmiescie  52.230   21.012 d
PL warsaw         warsaw-praga        52.254   21.035 d
PL krakow         krakow              50.065   19.945 d
PL lodz           lodz                51.759   19.456 d
PL poznan         poznan              52.406   16.925 d
PL gdansk         gdansk              54.352   18.646 d
PL wroclaw        wroclaw             51.108   17.039 d
SA riyadh         riyadh-olaya        24.694   46.685 d
SA riyadh         riyadh-malaz        24.665   46.733 d
SA riyadh         riyadh-nakheel      24.770   46.640 d
SA jeddah         jeddah-balad        21.485   39.187 d
SA jeddah         jeddah-rawdah       21.560   39.150 d
SA dammam         dammam              26.420   50.089 d
SA dammam         al-khobar           26.279   50.208 d
AE dubai          deira               25.271   55.305 de
AE dubai          al-barsha           25.113   55.200 de
AE abu-dhabi      abu-dhabi           24.454   54.377 d
AE sharjah        sharjah             25.346   55.421 d
BR sao-paulo      sao-paulo-centro   -23.551  -46.633 d
BR sao-paulo      pinheiros          -23.567  -46.702 d
BR sao-paulo      santo-amaro        -23.654  -46.710 d
BR sao-paulo      guarulhos          -23.454  -46.533 d
BR campinas       campinas           -22.907  -47.063 d
BR rio-de-janeiro rio-centro         -22.907  -43.173 d
BR rio-de-janeiro barra-da-tijuca    -23.000  -43.365 d
BR curitiba       curitiba           -25.429  -49.271 d
BR belo-horizonte belo-horizonte     -19.917  -43.935 d
MX mexico-city    cuauhtemoc          19.433  -99.133 d
MX mexico-city    coyoacan            19.350  -99.162 d
MX mexico-city    ecatepec            19.601  -99.050 d
MX guadalajara    guadalajara         20.659 -103.349 d
MX monterrey      monterrey           25.686 -100.316 d
MX puebla         puebla              19.041  -98.206 d
"""

# Container ports. tier: long_haul (ocean services to other continents), regional (international within
# Asia) or coastal (domestic only). exit: how ships from an Asian port reach the Indian Ocean, e = through
# the Singapore Strait, w = straight up the Malacca Strait. route: the ocean route from Asia to a port
# elsewhere (a key of OCEAN_ROUTES), then any waypoints of its approach, comma-separated.
PORTS = """
# country port latitude longitude tier exit route
CN ningbo            29.935  121.847 long_haul e -
CN shanghai          30.625  122.065 long_haul e -
CN shenzhen-yantian  22.575  114.275 long_haul e -
CN guangzhou-nansha  22.755  113.640 long_haul e -
SG pasir-panjang      1.268  103.775 long_haul w -
MY port-klang         2.999  101.392 long_haul w -
MY tanjung-pelepas    1.363  103.548 regional  w -
MY kota-kinabalu      6.080  116.120 coastal   e -
MY kuching            1.570  110.430 coastal   e -
TH laem-chabang      13.083  100.883 long_haul e -
VN cat-lai           10.759  106.792 long_haul e -
VN hai-phong         20.836  106.747 regional  e -
VN da-nang           16.120  108.210 coastal   e -
ID tanjung-priok     -6.104  106.882 long_haul e -
ID tanjung-perak     -7.198  112.733 regional  e -
ID belawan            3.786   98.690 regional  w -
ID makassar          -5.133  119.407 coastal   e -
ID balikpapan        -1.270  116.810 coastal   e -
PH manila            14.608  120.953 regional  e -
PH cebu              10.302  123.913 regional  e -
PH iloilo            10.690  122.580 coastal   e -
PH davao              7.120  125.660 coastal   e -
PH cagayan-de-oro     8.500  124.630 coastal   e -
ES algeciras         36.130   -5.440 long_haul - med
ES valencia          39.445   -0.318 long_haul - med
ES barcelona         41.345    2.165 long_haul - med
FR marseille-fos     43.410    4.880 long_haul - med
FR le-havre          49.470    0.150 long_haul - north
NL rotterdam         51.950    4.140 long_haul - north,dover_strait
DE hamburg           53.537    9.935 long_haul - north,dover_strait,german_bight
PL gdansk            54.395   18.680 long_haul - north,dover_strait,skagerrak,kattegat
SA jeddah            21.460   39.160 long_haul - red_sea
SA dammam            26.505   50.200 long_haul - gulf
AE jebel-ali         25.011   55.061 long_haul - gulf
BR santos           -23.960  -46.305 long_haul - cape
MX manzanillo        19.060 -104.305 long_haul - pacific
MX lazaro-cardenas   17.940 -102.180 long_haul - pacific
"""
SEA_WAYPOINTS = {
    "singapore_strait": (1.20, 103.90),
    "malacca_north": (5.80, 97.80),
    "dondra_head": (5.60, 80.60),  # the southern tip of Sri Lanka
    "bab_el_mandeb": (12.60, 43.40),
    "suez": (29.90, 32.55),
    "port_said": (31.30, 32.35),
    "gibraltar": (35.95, -5.60),
    "cape_st_vincent": (36.90, -9.30),
    "cape_finisterre": (43.20, -9.60),
    "ushant": (48.60, -5.40),
    "dover_strait": (51.00, 1.50),
    "german_bight": (54.00, 7.90),
    "skagerrak": (57.90, 9.00),
    "kattegat": (56.50, 11.70),
    "hormuz": (26.50, 56.60),
    "cape_of_good_hope": (-34.60, 18.40),
}
ASIAN_EXITS = {"e": ("singapore_strait", "malacca_north"), "w": ("malacca_north",)}
_SUEZ = ("dondra_head", "bab_el_mandeb", "suez", "port_said")
OCEAN_ROUTES: dict[str, tuple[str, ...]] = {
    "red_sea": ("dondra_head", "bab_el_mandeb"),
    "gulf": ("dondra_head", "hormuz"),
    "med": _SUEZ,
    "north": (*_SUEZ, "gibraltar", "cape_st_vincent", "cape_finisterre", "ushant"),
    "cape": ("cape_of_good_hope",),
    "pacific": (),  # eastwards across the open Pacific: no waypoints, and no Asian strait to pass
}

RAIL_TERMINALS = """
# country terminal latitude longitude
CN yiwu           29.370  120.050
CN xian           34.390  109.070
CN zhengzhou      34.720  113.550
CN nanning        22.800  108.400
VN yen-vien       21.080  105.920
PL malaszewicze   52.030   23.530
PL lodz           51.730   19.560
DE duisburg       51.400    6.750
DE hamburg        53.520   10.020
ES madrid         40.370   -3.660
"""
# Block trains: origin and destination terminal, trains a week outbound and back.
RAIL_SERVICES = """
cn-yiwu       es-madrid        1 1
cn-yiwu       de-duisburg      2 1
cn-xian       pl-malaszewicze  2 1
cn-xian       de-duisburg      2 1
cn-xian       de-hamburg       1 1
cn-zhengzhou  de-hamburg       2 1
cn-zhengzhou  pl-lodz          1 1
cn-nanning    vn-yen-vien      2 2
"""
# Land border crossings and the hubs trucks link through them (both ways): one side | the other side.
BORDERS = """
# country crossing latitude longitude | hubs
VN huu-nghi           21.970  106.700 | cn-nanning | vn-hanoi
SG woodlands           1.445  103.769 | my-johor-bahru | sg-jurong sg-loyang
MY bukit-kayu-hitam    6.510  100.420 | my-penang | th-hat-yai
SA batha              24.060   51.610 | sa-dammam sa-riyadh | ae-abu-dhabi
"""


# --- tables -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    country: str
    name: str
    airport: str
    zone: str
    latitude: float
    longitude: float

    @property
    def hub(self) -> str:
        return f"hub-{self.country.lower()}-{self.name}"


@dataclass(frozen=True)
class Port:
    node: Node
    tier: str
    exit: str
    route: str
    approach: tuple[str, ...]


def _rows(table: str) -> Iterator[list[str]]:
    for line in table.strip().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            yield line.split()


@functools.cache
def cities() -> tuple[City, ...]:
    return tuple(
        City(cc, name, airport, zone, float(lat), float(lon))
        for cc, name, airport, zone, lat, lon in _rows(CITIES)
    )


@functools.cache
def airports() -> dict[str, airportsdata.Airport]:
    """Every airport with an IATA code, from the airportsdata package (read once: about 0.1 s)."""
    return airportsdata.load("IATA")


@functools.cache
def country_name(code: str) -> str:
    """The ISO 3166 name from pycountry; an unknown code is a mistake in the tables, so it raises."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        raise ValueError(f"{code!r} is not an ISO 3166 country code")
    return str(country.name)


def _nearest_city(country: str, latitude: float, longitude: float) -> City:
    candidates = [city for city in cities() if city.country == country]
    if not candidates:
        raise ValueError(f"no city in {country} to attach a node at {latitude}, {longitude} to")
    return min(candidates, key=lambda c: great_circle_km(latitude, longitude, c.latitude, c.longitude))


def _time_zone(city: City) -> str:
    return airports()[city.airport]["tz"]


def _place(code: str, kind: str, country: str, latitude: float, longitude: float) -> Node:
    """A node in a country, in the time zone of the nearest city there."""
    country_name(country)
    city = _nearest_city(country, latitude, longitude)
    return Node(code, kind, country, latitude, longitude, _time_zone(city), HANDLING_MINUTES[kind])


@functools.cache
def _zone(node: Node) -> str:
    return _nearest_city(node.country, node.latitude, node.longitude).zone


def _distance(a: Node, b: Node) -> float:
    return great_circle_km(a.latitude, a.longitude, b.latitude, b.longitude)


# --- lanes --------------------------------------------------------------------------------------------


def _pattern(key: str) -> int:
    """A stable pseudo-random number for a lane (crc32, unlike hash(), is the same in every process)."""
    return zlib.crc32(key.encode())


def _spread_days(per_week: int, start: int) -> list[int]:
    return sorted({(start + i * 7 // per_week) % 7 for i in range(per_week)})


def _at(minutes: int) -> dt.time:
    minutes %= 1440
    return dt.time(minutes // 60, minutes % 60)


@functools.lru_cache(maxsize=4096)
def schedule_for(kind: str, pattern: int, per_week: int = 7) -> Schedule:
    """A weekly timetable of the given kind; `pattern` picks the weekdays and hours."""
    start, slot = pattern % 7, pattern // 7
    if kind == "domestic_belly":  # twice a day: a morning bank 07:00-11:30 and an evening one 9 h later
        first = 420 + slot % 10 * 30
        return Schedule(tuple((d, _at(m)) for d in range(7) for m in (first, first + 540)), 120)
    if kind == "belly":  # daily, 08:00-21:30
        return Schedule(tuple((d, _at(480 + slot % 28 * 30)) for d in range(7)), 180)
    if kind == "freighter":  # at night, 22:00-04:30
        return Schedule(tuple((d, _at(1320 + slot % 14 * 30)) for d in _spread_days(per_week, start)), 240)
    if kind in ("sea", "sea_ocean"):  # weekly, 06:00-17:30
        cutoff = 2880 if kind == "sea_ocean" else 1440
        return Schedule(((start, _at(360 + slot % 24 * 30)),), cutoff)
    if kind == "rail":  # 10:00-15:30
        return Schedule(tuple((d, _at(600 + slot % 12 * 30)) for d in _spread_days(per_week, start)), 1440)
    raise ValueError(f"unknown schedule kind {kind!r}")


def make_lane(
    service_key: str,
    origin: Node,
    destination: Node,
    *,
    schedule: Schedule | None = None,
    distance: tuple[float, str] | None = None,
    extra_fixed_cents: int = 0,
) -> Lane:
    """A lane of a service between two nodes: distance by the stated rule unless given, then transit
    and cost from the service's assumptions."""
    service = SERVICES[service_key]
    km, rule = distance or rule_distance_km(service.mode, origin, destination)
    fixed = service.fixed_cents
    if service.mode == "last_mile":  # priced where the van drives
        station = destination if destination.kind == "delivery_station" else origin
        fixed = round(fixed * LAST_MILE_COST_LEVEL.get(station.country, 1.0))
    return Lane(
        id=f"{origin.code}>{destination.code}:{service_key}",
        origin=origin.code,
        destination=destination.code,
        mode=service.mode,
        vehicle=service.vehicle,
        carrier=service.carrier,
        distance_km=round(km, 1),
        transit_minutes=math.ceil(km / service.speed_kmh * 60) + service.extra_minutes,
        fixed_cost_cents=fixed + extra_fixed_cents,
        per_kg_cents=round(service.per_kg_cents + service.per_kg_per_1000_km_cents * km / 1000),
        max_parcel_kg=service.max_parcel_kg,
        capacity_kg=service.capacity_kg,
        schedule=schedule,
        distance_rule=rule,
    )


TRUCKS = ("road_express", "road_groupage")


def _trucks(origin: Node, destination: Node, extra_fixed_cents: int = 0) -> list[Lane]:
    """Express line-haul always; groupage too when the run is long enough for consolidating to pay."""
    far = _distance(origin, destination) * ROAD_DETOUR >= GROUPAGE_MIN_KM
    services = TRUCKS if far else TRUCKS[:1]
    return [make_lane(key, origin, destination, extra_fixed_cents=extra_fixed_cents) for key in services]


# --- the demo network ---------------------------------------------------------------------------------


def demo_network() -> Network:
    """The demo's network: China, the six Southeast Asian markets, Europe, the Middle East and Latin
    America, at least 200 nodes and 2,000 lanes, every node reachable from every other."""
    network = Network()
    ports = _ports()
    for node in _demo_nodes(ports):
        network.add_node(node)
    for lane in _demo_lanes(network, ports):
        network.add_lane(lane)
    return network


def _demo_nodes(ports: Sequence[Port]) -> Iterator[Node]:
    yield from _airport_nodes()
    for city in cities():
        yield _place(city.hub, "sortation_hub", city.country, city.latitude, city.longitude)
    for code, _city, country, latitude, longitude in WAREHOUSES:
        yield _place(code, "fulfilment_warehouse", country, latitude, longitude)
    yield from _table_nodes(STATIONS, "ds", "delivery_station", name_column=2)
    yield from (port.node for port in ports)
    yield from _table_nodes(RAIL_TERMINALS, "rail", "rail_terminal", name_column=1)
    yield from _table_nodes(BORDERS, "cus", "customs_point", name_column=1)


def _table_nodes(table: str, prefix: str, kind: str, name_column: int) -> Iterator[Node]:
    """Nodes from a table whose rows start with the country and give name, latitude, longitude in a row."""
    for row in _rows(table):
        country, name, latitude, longitude = row[0], *row[name_column : name_column + 3]
        yield _place(f"{prefix}-{country.lower()}-{name}", kind, country, float(latitude), float(longitude))


def _airport_nodes() -> Iterator[Node]:
    for code in sorted({city.airport for city in cities()}):
        airport = airports()[code]
        country_name(airport["country"])
        yield Node(
            f"air-{code}",
            "airport",
            airport["country"],
            airport["lat"],
            airport["lon"],
            airport["tz"],
            HANDLING_MINUTES["airport"],
        )


def _ports() -> tuple[Port, ...]:
    ports = []
    for cc, name, lat, lon, tier, exit_, route in _rows(PORTS):
        node = _place(f"sea-{cc.lower()}-{name}", "seaport", cc, float(lat), float(lon))
        ocean, *approach = route.split(",")
        ports.append(Port(node, tier, exit_, ocean, tuple(approach)))
    return tuple(ports)


def _demo_lanes(network: Network, ports: Sequence[Port]) -> Iterator[Lane]:
    by_kind: dict[str, list[Node]] = {}
    for node in network.nodes.values():
        by_kind.setdefault(node.kind, []).append(node)
    hubs = by_kind["sortation_hub"]
    yield from _hub_lanes(hubs)
    yield from _border_lanes(network)
    for kind in ("airport", "seaport", "rail_terminal"):
        for facility in by_kind[kind]:
            yield from _feeder_lanes(facility, hubs)
    for warehouse in by_kind["fulfilment_warehouse"]:
        yield from _warehouse_lanes(warehouse, hubs, by_kind)
    yield from _last_mile_lanes(network, hubs)
    yield from _air_lanes(by_kind["airport"])
    yield from _sea_lanes(ports)
    yield from _rail_lanes(network)


def _hub_lanes(hubs: Sequence[Node]) -> Iterator[Lane]:
    """Line-haul trucks between the hubs of a road zone: all pairs within a country, and across a
    border inside the zone (the EU's single market) when the hubs are near enough."""
    zones = {hub.code: _zone(hub) for hub in hubs}
    for a, b in permutations(hubs, 2):
        if zones[a.code] != zones[b.code]:
            continue
        if a.country == b.country or _distance(a, b) <= HUB_LINK_KM:
            yield from _trucks(a, b)


def _border_lanes(network: Network) -> Iterator[Lane]:
    """Trucks through a land border crossing; the leg out of it pays the customs brokerage."""
    for row in _rows(BORDERS):
        crossing = network.nodes[f"cus-{row[0].lower()}-{row[1]}"]
        for hub_code in (token for token in row[4:] if token != "|"):
            hub = network.nodes[f"hub-{hub_code}"]
            yield from _trucks(hub, crossing)
            yield from _trucks(crossing, hub, extra_fixed_cents=BROKERAGE_CENTS)


def _near_hubs(node: Node, hubs: Sequence[Node]) -> list[Node]:
    """Hubs of the node's road zone: the nearest two and any within FEEDER_RADIUS_KM."""
    zone = _zone(node)
    ranked = sorted((h for h in hubs if _zone(h) == zone), key=lambda h: _distance(node, h))
    return [h for i, h in enumerate(ranked) if i < 2 or _distance(node, h) <= FEEDER_RADIUS_KM]


def _feeder_lanes(facility: Node, hubs: Sequence[Node]) -> Iterator[Lane]:
    for hub in _near_hubs(facility, hubs):
        yield make_lane("road_express", hub, facility)
        yield make_lane("road_express", facility, hub)


def _warehouse_lanes(warehouse: Node, hubs: Sequence[Node], by_kind: dict[str, list[Node]]) -> Iterator[Lane]:
    """Out to nearby hubs and straight to nearby gateways; replenished from the nearest hub."""
    near = _near_hubs(warehouse, hubs)
    for hub in near:
        yield from _trucks(warehouse, hub)
    yield make_lane("road_groupage", near[0], warehouse)
    zone = _zone(warehouse)
    for kind in ("airport", "seaport", "rail_terminal"):
        for gateway in by_kind[kind]:
            if _zone(gateway) == zone and _distance(warehouse, gateway) <= FEEDER_RADIUS_KM:
                yield make_lane("road_express", warehouse, gateway)


def _last_mile_lanes(network: Network, hubs: Sequence[Node]) -> Iterator[Lane]:
    for cc, city, name, _lat, _lon, vans in _rows(STATIONS):
        station = network.nodes[f"ds-{cc.lower()}-{name}"]
        home = network.nodes[f"hub-{cc.lower()}-{city}"]
        yield make_lane("van_diesel", home, station)
        if "e" in vans:
            yield make_lane("van_electric", home, station)
        yield make_lane("van_pickup", station, home)
        for other in hubs:
            if other is not home and other.country == cc and _distance(other, station) <= SECOND_HUB_KM:
                yield make_lane("van_diesel", other, station)


# --- air, sea and rail --------------------------------------------------------------------------------


def air_services(a: Node, b: Node) -> list[tuple[str, int]]:
    """The scheduled services flown from airport a to b: (schedule kind, departures a week)."""
    code_a, code_b = a.code.removeprefix("air-"), b.code.removeprefix("air-")
    region_a, region_b = REGIONS[a.country], REGIONS[b.country]
    if a.country == b.country:
        international = LONG_HAUL_AIRPORTS | ASIA_REGIONAL_AIRPORTS
        flown = _distance(a, b) >= DOMESTIC_AIR_MIN_KM and bool({code_a, code_b} & international)
        return [("domestic_belly", 14)] if flown else []
    if region_a == region_b == "asia":
        services = [("belly", 7)] if {code_a, code_b} <= ASIA_REGIONAL_AIRPORTS else []
        return services + ([("freighter", 5)] if {code_a, code_b} <= ASIA_MAIN_AIRPORTS else [])
    if not {code_a, code_b} <= LONG_HAUL_AIRPORTS:
        return []
    regions = {region_a, region_b}
    if "asia" in regions and "latin_america" in regions:  # no nonstop passenger flights: freighters only
        return [("freighter", 2)]
    if "asia" in regions:
        return [("belly", 7), ("freighter", 3)]
    if regions in ({"europe", "latin_america"}, {"europe", "middle_east"}, {"middle_east"}):
        return [("belly", 7)]
    return []


def _air_lanes(airports_: Sequence[Node]) -> Iterator[Lane]:
    for a, b in permutations(airports_, 2):
        for kind, per_week in air_services(a, b):
            haul = "long" if rule_distance_km("air", a, b)[0] > AIR_LONG_HAUL_KM else "short"
            key = f"{'freighter' if kind == 'freighter' else 'belly'}_{haul}"
            schedule = schedule_for(kind, _pattern(f"{a.code}>{b.code}:{key}"), per_week)
            yield make_lane(key, a, b, schedule=schedule)


def sea_distance(a: Port, b: Port) -> tuple[float, str]:
    """Port to port: the plain rule along Asian coasts; from Asia to another continent along the ocean
    route's waypoints (the same both ways), or straight across the open Pacific."""
    asian, other = (a, b) if a.exit != "-" else (b, a)
    if asian.exit == "-" or other.exit != "-":
        return rule_distance_km("sea", a.node, b.node)
    route = OCEAN_ROUTES[other.route]
    names = (*ASIAN_EXITS[asian.exit], *route, *other.approach) if route else ()
    if asian is b:
        names = names[::-1]
    points = [(a.node.latitude, a.node.longitude)]
    points += [SEA_WAYPOINTS[name] for name in names]
    points.append((b.node.latitude, b.node.longitude))
    km = sum(great_circle_km(*p, *q) for p, q in pairwise(points))
    via = f"via {', '.join(names)} " if names else "across the open ocean "
    return km * SEA_ROUTED_DETOUR, f"great-circle {via}x {SEA_ROUTED_DETOUR}"


def sails(a: Port, b: Port) -> bool:
    """Weekly services: along an Asian coast, between Asian countries, and from Asia's ocean ports to
    the other continents (nothing between two non-Asian ports: trucks and planes serve those)."""
    in_asia = a.exit != "-", b.exit != "-"
    if all(in_asia):
        if a.node.country == b.node.country:
            return _zone(a.node) != _zone(b.node) or _distance(a.node, b.node) >= 500
        return a.tier != "coastal" and b.tier != "coastal"
    return any(in_asia) and a.tier == b.tier == "long_haul"


def _sea_lanes(ports: Sequence[Port]) -> Iterator[Lane]:
    for a, b in permutations(ports, 2):
        if not sails(a, b):
            continue
        distance = sea_distance(a, b)
        kind = "sea_ocean" if distance[0] > SEA_LONG_CUTOFF_KM else "sea"
        schedule = schedule_for(kind, _pattern(f"{a.node.code}>{b.node.code}"))
        yield make_lane("sea_container", a.node, b.node, schedule=schedule, distance=distance)


def _rail_lanes(network: Network) -> Iterator[Lane]:
    for origin, destination, out, back in _rows(RAIL_SERVICES):
        a, b = network.nodes[f"rail-{origin}"], network.nodes[f"rail-{destination}"]
        for start, end, per_week in ((a, b, int(out)), (b, a, int(back))):
            schedule = schedule_for("rail", _pattern(f"{start.code}>{end.code}"), per_week)
            yield make_lane("block_train", start, end, schedule=schedule)


# --- looking things up --------------------------------------------------------------------------------


def stations_in(network: Network, country: str) -> list[Node]:
    """The delivery stations of a country, by code."""
    return sorted(
        (n for n in network.nodes.values() if n.kind == "delivery_station" and n.country == country),
        key=lambda n: n.code,
    )


def nearest_station(network: Network, country: str, latitude: float, longitude: float) -> Node:
    """The delivery station that would serve a buyer at this place; a country without one raises."""
    stations = stations_in(network, country)
    if not stations:
        raise ValueError(f"no delivery station in {country}")
    return min(stations, key=lambda s: great_circle_km(latitude, longitude, s.latitude, s.longitude))


def delivery_pairs(
    network: Network, buyer_cities: dict[str, list[tuple[float, float]]] | None = None
) -> list[tuple[str, str]]:
    """(warehouse, delivery station) for every warehouse and every demo buyer city: what the demo's
    orders may ask the planner for."""
    places = BUYER_CITIES if buyer_cities is None else buyer_cities
    warehouses = sorted(n.code for n in network.nodes.values() if n.kind == "fulfilment_warehouse")
    stations = sorted(
        {nearest_station(network, cc, lat, lon).code for cc, spots in places.items() for lat, lon in spots}
    )
    return [(w, s) for w in warehouses for s in stations]


# --- synthetic networks for benchmarks ----------------------------------------------------------------

SYNTHETIC_CLUSTER_SIZE = 25  # nodes gathered around each real airport
SYNTHETIC_SPREAD_DEG = 0.3  # standard deviation of a node's offset from its airport (about 33 km)
SYNTHETIC_KINDS = (  # what the nodes around an airport are, and how often
    ("delivery_station", 0.68),
    ("sortation_hub", 0.10),
    ("fulfilment_warehouse", 0.08),
    ("seaport", 0.06),
    ("rail_terminal", 0.05),
    ("customs_point", 0.03),
)
SYNTHETIC_NEIGHBOURS = 4  # air links from each airport to the nearest other clusters
SYNTHETIC_GRID_DEG = 6.0  # cell size of the grid that finds neighbouring clusters
# The lanes after the backbone, by share: within a cluster (trucks and vans), trucks to a neighbouring
# cluster, flights, sailings, trains.
SYNTHETIC_MIX_KINDS = ("local", "road", "air", "sea", "rail")
SYNTHETIC_MIX_SHARES = (0.72, 0.12, 0.10, 0.04, 0.02)


@dataclass
class _Cluster:
    index: int
    nodes: list[Node]
    neighbours: list[int]

    @property
    def airport(self) -> Node:
        return self.nodes[0]

    @property
    def hub(self) -> Node:
        return self.nodes[1]


def synthetic_network(nodes: int, lanes: int, seed: int) -> Network:
    """A network of exactly `nodes` nodes and `lanes` lanes for benchmarks, the same for the same seed:
    clusters of nodes around real airports, lanes mostly within a cluster or to neighbouring ones, some
    long-haul scheduled lanes, and a backbone that makes every node reachable from every other."""
    if nodes < 4:
        raise ValueError("a synthetic network needs at least 4 nodes")
    rng = random.Random(seed)
    clusters = _synthetic_clusters(rng, nodes)
    network = Network()
    for cluster in clusters:
        for node in cluster.nodes:
            network.add_node(node)
    backbone = list(_synthetic_backbone(clusters))
    if len(backbone) > lanes:
        raise ValueError(
            f"{lanes} lanes cannot connect {nodes} nodes: the backbone alone needs {len(backbone)}"
        )
    for lane in backbone:
        network.add_lane(lane)
    _synthetic_fill(rng, network, clusters, lanes - len(backbone), {lane.id for lane in backbone})
    return network


@functools.cache
def _centre_airports() -> tuple[airportsdata.Airport, ...]:
    return tuple(airport for _code, airport in sorted(airports().items()) if airport["tz"])


def _synthetic_clusters(rng: random.Random, nodes: int) -> list[_Cluster]:
    pool = _centre_airports()
    count = max(2, min(len(pool), nodes // SYNTHETIC_CLUSTER_SIZE))
    centres = rng.sample(pool, count)
    sizes = [nodes // count + (1 if i < nodes % count else 0) for i in range(count)]
    clusters = [
        _Cluster(i, _cluster_nodes(rng, centre, size), [])
        for i, (centre, size) in enumerate(zip(centres, sizes, strict=True))
    ]
    _link_neighbours(clusters)
    return clusters


def _cluster_nodes(rng: random.Random, airport: airportsdata.Airport, size: int) -> list[Node]:
    code, tz, country = airport["iata"], airport["tz"], airport["country"]
    lat0, lon0 = airport["lat"], airport["lon"]
    members = [Node(f"air-{code}", "airport", country, lat0, lon0, tz, HANDLING_MINUTES["airport"])]
    kinds, weights = zip(*SYNTHETIC_KINDS, strict=True)
    drawn = ["sortation_hub", *rng.choices(kinds, weights, k=size - 2)] if size > 1 else []
    stretch = 1 / max(0.2, math.cos(math.radians(lat0)))  # keep offsets round away from the equator
    for i, kind in enumerate(drawn, start=1):
        lat = max(-89.0, min(89.0, rng.gauss(lat0, SYNTHETIC_SPREAD_DEG)))
        lon = (rng.gauss(lon0, SYNTHETIC_SPREAD_DEG * stretch) + 180) % 360 - 180
        members.append(
            Node(f"{_PREFIX[kind]}-{code}-{i}", kind, country, lat, lon, tz, HANDLING_MINUTES[kind])
        )
    return members


_PREFIX = {
    "sortation_hub": "hub",
    "delivery_station": "ds",
    "fulfilment_warehouse": "wh",
    "seaport": "sea",
    "rail_terminal": "rail",
    "customs_point": "cus",
}


def _link_neighbours(clusters: list[_Cluster]) -> None:
    """Each cluster's nearest others, found through a grid: the work grows with the count, not its square."""
    grid: dict[tuple[int, int], list[_Cluster]] = {}
    for cluster in clusters:
        grid.setdefault(_cell(cluster.airport), []).append(cluster)
    for cluster in clusters:
        row, col = _cell(cluster.airport)
        around = [c for dr in (-1, 0, 1) for dc in (-1, 0, 1) for c in grid.get((row + dr, col + dc), ())]
        around = [c for c in around if c is not cluster]
        around.sort(key=lambda c: _distance(cluster.airport, c.airport))
        cluster.neighbours = [c.index for c in around[:SYNTHETIC_NEIGHBOURS]]


def _cell(node: Node) -> tuple[int, int]:
    return math.floor(node.latitude / SYNTHETIC_GRID_DEG), math.floor(node.longitude / SYNTHETIC_GRID_DEG)


def _synthetic_backbone(clusters: Sequence[_Cluster]) -> Iterator[Lane]:
    """Every node to and from its cluster's hub, the hub to and from the airport, airports to their
    neighbours, and a ring of flights through every cluster so that nothing is cut off."""
    for cluster in clusters:
        hub = cluster.hub if len(cluster.nodes) > 1 else cluster.airport
        for node in cluster.nodes:
            if node is hub:
                continue
            if node.kind == "delivery_station":
                yield make_lane("van_diesel", hub, node)
                yield make_lane("van_pickup", node, hub)
            else:
                yield make_lane("road_express", hub, node)
                yield make_lane("road_express", node, hub)
    ring = sorted(clusters, key=_ring_order)
    for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
        if a is not b:
            yield _synthetic_flight(a.airport, b.airport, "belly")
            yield _synthetic_flight(b.airport, a.airport, "belly")
    for cluster in clusters:
        for index in cluster.neighbours:
            yield _synthetic_flight(cluster.airport, clusters[index].airport, "freighter")


def _ring_order(cluster: _Cluster) -> tuple[int, float]:
    """Bands of latitude, walked east and west in turn, so the ring's hops stay mostly short."""
    band = math.floor(cluster.airport.latitude / 15)
    return band, cluster.airport.longitude if band % 2 == 0 else -cluster.airport.longitude


def _synthetic_flight(a: Node, b: Node, kind: str) -> Lane:
    haul = "long" if rule_distance_km("air", a, b)[0] > AIR_LONG_HAUL_KM else "short"
    per_week = 7 if kind == "belly" else 3
    return make_lane(
        f"{kind}_{haul}", a, b, schedule=schedule_for(kind, _pattern(f"{a.code}>{b.code}"), per_week)
    )


def _synthetic_fill(
    rng: random.Random, network: Network, clusters: Sequence[_Cluster], wanted: int, taken: set[str]
) -> None:
    by_kind = _synthetic_by_kind(clusters)
    attempts_left = 50 * (wanted + 1000)  # drawing at random: give up only when pairs have clearly run out
    while wanted > 0:
        attempts_left -= 1
        if attempts_left < 0:
            raise ValueError("too many lanes for this many nodes: no new pair is left to join")
        cluster = clusters[rng.randrange(len(clusters))]
        lane = _synthetic_lane(
            rng, rng.choices(SYNTHETIC_MIX_KINDS, SYNTHETIC_MIX_SHARES)[0], cluster, clusters, by_kind
        )
        if lane is None or lane.id in taken:
            continue
        taken.add(lane.id)
        network.add_lane(lane)
        wanted -= 1


def _synthetic_by_kind(clusters: Sequence[_Cluster]) -> dict[str, list[list[Node]]]:
    """Per kind, per cluster, the nodes of that kind (so a lane can pick a seaport near a seaport)."""
    return {
        kind: [[n for n in c.nodes if n.kind == kind] for c in clusters]
        for kind in ("airport", "seaport", "rail_terminal")
    }


def _synthetic_lane(
    rng: random.Random,
    kind: str,
    cluster: _Cluster,
    clusters: Sequence[_Cluster],
    by_kind: dict[str, list[list[Node]]],
) -> Lane | None:
    senders = [n for n in cluster.nodes if n.kind != "delivery_station"]
    if kind == "local":
        a, b = rng.choice(senders), rng.choice(cluster.nodes)
        if a is b:
            return None
        if b.kind == "delivery_station":  # vans load at hubs and warehouses only
            if a.kind not in ("sortation_hub", "fulfilment_warehouse"):
                return None
            return make_lane(rng.choice(("van_diesel", "van_electric")), a, b)
        return make_lane(rng.choice(TRUCKS), a, b)
    if not cluster.neighbours:
        return None
    near = clusters[rng.choice(cluster.neighbours)]
    if kind == "road":
        a, b = rng.choice(senders), rng.choice([n for n in near.nodes if n.kind != "delivery_station"])
        return make_lane(rng.choice(TRUCKS), a, b) if _distance(a, b) < 1500 else None
    if kind == "air":  # half to a neighbour, half anywhere: the long-haul flights
        far = near if rng.random() < 0.5 else clusters[rng.randrange(len(clusters))]
        if far is cluster:
            return None
        return _synthetic_flight(cluster.airport, far.airport, rng.choice(("belly", "freighter")))
    return _synthetic_scheduled(rng, kind, cluster, clusters, by_kind)


def _synthetic_scheduled(
    rng: random.Random,
    kind: str,
    cluster: _Cluster,
    clusters: Sequence[_Cluster],
    by_kind: dict[str, list[list[Node]]],
) -> Lane | None:
    """A weekly sailing between seaports, or a train between rail terminals of neighbouring clusters."""
    node_kind = "seaport" if kind == "sea" else "rail_terminal"
    other = (
        clusters[rng.randrange(len(clusters))] if kind == "sea" else clusters[rng.choice(cluster.neighbours)]
    )
    here, there = by_kind[node_kind][cluster.index], by_kind[node_kind][other.index]
    if not here or not there or other is cluster:
        return None
    a, b = rng.choice(here), rng.choice(there)
    service = "sea_container" if kind == "sea" else "block_train"
    schedule = schedule_for(
        "sea" if kind == "sea" else "rail", _pattern(f"{a.code}>{b.code}"), rng.choice((1, 2))
    )
    return make_lane(service, a, b, schedule=schedule)


def mode_counts(network: Network) -> dict[str, int]:
    """Lanes per mode (for reports and tests)."""
    counts: dict[str, int] = {}
    for lanes in network.lanes_from.values():
        for lane in lanes:
            counts[lane.mode] = counts.get(lane.mode, 0) + 1
    return counts


def iter_lanes(network: Network) -> Iterable[Lane]:
    return (lane for lanes in network.lanes_from.values() for lane in lanes)
