"""The typed-in tables of the demo network: cities and their hubs, delivery stations, seaports and
sea waypoints, rail terminals and services, land border crossings, which airports fly where, and the
warehouses and buyers' cities the network serves (the demo seeds its warehouses and buyers there).

Places are approximate centres (to about 0.01 degree); `network_data` turns the rows into nodes and lanes
and documents the modelling rules. Data only: no functions but a parser of airport lists.
"""

from __future__ import annotations

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


# The group's warehouses (inventory's stock points; the demo seeds them): each is a node of the network,
# linked to its city's hub. code, city, country, latitude, longitude
WAREHOUSES = [
    ("cn-hangzhou", "Hangzhou", "CN", 30.27, 120.15),
    ("cn-yiwu", "Yiwu", "CN", 29.31, 120.08),
    ("cn-shenzhen", "Shenzhen", "CN", 22.54, 114.06),
    ("cn-guangzhou", "Guangzhou", "CN", 23.13, 113.26),
    ("sg-tuas", "Singapore Tuas", "SG", 1.32, 103.65),
    ("sg-changi", "Singapore Changi", "SG", 1.35, 103.99),
    ("my-kuala-lumpur", "Kuala Lumpur", "MY", 3.14, 101.69),
    ("my-penang", "Penang", "MY", 5.41, 100.33),
    ("my-johor-bahru", "Johor Bahru", "MY", 1.49, 103.74),
    ("th-bangkok", "Bangkok", "TH", 13.76, 100.50),
    ("th-chiang-mai", "Chiang Mai", "TH", 18.79, 98.98),
    ("th-laem-chabang", "Laem Chabang", "TH", 13.08, 100.88),
    ("vn-ho-chi-minh", "Ho Chi Minh City", "VN", 10.82, 106.63),
    ("vn-hanoi", "Hanoi", "VN", 21.03, 105.85),
    ("vn-da-nang", "Da Nang", "VN", 16.05, 108.20),
    ("id-jakarta", "Jakarta", "ID", -6.20, 106.85),
    ("id-surabaya", "Surabaya", "ID", -7.25, 112.75),
    ("id-medan", "Medan", "ID", 3.59, 98.67),
    ("ph-manila", "Manila", "PH", 14.60, 120.98),
    ("ph-cebu", "Cebu", "PH", 10.32, 123.89),
    ("ph-davao", "Davao", "PH", 7.19, 125.46),
    ("es-madrid", "Madrid", "ES", 40.42, -3.70),
]

# Cities buyers live in, per country: (latitude, longitude)
BUYER_CITIES = {
    "CN": [(31.23, 121.47), (39.90, 116.40), (30.57, 104.07), (22.54, 114.06)],
    "SG": [(1.29, 103.85), (1.44, 103.79)],
    "MY": [(3.14, 101.69), (5.41, 100.33), (1.49, 103.74)],
    "TH": [(13.76, 100.50), (18.79, 98.98)],
    "VN": [(10.82, 106.63), (21.03, 105.85)],
    "ID": [(-6.20, 106.85), (-7.25, 112.75)],
    "PH": [(14.60, 120.98), (10.32, 123.89)],
    "ES": [(40.42, -3.70), (41.39, 2.17)],
    "FR": [(48.86, 2.35), (45.76, 4.84)],
    "BR": [(-23.55, -46.63), (-22.91, -43.17)],
    "SA": [(24.71, 46.68), (21.49, 39.19)],
}
