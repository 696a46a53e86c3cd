"""Lazada's answers as Lazada documents them, rendered from the shop's plain ground truth.

:class:`~.shop.Shop` keeps every value as tidy text (what tests compare against). Real
answers are less tidy (docs/lazada-notes.md): ids, counts and some money are JSON numbers,
``gift_option`` a boolean, ``price`` may carry thousands separators, ``promised_shipping_time``
is usually empty, ``sla_time_stamp`` ISO with a colon offset, trace codes numeric with a
``detail_type`` and title and ``"null"`` for missing text, finance dates ``17 May 2016``,
payouts ``3962.41 EUR`` and statement times without an offset, and a delivered item no
longer shows its ``tracking_code``. :class:`Wire` renders those shapes ("documented", the
default) and, with ``representation="varied"``, also shuffles what real clients have seen
vary — number or string, missing optional keys, unknown extra keys, ``module`` or ``data``,
camelCase trace keys — from a seed, so the client's tolerance is exercised.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from . import catalog as C

DOCUMENTED = "documented"
VARIED = "varied"
REPRESENTATIONS = (DOCUMENTED, VARIED)

_NULL = "null"  # what Lazada's trace sample sends for missing text


def _dec(text: Any) -> Decimal:
    return Decimal(str(text).replace(",", "") or "0")


def _thousands(text: str) -> str:
    """``"1152.00"`` -> ``"1,152.00"`` (as some real orders show it)."""
    return f"{_dec(text):,}"


def _iso_colon(text: str) -> str:
    """``2026-11-03 18:36:05 +0800`` -> ``2026-11-03T18:36:05+08:00``."""
    if not text:
        return text
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z").isoformat()


def _no_offset(text: str) -> str:
    """Payout statements show local time without an offset: ``2018-01-04 00:23:04``."""
    return text[:19] if text else text


def _dmy(day: str) -> str:
    """``2016-05-17`` -> ``17 May 2016`` (the finance API's documented form)."""
    d = date.fromisoformat(day)
    return f"{d.day:02d} {d:%b} {d.year}"


@dataclass
class Wire:
    """How the sandbox renders answers: ``representation`` and, for "varied", a ``seed``."""

    representation: str = DOCUMENTED
    seed: int = 0
    currency: str = ""

    def __post_init__(self) -> None:
        if self.representation not in REPRESENTATIONS:
            raise ValueError(
                f"representation must be one of {', '.join(REPRESENTATIONS)}, "
                f"not {self.representation!r}"
            )

    @property
    def varied(self) -> bool:
        return self.representation == VARIED

    # -- documented shapes ------------------------------------------------------------------
    def order(self, d: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(d)
        out["order_id"] = int(d["order_id"])
        out["order_number"] = int(d["order_number"])
        out["items_count"] = int(d["items_count"])
        out["shipping_fee"] = _dec(d["shipping_fee"])
        out["voucher"] = _dec(d["voucher"])
        out["price"] = _thousands(d["price"])
        out["gift_option"] = str(d.get("gift_option")) in ("1", "true", "True")
        out["promised_shipping_times"] = ""
        return out

    def item(self, d: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(d)
        out["order_item_id"] = int(d["order_item_id"])
        out["order_id"] = int(d["order_id"])
        out["item_price"] = _dec(d["item_price"])
        out["paid_price"] = _dec(d["paid_price"])
        out["promised_shipping_time"] = ""
        out["sla_time_stamp"] = _iso_colon(str(d.get("sla_time_stamp") or ""))
        if d.get("status") == "delivered":
            out["tracking_code"] = ""  # gone once delivered, as a public integration found
        return out

    def batch_entry(self, order_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "order_number": int(order_id),
            "order_id": int(order_id),
            "order_items": [self.item(i) for i in items],
        }

    def package(self, p: Mapping[str, Any]) -> dict[str, Any]:
        events = []
        for e in p.get("logistic_detail_info_list") or []:
            events.append(
                {
                    "package_location_name": e.get("package_location_name") or _NULL,
                    "status_code": C.WIRE_CODE.get(e["status_code"], e["status_code"]),
                    "proof_images": [],
                    "detail_type": e.get("detail_type") or _NULL,
                    "event_date": _NULL,
                    "receive_time": "0",
                    "icon": _NULL,
                    "description": e.get("description") or _NULL,
                    "title": e.get("title") or _NULL,
                    "event_time": str(e["event_time"]),
                }
            )
        return {
            "order_line_info_list": _NULL,
            "ofc_package_id": p["ofc_package_id"],
            "tracking_number": p["tracking_number"],
            "logistic_detail_info_list": events,
        }

    def trace_result(self, packages: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "not_success": "false",
            "success": "true",
            "module": [
                {
                    "warehouse_detail_info": _NULL,
                    "ofc_order_id": _NULL,
                    "package_detail_info_list": [self.package(p) for p in packages],
                }
            ],
            "error_code": {"displayMessage": _NULL},
            "repeated": "false",
            "retry": "false",
        }

    def transaction(self, d: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(d)
        out["transaction_date"] = _dmy(str(d["transaction_date"]))
        return out

    def statement(self, d: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(d)
        out["payout"] = f"{d['payout']} {self.currency}".strip()
        out["created_at"] = _no_offset(str(d.get("created_at") or ""))
        out["updated_at"] = _no_offset(str(d.get("updated_at") or ""))
        return out

    # -- varied representation ----------------------------------------------------------------
    def finish(self, api: str, body: dict[str, Any], params: Mapping[str, str]) -> dict[str, Any]:
        """The body as sent: unchanged when documented; shuffled (deterministically per
        request: seed, API and business parameters) when varied."""
        if not self.varied or str(body.get("code", "0")) != "0":
            return body
        key = "&".join(
            f"{k}={v}"
            for k, v in sorted(params.items())
            if k not in ("timestamp", "sign", "access_token")
        )
        rng = random.Random(zlib.crc32(f"{self.seed}|{api}|{key}".encode()))
        return _vary(body, rng)


# Keys whose values real answers send either as JSON numbers or as strings.
_NUMBERISH = frozenset(
    {
        "order_id",
        "order_number",
        "order_item_id",
        "items_count",
        "shipping_fee",
        "voucher",
        "item_price",
        "paid_price",
        "event_time",
        "receive_time",
        "count",
        "countTotal",
    }
)
_BOOLISH = frozenset({"gift_option", "success", "not_success", "repeated", "retry"})
# Optional keys an answer may simply leave out.
_OPTIONAL = frozenset(
    {
        "promised_shipping_time",
        "promised_shipping_times",
        "voucher",
        "remarks",
        "gift_message",
        "national_registration_number",
        "reason",
        "cancel_return_initiator",
        "package_location_name",
        "proof_images",
        "event_date",
        "icon",
        "receive_time",
        "order_line_info_list",
        "warehouse_detail_info",
        "ofc_order_id",
        "reference",
        "comment",
        "WHT_amount",
        "guarantee_deposit",
        "fees_on_refunds_total",
        "shipment_fee_credit",
    }
)
_CAMEL = {
    "status_code": "code",
    "detail_type": "detailType",
    "event_time": "eventTime",
    "package_location_name": "packageLocationName",
    "logistic_detail_info_list": "logisticDetailInfoList",
    "ofc_package_id": "ofcPackageId",
    "tracking_number": "trackingNumber",
    "package_detail_info_list": "packageDetailInfoList",
}
_CAMEL_ZONE = frozenset({"logistic_detail_info_list", "package_detail_info_list"})


def _flip_number(value: Any, rng: random.Random) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, Decimal)):
        return str(value) if rng.random() < 0.5 else value
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value) and rng.random() < 0.5:
        return int(value) if "." not in value else Decimal(value)
    return value


def _flip_bool(value: Any, rng: random.Random) -> Any:
    if isinstance(value, bool):
        return ("true" if value else "false") if rng.random() < 0.5 else value
    if isinstance(value, str) and value in ("true", "false"):
        return (value == "true") if rng.random() < 0.5 else value
    return value


def _vary(value: Any, rng: random.Random, camel: bool = False) -> Any:
    if isinstance(value, list):
        return [_vary(v, rng, camel) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, v in value.items():
        if key in _OPTIONAL and rng.random() < 0.3:
            continue
        if key == "tracking_code" and v == "" and rng.random() < 0.5:
            continue  # "disappears" rather than blank
        inner_camel = camel or (key in _CAMEL_ZONE and rng.random() < 0.2)
        v = _vary(v, rng, inner_camel)
        if key in _NUMBERISH:
            v = _flip_number(v, rng)
        elif key in _BOOLISH:
            v = _flip_bool(v, rng)
        name = key
        if key == "module" and rng.random() < 0.5:
            name = "data"  # as a public integration saw trace answers
        elif camel and key in _CAMEL:
            name = _CAMEL[key]
        out[name] = v
    if rng.random() < 0.15:
        out[f"x_unknown_{rng.randrange(100)}"] = rng.choice(["", _NULL, 0, "surprise", []])
    return out
