"""Worksheet formulas: ``=LAZADA_STATUS(A2)``, ``=LAZADA_STATUS(A2:A10001)`` and friends.

Thin xlwings wrappers over :mod:`.answers` (pure functions that do the work and are what the
tests call). Each takes an order number, order id, tracking number or package id: one cell,
or a whole range for one spilled column of answers (the fast way for long lists: one call
instead of one per cell) — and an optional shop. Answers come from the local cache, which
the ribbon's Refresh fills; a reference it does not know is fetched on demand when a shop is
connected, within a few seconds' budget. Errors show as short text in the cell.

An error in an argument's cell (``#N/A`` from a VLOOKUP, say) arrives as its text
(``err_to_str``), so the answer says the cell holds an Excel error; without it xlwings hands
the error over as a blank, and a blank reference answers blank and a blank shop means every
shop.

The formulas are not volatile: the Refresh macros recalculate the cells that hold them. The
VBA wrappers in the workbook (``workbook/vba/xlwings_udfs.bas``) are generated from this
module with xlwings' own generator: ``python -m xl_lazada.excel.vba_gen``.
"""

from __future__ import annotations

from typing import Any

import xlwings as xw

from . import answers

CATEGORY = "Lazada"
REF_DOC = (
    "Order number, order id, tracking number or package id: one cell, or a whole column "
    "range for one answer per row (fastest for long lists). Format id columns as Text."
)
SHOP_DOC = "Optional: the shop profile name (blank = every shop in the cache)."


@xw.func(category=CATEGORY)
@xw.arg("ref", err_to_str=True, ndim=2, doc=REF_DOC)
@xw.arg("shop", err_to_str=True, doc=SHOP_DOC)
def LAZADA_STATUS(ref: Any, shop: Any = None) -> Any:
    """Seller Center status of the order (Pending, Ready to ship, Shipped, Delivered, ...)."""
    return answers.status_values(ref, shop)


@xw.func(category=CATEGORY)
@xw.arg("ref", err_to_str=True, ndim=2, doc=REF_DOC)
@xw.arg("shop", err_to_str=True, doc=SHOP_DOC)
def LAZADA_TRACKING(ref: Any, shop: Any = None) -> Any:
    """The order's tracking numbers (text, comma-separated when it ships in several parcels)."""
    return answers.tracking_values(ref, shop)


@xw.func(category=CATEGORY)
@xw.arg("ref", err_to_str=True, ndim=2, doc=REF_DOC)
@xw.arg("part", err_to_str=True, doc='Optional: "title" (default), "time" or "location".')
@xw.arg("shop", err_to_str=True, doc=SHOP_DOC)
def LAZADA_LAST_CHECKPOINT(ref: Any, part: Any = None, shop: Any = None) -> Any:
    """The parcel's latest tracking checkpoint: its title, time (shop-local) or location."""
    return answers.last_checkpoint_values(ref, part, shop)


@xw.func(category=CATEGORY)
@xw.arg(
    "ref", err_to_str=True, ndim=2, doc="Order number, order id, tracking number or package id."
)
@xw.arg("shop", err_to_str=True, doc=SHOP_DOC)
def LAZADA_CHECKPOINTS(ref: Any, shop: Any = None) -> Any:
    """The whole tracking history, oldest first, spilled: time, status, title, location."""
    return answers.checkpoints_values(ref, shop)


@xw.func(category=CATEGORY)
@xw.arg("ref", err_to_str=True, ndim=2, doc=REF_DOC)
@xw.arg(
    "part",
    err_to_str=True,
    doc='Optional: "deadline" (default), "hours_left", "at_risk" or "late".',
)
@xw.arg("shop", err_to_str=True, doc=SHOP_DOC)
def LAZADA_RTS_DEADLINE(ref: Any, part: Any = None, shop: Any = None) -> Any:
    """Ready-to-ship deadline (shop-local time), or the hours left, at risk or late."""
    return answers.rts_deadline_values(ref, part, shop)


@xw.func(category=CATEGORY)
@xw.arg("ref", err_to_str=True, ndim=2, doc=REF_DOC)
@xw.arg("part", err_to_str=True, doc='Optional: "label" (default), "arrival" or "late".')
@xw.arg("shop", err_to_str=True, doc=SHOP_DOC)
def LAZADA_SORTING_CENTER(ref: Any, part: Any = None, shop: Any = None) -> Any:
    """Whether the parcel reached Lazada's sorting centre in time, or when it arrived."""
    return answers.sorting_center_values(ref, part, shop)


@xw.func(category=CATEGORY)
@xw.arg("ref", err_to_str=True, ndim=2, doc=REF_DOC)
@xw.arg(
    "component",
    err_to_str=True,
    doc='Optional: "net" (default), "state", or a fee: "item_price", "commission", '
    '"payment_fee", "shipping", "reversals", "penalties", "other".',
)
@xw.arg("shop", err_to_str=True, doc=SHOP_DOC)
def LAZADA_SETTLEMENT(ref: Any, component: Any = None, shop: Any = None) -> Any:
    """What Lazada pays for the order: net amount, settlement state, or one fee component."""
    return answers.settlement_values(ref, component, shop)


@xw.func(category=CATEGORY)
@xw.arg("ref", err_to_str=True, ndim=2, doc=REF_DOC)
@xw.arg("shop", err_to_str=True, doc=SHOP_DOC)
def LAZADA_SYNCED_AT(ref: Any, shop: Any = None) -> Any:
    """When the order's data was last fetched from Lazada (shop-local time)."""
    return answers.synced_at_values(ref, shop)
