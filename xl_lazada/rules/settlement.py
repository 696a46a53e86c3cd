"""What Lazada owes or paid per order, from its finance transaction lines.

Lazada settles an order once it is delivered and pays it in the next payout cycle; sellers
need to see which delivered orders were never settled. Lines are grouped by fee type first
(13 item price, 16 commission, 3 payment fee, 8/7 shipping, 14/15 reversals, and the
published penalty types 71 Fake RTS, 93 Cancellation Due To Late Fulfilment, 54 Penalty,
80 Penalty Charges), then by name for fee types not listed ("... penalty ...", "fake rts",
"late fulfil..."); everything else is "other". Money stays ``Decimal``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from .clock import unsettled_now
from .settings import DEFAULT_SETTINGS, RuleSettings

ITEM_PRICE = "item_price"
COMMISSION = "commission"
PAYMENT_FEE = "payment_fee"
SHIPPING = "shipping"
REVERSALS = "reversals"
PENALTIES = "penalties"
OTHER = "other"
KINDS: tuple[str, ...] = (
    ITEM_PRICE,
    COMMISSION,
    PAYMENT_FEE,
    SHIPPING,
    REVERSALS,
    PENALTIES,
    OTHER,
)

FEE_TYPE_KIND: dict[str, str] = {
    "13": ITEM_PRICE,
    "16": COMMISSION,
    "3": PAYMENT_FEE,
    "8": SHIPPING,
    "7": SHIPPING,
    "14": REVERSALS,
    "15": REVERSALS,
    # Lazada's published penalty fee types (the fine for missing the 48 h rule is 93).
    "71": PENALTIES,  # Fake RTS
    "93": PENALTIES,  # Cancellation Due To Late Fulfilment
    "54": PENALTIES,  # Penalty
    "80": PENALTIES,  # Penalty Charges
}

#: A fee name that marks a penalty when its fee type is not in the table above.
PENALTY_NAME = re.compile(r"\bpenalt|\bfake rts\b|\blate fulfil|\bfined?\b", re.IGNORECASE)

PAID = "Paid"
UNPAID = "Unpaid"
PARTIALLY_PAID = "Partially paid"
NOT_SETTLED = "Not settled"

_PAID_WORDS = frozenset({"paid", "1", "true", "yes"})
_ZERO = Decimal(0)


class Line(NamedTuple):
    """One transaction line: the parts of a Lazada finance row this rule reads (a named
    tuple: one is made per finance line each time an order's settlement is computed)."""

    fee_type: str
    fee_name: str
    amount: Decimal
    paid: bool

    @classmethod
    def of(cls, tx: Any) -> Line:
        """From a ``Transaction`` model or a mapping with the wire names."""
        get = tx.__getitem__ if not hasattr(tx, "fee_type") else lambda k: getattr(tx, k)
        paid = _paid(_field(get, "paid", "paid_status"))
        amount = _field(get, "amount")
        return cls(
            fee_type=str(_field(get, "fee_type") or "").strip(),
            fee_name=str(_field(get, "fee_name") or "").strip(),
            amount=amount if isinstance(amount, Decimal) else Decimal(str(amount or "0")),
            paid=paid,
        )


def _field(get: Any, *names: str) -> Any:
    for name in names:
        try:
            value = get(name)
        except (KeyError, IndexError, AttributeError):
            continue
        if value is not None:
            return value
    return None


def _paid(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    return str(value or "").strip().lower() in _PAID_WORDS


@lru_cache(maxsize=4096)
def kind_of(fee_type: str, fee_name: str) -> str:
    """Group of a line: the fee-type table first, then penalty words in the name, else other.
    Remembered: an order's lines repeat a few (type, name) pairs."""
    kind = FEE_TYPE_KIND.get(str(fee_type).strip())
    if kind is not None:
        return kind
    if PENALTY_NAME.search(" ".join(str(fee_name).split())):
        return PENALTIES
    return OTHER


@dataclass(frozen=True, slots=True)
class Settlement:
    """Sums per kind, net, paid part and state for one order."""

    totals: dict[str, Decimal] = field(default_factory=dict)
    net: Decimal = Decimal(0)
    paid_amount: Decimal = Decimal(0)
    lines: int = 0
    state: str = NOT_SETTLED
    delivered_at: datetime | None = None
    days_since_delivery: float | None = None
    overdue: bool = False  # delivered, nothing settled, more than ``unsettled_days`` ago

    def __getitem__(self, kind: str) -> Decimal:
        return self.totals.get(kind, Decimal(0))

    @property
    def unpaid_amount(self) -> Decimal:
        return self.net - self.paid_amount


def settle(
    transactions: Iterable[Any],
    *,
    delivered_at: datetime | None = None,
    now: datetime,
    settings: RuleSettings = DEFAULT_SETTINGS,
) -> Settlement:
    """Settle one order's lines (models, rows or :class:`Line`), judged at ``now``.

    State: no lines → Not settled; every line paid → Paid; none → Unpaid; else Partially paid.
    """
    s = settled(transactions)
    if delivered_at is None:
        return s
    overdue, since = unsettled_now(s.lines, delivered_at, now, settings)
    return replace(s, delivered_at=delivered_at, days_since_delivery=since, overdue=overdue)


def settled(transactions: Iterable[Any]) -> Settlement:
    """The clock-free half of :func:`settle`: sums, net, paid part, state (what the cache
    keeps per order; whether an unsettled delivery is overdue depends on the clock)."""
    lines = [t if isinstance(t, Line) else Line.of(t) for t in transactions]
    totals = dict.fromkeys(KINDS, _ZERO)
    paid_amount = _ZERO
    for line in lines:
        totals[kind_of(line.fee_type, line.fee_name)] += line.amount
        if line.paid:
            paid_amount += line.amount
    net = sum(totals.values(), _ZERO)
    if not lines:
        state = NOT_SETTLED
    elif all(line.paid for line in lines):
        state = PAID
    elif not any(line.paid for line in lines):
        state = UNPAID
    else:
        state = PARTIALLY_PAID
    return Settlement(
        totals=totals, net=net, paid_amount=paid_amount, lines=len(lines), state=state
    )
