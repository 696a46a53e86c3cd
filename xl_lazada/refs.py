"""The one reference cleaner: whatever a seller pastes or Excel hands over → the cache's text.

Excel passes order numbers as floats (``3.17964514998308E+14``), European Excel writes a comma
decimal (``3,13989E+14``), Chinese input methods type full-width digits (``３１７９``), copied
cells bring spaces, tabs, quotes, a leading ``'`` or ``=``, and thousands separators. Every
front end (worksheet formulas, the report's pasted list, ``xl-lazada status``, the sheet
tables' ``refs=``) cleans references here, so one number means the same order everywhere.

A number Excel has already rounded (it keeps 15 significant digits: a float ≥ 1e15, or
scientific text with fewer digits than its magnitude) is reported as ``kind="rounded"`` and
never matched: a rounded number could name somebody else's order.
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from collections.abc import Collection, Hashable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

RefKind = Literal["text", "blank", "rounded", "invalid"]

ROUNDED_MESSAGE = "rounded by Excel — format the column as Text and paste the full number"
BLANK_MESSAGE = ""
#: Excel keeps 15 significant digits; anything at or beyond 1e15 may have lost some.
EXCEL_DIGITS = 15

_QUOTES = "\"'`\u2018\u2019\u201c\u201d\u00ab\u00bb\u300c\u300d"
_SCIENTIFIC = re.compile(r"^([0-9]+)(?:[.,]([0-9]*))?[eE]([+]?[0-9]+)$")
_WHOLE_DECIMAL = re.compile(r"^([0-9]+)[.,]0+$")
_THOUSANDS = re.compile(r"^[0-9]{1,3}(?:([,.\u00a0' ])[0-9]{3})+$")
_FORMULA_TEXT = re.compile(r'^=\s*"(.*)"$')
#: What a cell shows when its formula failed (xlwings hands some over as this text): never a
#: reference, and worth saying so rather than "not found".
_EXCEL_ERRORS = frozenset(
    {"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!", "#CALC!"}
    | {"#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#GETTING_DATA", "#PYTHON!"}
)
#: Excel's error values (``XlCVError``) as Windows COM hands them over, 0x800A0000 + code:
#: xlwings turns the seven classic ones into their text (``err_to_str``); the newer ones
#: (#SPILL!, #CALC!, ...) still arrive as these integers.
_COM_ERRORS = {
    -2146828288 + code: text
    for code, text in {
        2000: "#NULL!", 2007: "#DIV/0!", 2015: "#VALUE!", 2023: "#REF!", 2029: "#NAME?",
        2036: "#NUM!", 2042: "#N/A", 2043: "#GETTING_DATA", 2045: "#SPILL!",
        2046: "#CONNECT!", 2047: "#BLOCKED!", 2048: "#UNKNOWN!", 2049: "#FIELD!",
        2050: "#CALC!",
    }.items()
}  # fmt: skip
_MAX_LEN = 64  # longer than any id or tracking number Lazada issues


def excel_error(value: Any) -> str | None:
    """The Excel error a cell's value stands for (``#N/A``, ``#SPILL!``, ...), or None."""
    if type(value) is int:
        return _COM_ERRORS.get(value)
    if isinstance(value, str) and "#" in value[:8]:
        text = unicodedata.normalize("NFKC", value).strip().upper()
        return text if text in _EXCEL_ERRORS else None
    return None


@dataclass(frozen=True, slots=True)
class NormalizedRef:
    """A cleaned reference. ``text`` is what the cache's reference index holds ("" unless
    ``kind == "text"``); ``candidates`` are the texts to look up (the text, and its upper
    case for a tracking number typed in lower case); ``message`` says why nothing is looked
    up (rounded, invalid; blank for a blank cell)."""

    value: Any
    kind: RefKind
    text: str = ""
    message: str = ""

    @property
    def candidates(self) -> tuple[str, ...]:
        if self.kind != "text":
            return ()
        upper = self.text.upper()
        return (self.text,) if upper == self.text else (self.text, upper)


def _invalid(value: Any, why: str) -> NormalizedRef:
    return NormalizedRef(value, "invalid", message=why)


def _rounded(value: Any) -> NormalizedRef:
    return NormalizedRef(value, "rounded", message=ROUNDED_MESSAGE)


def _excel_error(value: Any, error: str) -> NormalizedRef:
    return _invalid(value, f"an Excel error ({error}) in the cell, not a reference")


def _from_number(value: Any, number: Decimal) -> NormalizedRef:
    if not number.is_finite():
        return _invalid(value, "not a number")
    if number < 0:
        return _invalid(value, "a negative number is not an order or tracking number")
    if number != number.to_integral_value():
        return _invalid(value, "not a whole number: order numbers have no decimals")
    return NormalizedRef(value, "text", text=str(int(number)))


def is_clean(value: Any) -> bool:
    """Already the index's text as it stands (the common case): ASCII digits, or ASCII
    letters and digits starting with a letter, not too long. ``normalize_ref`` of such a
    value is ``NormalizedRef(value, "text", text=value)``; a range reader may skip making it."""
    return (
        type(value) is str
        and value.isascii()
        and (value.isdigit() or (value.isalnum() and value[:1].isalpha()))
        and len(value) <= _MAX_LEN
    )


def value_key(value: Any) -> Hashable | None:
    """A dict key for a reference value as given (``None``: unhashable). ``1``, ``1.0`` and
    ``True`` are equal in a dict but not as references, nor are ``0.0`` and ``-0.0``: each
    is keyed with its type (and a zero with its sign). Text, by far the most common, is its
    own key (no other key is a ``str``); range readers may inline that case and
    ``(float, f)`` for a non-zero float."""
    if type(value) is str:
        return value
    if type(value) is float:
        return (float, value) if value else (float, value, math.copysign(1.0, value))
    try:
        hash(value)
    except TypeError:
        return None
    if type(value) is Decimal and value.is_zero():
        return (Decimal, value, value.is_signed())
    return (type(value), value)


