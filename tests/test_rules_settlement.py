"""Settlement per order: sums by kind, net, paid state, and delivered-but-unsettled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from xl_lazada.lazada.models import Transaction
from xl_lazada.rules.settings import RuleSettings
from xl_lazada.rules.settlement import Line, kind_of, settle

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def row(fee_type: str, name: str, amount: str, paid: str = "Paid") -> dict[str, str]:
    return {"fee_type": fee_type, "fee_name": name, "amount": amount, "paid_status": paid}


DELIVERED_ORDER = [
    row("13", "Item Price Credit", "100.00"),
    row("13", "Item Price Credit", "50.50"),
    row("16", "Commission", "-12.04"),
    row("3", "Payment Fee", "-3.01"),
    row("8", "Shipping Fee (Paid By Customer)", "4.90"),
    row("7", "Shipping Fee Paid by Seller", "-6.10"),
]


def test_sums_by_kind_and_net_exact_decimal() -> None:
    s = settle(DELIVERED_ORDER, now=NOW)
    assert s["item_price"] == Decimal("150.50")
    assert s["commission"] == Decimal("-12.04")
    assert s["payment_fee"] == Decimal("-3.01")
    assert s["shipping"] == Decimal("-1.20")
    assert s["reversals"] == Decimal(0) and s["penalties"] == Decimal(0)
    assert s.net == Decimal("134.25")
    assert s.state == "Paid" and s.lines == 6 and s.unpaid_amount == 0


def test_returned_item_reversals() -> None:
    lines = DELIVERED_ORDER[:3] + [
        row("14", "Reversal Item Price", "-100.00", "Not paid"),
        row("15", "Reversal Commission", "8.00", "Not paid"),
    ]
    s = settle(lines, now=NOW)
    assert s["reversals"] == Decimal("-92.00")
    assert s.net == Decimal("46.46")
    assert s.state == "Partially paid"
    assert s.paid_amount == Decimal("138.46") and s.unpaid_amount == Decimal("-92.00")


def test_penalties_by_fee_type_first_then_by_name() -> None:
    # Lazada's published penalty fee types, whatever the name says
    assert kind_of("71", "Fake RTS") == "penalties"
    assert kind_of("93", "Cancellation Due To Late Fulfilment") == "penalties"
    assert kind_of("54", "Penalty") == "penalties"
    assert kind_of("80", "Penalty Charges") == "penalties"
    assert kind_of(" 93 ", "") == "penalties"
    # a listed fee type wins over a name
    assert kind_of("13", "penalty adjustment") == "item_price"
    # fee types not listed: the name decides
    assert kind_of("9001", "Late Fulfilment Cancellation Penalty") == "penalties"
    assert kind_of("9002", "Fake RTS fine") == "penalties"
    assert kind_of("999", "Marketing fee") == "other"
    assert kind_of("999", "Refined sugar rebate") == "other"  # "fine" only as a word
    s = settle(
        [
            row("9001", "Fake RTS Penalty", "-20", "Not paid"),
            row("42", "Sponsored", "-1", "Not paid"),
        ],
        now=NOW,
    )
    assert s["penalties"] == Decimal("-20") and s["other"] == Decimal("-1")
    assert s.state == "Unpaid" and s.net == Decimal("-21")


def test_no_lines_is_not_settled() -> None:
    s = settle([], now=NOW)
    assert s.state == "Not settled" and s.net == 0 and not s.overdue


def test_delivered_but_unsettled_after_more_than_14_days() -> None:
    exactly = settle([], delivered_at=NOW - timedelta(days=14), now=NOW)
    assert not exactly.overdue and exactly.days_since_delivery == pytest.approx(14)
    late = settle([], delivered_at=NOW - timedelta(days=14, seconds=1), now=NOW)
    assert late.overdue
    settled = settle(DELIVERED_ORDER, delivered_at=NOW - timedelta(days=30), now=NOW)
    assert not settled.overdue
    custom = settle(
        [], delivered_at=NOW - timedelta(days=4), now=NOW, settings=RuleSettings(unsettled_days=3)
    )
    assert custom.overdue


def test_accepts_transaction_models_and_rows_with_paid_flag() -> None:
    wire = {
        "transaction_number": "T1",
        "transaction_date": "2026-05-12",
        "fee_type": "13",
        "fee_name": "Item Price Credit",
        "amount": "1,234.50",
        "paid_status": "Not paid",
    }
    s = settle([Transaction.from_wire(wire)], now=NOW)
    assert s.net == Decimal("1234.50") and s.state == "Unpaid"
    assert Line.of({"fee_type": "16", "fee_name": "Commission", "amount": "-1", "paid": 1}).paid
    assert not Line.of({"fee_type": "16", "fee_name": "Commission", "amount": "-1", "paid": 0}).paid
