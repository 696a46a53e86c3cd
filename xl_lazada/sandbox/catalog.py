"""Static reference data for the simulated shop: buyers, places, products, checkpoints, fees.

Kept apart from the generator so the generator reads as a story (an order is created,
packed, scanned, delivered, settled) rather than a wall of strings.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..lazada.statuses import ITEM_STATUSES, STATUS_FILTERS

# --- item statuses and filter aliases (the spec's list) --------------------------------

STATUS_CODE: dict[str, int] = {s: i for i, s in enumerate(ITEM_STATUSES)}

ORDER_STATUS_FILTERS = STATUS_FILTERS

# --- checkpoints ------------------------------------------------------------------------
# The plan names each event by its push-notification milestone (READY_TO_SHIP, ...); the
# trace API shows it as Lazada documents: a numeric status_code with a detail_type and an
# English title. Codes, types and titles from Lazada's GetOrderTrace sample or a captured
# trace on the same platform are used where known (docs/lazada-notes.md); the rest use
# codes in a 9xxxxx range this sandbox made up (not in rules/milestones.json, so the client
# meets them the way it would meet a new Lazada code: by title, and counted by `doctor`).
# internal name -> (status_code, detail_type, title, description template with {loc}, {note})

CHECKPOINTS: dict[str, tuple[str, str, str, str]] = {
    "READY_TO_SHIP": (
        "1200",
        "ready_to",
        "Packed by seller / warehouse",
        "Your parcel has been packed and ready to be handed over to our shipping provider.",
    ),
    "FM_PICKUP_SUCCESS": (
        "1210",
        "shipped",
        "Picked up by logistics partner",
        "Your parcel has been picked up from the seller in {loc}",
    ),
    "IB_SUCCESS_FIRST_MILE_HUB": (
        "100013",
        "ship_info",
        "Arrived at Main Logistics Facility",
        "Your parcel has arrived to the main logistics facility",
    ),
    "OB_SUCCESS_FIRST_MILE_HUB": (
        "100102",
        "ship_info",
        "Departed from Main Logistics Facility",
        "Your parcel has departed from the main logistics facility",
    ),
    "HANDOVER": (
        "900201",
        "ship_info",
        "Handed over to linehaul carrier",
        "Your parcel has been handed over to the international carrier at {loc}",
    ),
    "UPLIFTED": (
        "900202",
        "ship_info",
        "Departed from origin country",
        "Your parcel's flight has departed from {loc}",
    ),
    "LINEHAUL_ARRIVAL_SUCCESS": (
        "900203",
        "ship_info",
        "Arrived in destination country",
        "Your parcel has arrived at {loc}",
    ),
    "CUSTOMS_CLEARANCE_SUCCESS": (
        "900204",
        "ship_info",
        "Customs clearance completed",
        "Your parcel has cleared customs at {loc}",
    ),
    "RECEIVED_BY_LAST_MILE": (
        "100103",
        "ship_info",
        "Arrived at Last Mile Hub",
        "Your parcel has arrived at the last mile hub before delivery",
    ),
    "OUT_FOR_DELIVERY": (
        "100018",
        "ship_info",
        "Out for Delivery",
        "Your parcel is currently out for delivery",
    ),
    "DELIVERED": ("1400", "delivered", "Delivered", "Your parcel has been delivered. {note}"),
    "DELIVER_FAILED": (
        "100019",
        "ship_info",
        "Attempt to deliver",
        "Failed buyer delivery attempt by our 3PL due to Reason: {note}",
    ),
    "ON_THE_WAY_BACK_TO_SHIPPER": (
        "900301",
        "ship_info",
        "Returning to seller",
        "Your parcel is on the way back to the seller",
    ),
    "BACK_TO_SHIPPER_SUCCESS": (
        "900302",
        "ship_info",
        "Returned to seller",
        "Your parcel has been returned to the seller at {loc}",
    ),
    "BACK_TO_SHIPPER_FAILED": (
        "900303",
        "ship_info",
        "Return to seller failed",
        "Your parcel could not be returned to the seller: {note}",
    ),
    "LOST_BY_3PL": (
        "900401",
        "ship_info",
        "Lost by logistics partner",
        "Your parcel was lost in transit; Lazada will process compensation",
    ),
    "DAMAGE_BY_3PL": (
        "900402",
        "ship_info",
        "Damaged by logistics partner",
        "Your parcel was damaged in transit at {loc}",
    ),
    "PACKAGE_SCRAPPED": (
        "900403",
        "ship_info",
        "Parcel scrapped",
        "Your parcel was disposed of at {loc}: {note}",
    ),
}

#: Lazada's numeric status_code of each planned event, and back.
WIRE_CODE: dict[str, str] = {name: v[0] for name, v in CHECKPOINTS.items()}
EVENT_OF_CODE: dict[str, str] = {code: name for name, code in WIRE_CODE.items()}

#: The item status a checkpoint moves the package's items to (others leave them as they are).
CHECKPOINT_ITEM_STATUS: dict[str, str] = {
    "LINEHAUL_ARRIVAL_SUCCESS": "shipped",
    "DELIVERED": "delivered",
    "DELIVER_FAILED": "failed_delivery",
    "ON_THE_WAY_BACK_TO_SHIPPER": "shipped_back",
    "BACK_TO_SHIPPER_SUCCESS": "shipped_back_success",
    "BACK_TO_SHIPPER_FAILED": "shipped_back_failed",
    "LOST_BY_3PL": "lost_by_3pl",
    "DAMAGE_BY_3PL": "damaged_by_3pl",
    "PACKAGE_SCRAPPED": "package_scrapped",
}

DELIVER_FAILED_NOTES = (
    "Recipient not available",
    "Unable to contact recipient",
    "Address incomplete or incorrect",
    "Recipient refused the parcel",
    "Recipient requested another delivery date",
)
SCRAPPED_NOTES = ("prohibited item detected at security screening", "packaging unfit for transport")
BACK_FAILED_NOTES = ("seller address unreachable", "seller refused the returned parcel")
DELIVERED_NOTES = ("Received by recipient", "Left with security guard", "Received by family member")

# --- finance fee types ------------------------------------------------------------------
# (fee_type id, fee_name, transaction_type). 13/16/3/8/7/14/15 and the penalties 93
# (Cancellation Due To Late Fulfilment) and 71 (Fake RTS) are Lazada's published ids and
# names (Lazada has 300+ fee types).

FEE_ITEM_PRICE = "13"
FEE_COMMISSION = "16"
FEE_PAYMENT = "3"
FEE_SHIPPING_BY_CUSTOMER = "8"
FEE_SHIPPING_BY_SELLER = "7"
FEE_REVERSAL_ITEM_PRICE = "14"
FEE_REVERSAL_COMMISSION = "15"
FEE_PENALTY_LATE_CANCEL = "93"
FEE_PENALTY_FAKE_RTS = "71"

FEE_TYPES: dict[str, tuple[str, str]] = {
    FEE_ITEM_PRICE: ("Item Price Credit", "Orders-Sales"),
    FEE_COMMISSION: ("Commission", "Orders-Lazada Fees"),
    FEE_PAYMENT: ("Payment Fee", "Orders-Lazada Fees"),
    FEE_SHIPPING_BY_CUSTOMER: ("Shipping Fee (Paid By Customer)", "Orders-Logistics"),
    FEE_SHIPPING_BY_SELLER: ("Shipping Fee Paid by Seller", "Orders-Logistics"),
    FEE_REVERSAL_ITEM_PRICE: ("Reversal Item Price", "Refunds-Sales"),
    FEE_REVERSAL_COMMISSION: ("Reversal Commission", "Refunds-Lazada Fees"),
    FEE_PENALTY_LATE_CANCEL: ("Cancellation Due To Late Fulfilment", "Other Services-Penalties"),
    FEE_PENALTY_FAKE_RTS: ("Fake RTS", "Other Services-Penalties"),
}
#: Fee types that carry tax inside the amount (Lazada's own charges to the seller).
TAXED_FEES = frozenset(
    (
        FEE_COMMISSION,
        FEE_PAYMENT,
        FEE_SHIPPING_BY_SELLER,
        FEE_PENALTY_LATE_CANCEL,
        FEE_PENALTY_FAKE_RTS,
    )
)

# --- origin (China) --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Origin:
    """A first-mile route: where the seller ships from and the LGS hub that scans it."""

    pickup_city: str
    sorting_centre: str
    airport: str


ORIGINS: tuple[Origin, ...] = (
    Origin(
        "Shenzhen, Guangdong",
        "LGS Shenzhen Sorting Centre",
        "Shenzhen Bao'an International Airport",
    ),
    Origin("Yiwu, Zhejiang", "LGS Yiwu Sorting Centre", "Hangzhou Xiaoshan International Airport"),
    Origin(
        "Guangzhou, Guangdong",
        "LGS Guangzhou Sorting Centre",
        "Guangzhou Baiyun International Airport",
    ),
)
ORIGIN_WEIGHTS = (55, 25, 20)

# --- destination ventures --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Locale:
    """What a buyer in one venture looks like, and how money is written there."""

    decimals: int  # 0 for VND/IDR (whole numbers)
    rate: float  # price multiplier from the MYR base prices below
    price_step: int  # prices are rounded to this many minor units
    tax_rate: float  # tax included in Lazada's fees (SST/GST/VAT)
    country: str
    phone_prefix: str
    cities: tuple[tuple[str, str], ...]  # (city, post code)
    streets: tuple[str, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    airport: str  # linehaul arrival
    customs: str
    hubs: tuple[str, ...]  # last-mile hubs
    return_hub: str  # where returned parcels go back to


LOCALES: dict[str, Locale] = {
    "MY": Locale(
        2,
        1.0,
        10,
        0.08,
        "Malaysia",
        "60",
        (
            ("Kuala Lumpur", "50450"),
            ("Petaling Jaya", "47301"),
            ("Shah Alam", "40150"),
            ("Johor Bahru", "80100"),
            ("George Town", "10200"),
            ("Ipoh", "30250"),
            ("Kota Kinabalu", "88000"),
            ("Kuching", "93350"),
        ),
        ("Jalan SS 2/24", "Jalan Ampang", "Lorong Maarof", "Jalan Tun Razak", "Persiaran Gurney"),
        ("Nur Aisyah", "Muhammad Hafiz", "Wei Ling", "Siti", "Rajesh", "美玲", "Aïsha", "Kavitha"),
        ("Tan", "Abdullah", "Lim", "binti Ismail", "a/l Subramaniam", "陈", "Wong", "Ng"),
        "KLIA Cargo Terminal, Sepang",
        "KLIA Customs, Sepang",
        ("LEX MY Shah Alam Hub", "LEX MY Puchong Hub", "LEX MY Johor Bahru Hub"),
        "LGS Shenzhen Return Centre",
    ),
    "SG": Locale(
        2,
        0.3,
        10,
        0.09,
        "Singapore",
        "65",
        (
            ("Ang Mo Kio", "560123"),
            ("Tampines", "520456"),
            ("Jurong West", "640789"),
            ("Woodlands", "730123"),
        ),
        ("Ang Mo Kio Ave 3", "Tampines St 81", "Jurong West St 52", "Woodlands Dr 14"),
        ("Jia Hui", "Chloé", "Wei Jie", "Priya", "志明", "Nurul"),
        ("Lim", "Ng", "Tan", "黄", "Goh", "Ramasamy"),
        "Changi Airfreight Centre",
        "Changi Customs Checkpoint",
        ("LEX SG Tuas Hub", "LEX SG Ubi Hub"),
        "LGS Shenzhen Return Centre",
    ),
    "PH": Locale(
        2,
        12.0,
        100,
        0.12,
        "Philippines",
        "63",
        (
            ("Quezon City", "1100"),
            ("Makati", "1200"),
            ("Cebu City", "6000"),
            ("Davao City", "8000"),
            ("Pasig", "1600"),
        ),
        ("Rizal Ave", "Mabini St", "Ayala Ave", "Kalayaan Ave", "Osmeña Blvd"),
        ("José", "Maria Cristina", "Niño", "Angelica", "Juan", "Ma. Lourdes"),
        ("Dela Cruz", "Peñaflor", "Santos", "Reyes", "Garcia", "Bautista"),
        "NAIA Cargo Terminal, Pasay",
        "Bureau of Customs NAIA, Pasay",
        ("LEX PH Cabuyao Hub", "LEX PH Pasig Hub", "LEX PH Mandaue Hub"),
        "LGS Shenzhen Return Centre",
    ),
    "TH": Locale(
        2,
        7.5,
        100,
        0.07,
        "Thailand",
        "66",
        (
            ("Bangkok", "10110"),
            ("Nonthaburi", "11000"),
            ("Chiang Mai", "50000"),
            ("Khon Kaen", "40000"),
            ("Hat Yai", "90110"),
        ),
        ("Sukhumvit Rd", "ถนนพหลโยธิน", "Ratchadaphisek Rd", "Rama IV Rd"),
        ("สมชาย", "Nattaya", "Somchai", "ปิยะนุช", "Kittipong", "Siriporn"),
        ("ใจดี", "Srisuk", "Chaiyaporn", "วงศ์สวัสดิ์", "Thongdee", "Boonmee"),
        "Suvarnabhumi Airport Cargo, Samut Prakan",
        "Suvarnabhumi Customs, Samut Prakan",
        ("LEX TH Bang Na Hub", "LEX TH Lat Krabang Hub"),
        "LGS Shenzhen Return Centre",
    ),
    "VN": Locale(
        0,
        5400.0,
        1000,
        0.10,
        "Vietnam",
        "84",
        (
            ("Hà Nội", "100000"),
            ("TP. Hồ Chí Minh", "700000"),
            ("Đà Nẵng", "550000"),
            ("Hải Phòng", "180000"),
            ("Cần Thơ", "900000"),
        ),
        ("Nguyễn Trãi", "Lê Lợi", "Trần Hưng Đạo", "Phố Huế", "Điện Biên Phủ"),
        ("Thị Hương", "Văn Lâm", "Minh Anh", "Quốc Bảo", "Ngọc Trâm", "Đức Huy"),
        ("Nguyễn", "Trần", "Lê", "Phạm", "Đặng", "Huỳnh"),
        "Tan Son Nhat Cargo Terminal, Ho Chi Minh City",
        "Tan Son Nhat Customs, Ho Chi Minh City",
        ("LEX VN Bình Dương Hub", "LEX VN Hà Nội Hub", "LEX VN Đà Nẵng Hub"),
        "LGS Shenzhen Return Centre",
    ),
    "ID": Locale(
        0,
        3500.0,
        500,
        0.11,
        "Indonesia",
        "62",
        (
            ("Jakarta Selatan", "12190"),
            ("Surabaya", "60111"),
            ("Bandung", "40111"),
            ("Medan", "20111"),
            ("Bekasi", "17141"),
        ),
        ("Jl. Sudirman", "Jl. Gatot Subroto", "Jl. Asia Afrika", "Jl. Pemuda", "Jl. Diponegoro"),
        ("Siti", "Putri Ayu", "Budi", "Dewi", "Agus", "Lina 林"),
        ("Santoso", "Wijaya", "Saputra", "Hidayat", "Kusuma", "Nasution"),
        "Soekarno-Hatta Cargo Terminal, Tangerang",
        "Soekarno-Hatta Customs, Tangerang",
        ("LEX ID Cakung Hub", "LEX ID Surabaya Hub", "LEX ID Bandung Hub"),
        "LGS Shenzhen Return Centre",
    ),
}

#: Text a spreadsheet would run as a formula, and other hostile input the product must show
#: verbatim. The first orders of every shop get these, so even a small shop contains them.
HOSTILE_FIRST_NAMES = (
    '=HYPERLINK("http://x","y")',
    "+60 12-345 6789",
    "@SUM(A1:A9)",
    "-1+1",
    "=cmd|' /C calc'!A0",
)
HOSTILE_REMARKS = (
    "=1+2",
    "+call before delivery",
    "@admin please gift wrap",
    "- leave at the door -",
    "<script>alert(1)</script>",
    "Robert'); DROP TABLE orders;--",
    "Leave with guard\nCall first\tthanks",
)
REMARKS = (
    "Please pack carefully",
    "Call before delivery",
    "Leave at the guard house",
    "Gift for my mother, no invoice please",
    "Mohon dibungkus rapi",
    "Giao giờ hành chính",
    "กรุณาโทรก่อนส่ง",
)

CANCEL_REASONS_BUYER = (
    "Change of mind",
    "Found cheaper elsewhere",
    "Duplicate order",
    "Change payment method",
    "Delivery time is too long",
)
CANCEL_REASONS_SELLER = ("Out of stock", "Pricing error")
CANCEL_REASON_LATE = "Seller did not ship on time"
CANCEL_REASON_UNPAID = "Payment not completed"
RETURN_REASONS = (
    "Item not as described",
    "Wrong item delivered",
    "Damaged item",
    "Item does not fit",
    "Missing accessories",
)

INITIATOR_BUYER = "cancellation-customer"
INITIATOR_SELLER = "cancellation-seller"
INITIATOR_SYSTEM = "cancellation-internal"
INITIATOR_RETURN = "return-customer"

PAYMENT_METHODS = ("COD", "MIXEDCARD", "LAZADA_WALLET", "ONLINE_BANKING", "PAYLATER")
PAYMENT_WEIGHTS = (35, 30, 15, 12, 8)

# --- products: (name, sku stem, MYR price, seller shipping cost MYR, commission %) ------

PRODUCTS: tuple[tuple[str, str, float, float, float], ...] = (
    ("TWS Wireless Earbuds Bluetooth 5.3 Noise Cancelling", "EB53", 39.90, 6.5, 7),
    ("Magnetic Phone Holder for Car Air Vent", "CH01", 15.90, 4.2, 6),
    ("LED Strip Lights 5M RGB with Remote", "LS5M", 25.90, 6.0, 7),
    ("Silicone Kitchen Utensil Set 12 pcs", "KU12", 45.90, 9.5, 6),
    ("Foldable Storage Box with Lid 30L", "SB30", 29.90, 9.0, 5),
    ("USB-C Fast Charging Cable 1m 60W", "UC60", 9.90, 3.5, 7),
    ("GaN Charger 65W 3-Port", "GN65", 69.90, 5.0, 7),
    ('Smart Watch 1.83" Heart Rate Monitor', "SW83", 89.90, 5.5, 8),
    ("Phone Case Shockproof Clear for iPhone 15", "PC15", 12.90, 3.5, 8),
    ("Mini Portable Fan USB Rechargeable", "MF02", 19.90, 5.0, 6),
    ("Women's Crossbody Bag PU Leather", "CB21", 35.90, 6.0, 9),
    ("Men's Quick-Dry Sports T-Shirt", "TS07", 22.90, 4.5, 9),
    ("Yoga Mat 6mm Non-Slip TPE", "YM06", 49.90, 11.0, 6),
    ("Electric Milk Frother Handheld", "MF10", 16.90, 4.0, 6),
    ("Waterproof Shoe Cover Reusable", "SC03", 14.90, 4.0, 8),
    ("Cat Teaser Wand Toy with Feathers", "CT05", 8.90, 3.5, 8),
    ("Stainless Steel Vacuum Flask 500ml", "VF50", 32.90, 6.5, 6),
    ("Wireless Mouse Silent 2.4G", "WM24", 18.90, 4.0, 7),
    ("Mechanical Keyboard 87 Keys Hot-Swap", "MK87", 129.00, 12.0, 6),
    ("Baby Silicone Bib Waterproof", "BB01", 11.90, 3.5, 7),
    ("Hair Claw Clip Set 6 pcs", "HC06", 9.90, 3.0, 9),
    ("【Ready Stock】Desk Organizer Acrylic", "DO01", 27.90, 6.5, 6),
    ("Car Vacuum Cleaner Cordless 120W", "CV12", 79.90, 10.0, 6),
    ("Bike Light Set USB Rechargeable", "BL02", 24.90, 4.5, 7),
    ("Laptop Stand Aluminium Adjustable", "LS01", 59.90, 9.0, 6),
    ("手机支架 Phone Stand Desktop Foldable", "PS02", 10.90, 3.5, 7),
    ('Ring Light 10" with Tripod Stand', "RL10", 42.90, 9.0, 7),
    ("Electric Toothbrush Sonic IPX7", "ET07", 55.90, 5.0, 7),
    ("Waterproof Bluetooth Speaker Mini", "BS05", 34.90, 6.0, 7),
    ("Pet Hair Remover Roller", "PR01", 13.90, 4.0, 8),
)
VARIANTS = ("Black", "White", "Pink", "Blue", "Grey", "Green")

SHOP_NAMES = (
    ("SZ Gadget Hub", "Shenzhen Yuexin Trading Co., Ltd."),
    ("Yiwu Home Mall", "Yiwu Jiahe E-commerce Co., Ltd."),
    ("GZ Lifestyle Store", "Guangzhou Meiyou Technology Co., Ltd."),
)