#: A whole float ``0 <= f < EXACT_FLOATS`` (what Excel hands over for a column of order
#: numbers) cleans to ``str(int(f))``, its one candidate; range readers may do the same.
EXACT_FLOATS = float(10**EXCEL_DIGITS)

#: A text that :func:`normalize_ref` leaves as it is and that is its own one candidate:
#: all ASCII digits, or an upper-case ASCII letter then upper-case letters and digits (what
#: most cells of a range hold). One C call, for range readers (a match object, or None).
_PLAIN = rf"(?:[0-9]{{1,{_MAX_LEN}}}|[A-Z][A-Z0-9]{{0,{_MAX_LEN - 1}}})"
is_plain = re.compile(_PLAIN).fullmatch
_PLAIN_LINES = re.compile(rf"{_PLAIN}(?:\n{_PLAIN})*").fullmatch


def plain_texts(texts: Collection[str]) -> set[str]:
    """The texts that are :func:`is_plain`. A range is usually all plain: that is checked in
    one C call over the texts joined by newlines (sound only when no text holds a newline of
    its own, which the count of newlines shows), else text by text."""
    joined = "\n".join(texts)
    if joined.count("\n") == len(texts) - 1 and _PLAIN_LINES(joined) is not None:
        return set(texts)
    return set(filter(is_plain, texts))


def normalize_ref(value: Any) -> NormalizedRef:
    """Clean one reference (see the module docstring for what is accepted)."""
    if is_clean(value):
        return NormalizedRef(value, "text", text=value)  # already clean: the common case
    if value is None:
        return NormalizedRef(value, "blank")
    if isinstance(value, bool):
        return _invalid(value, "TRUE/FALSE is not a reference")
    if isinstance(value, int):
        if value in _COM_ERRORS:
            return _excel_error(value, _COM_ERRORS[value])
        return _from_number(value, Decimal(value))
    if type(value) is float and value.is_integer() and 0 <= value < EXACT_FLOATS:
        # What Excel hands over for a column of numbers: exact below 1e15, so its digits
        # are int()'s (the same text the Decimal route below gives, without its cost).
        return NormalizedRef(value, "text", text=str(int(value)))
    if isinstance(value, float):  # (also numpy's float64, a subclass: a pandas column)
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            return _invalid(value, "not a number")
        if abs(number) >= 10**EXCEL_DIGITS:
            return _rounded(value)
        return _from_number(value, Decimal(repr(number)))
    if isinstance(value, numbers.Integral):  # numpy's integers (not int subclasses)
        return _from_number(value, Decimal(int(value)))
    if isinstance(value, Decimal):
        if value.is_finite() and abs(value) >= 10**EXCEL_DIGITS and value.as_tuple().exponent:
            return _rounded(value)
        return _from_number(value, value)
    if isinstance(value, datetime | date | time):
        return _invalid(value, "a date, not a reference (format the column as Text)")
    if not isinstance(value, str):
        return _invalid(value, f"not a reference ({type(value).__name__})")
    return _from_text(value)


def _from_text(value: str) -> NormalizedRef:
    # Full-width digits/letters (Chinese IMEs) → ASCII; NBSP and ideographic space → space.
    text = unicodedata.normalize("NFKC", value).strip()
    if text.upper() in _EXCEL_ERRORS:
        return _excel_error(value, text.upper())
    m = _FORMULA_TEXT.match(text)
    if m:  # ="317964514998308", how some exports keep long numbers as text
        text = m.group(1).strip()
    text = text.lstrip("'=").strip().strip(_QUOTES).strip()
    if not text:
        return NormalizedRef(value, "blank")
    m = _THOUSANDS.match(text)
    if m and (m.group(1) != "." or text.count(".") > 1):
        text = re.sub(r"[^0-9]", "", text)
    # Ids and tracking numbers never contain whitespace: drop what a copied cell brought.
    text = "".join(text.split())
    m = _SCIENTIFIC.match(text)
    if m:
        whole, frac, exponent = m.group(1), m.group(2) or "", int(m.group(3))
        try:
            number = Decimal(f"{whole}.{frac or '0'}e{exponent}")
        except InvalidOperation:
            return _invalid(value, "not a number")
        if number != number.to_integral_value():
            return _invalid(value, "not a whole number: order numbers have no decimals")
        digits = (whole + frac).lstrip("0")
        magnitude = len(str(int(number)))
        # Fewer digits written than the number has: Excel dropped the rest.
        if magnitude > EXCEL_DIGITS or len(digits) < magnitude:
            return _rounded(value)
        return NormalizedRef(value, "text", text=str(int(number)))
    m = _WHOLE_DECIMAL.match(text)
    if m:  # 317964514998308.0 — Excel's General format on an id pasted as a number
        return NormalizedRef(value, "text", text=m.group(1))
    if len(text) > _MAX_LEN:
        return _invalid(value, "too long to be an order or tracking number")
    if not text.isprintable():
        return _invalid(value, "contains control characters")
    if not any(c.isalnum() for c in text):  # "-", "?", "!!!": a placeholder, not a number
        return _invalid(value, "no letters or digits: not an order or tracking number")
    return NormalizedRef(value, "text", text=text)


def ref_text(value: Any) -> str:
    """Just the cleaned text ("" for blank, rounded or invalid references)."""
    return normalize_ref(value).text
