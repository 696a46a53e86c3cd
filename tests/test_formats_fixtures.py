"""Lazada's published answer shapes (tests/fixtures/lazada/, each citing its source) read
through the envelope, the models, the cache and the rules, as a real seller's sync would."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from xl_lazada.cache import Cache
from xl_lazada.lazada import errors as E
from xl_lazada.lazada.envelope import parse_body
from xl_lazada.lazada.models import (
    Order,
    OrderItem,
    OrderTrace,
    Seller,
    Statement,
    Transaction,
    money_and_currency,
)
from xl_lazada.rules import delivered_time, milestone_of, ready_to_ship_time, settle
from xl_lazada.rules.sorting import sorting_center
from xl_lazada.rules.stuck import stuck_status

FIXTURES = Path(__file__).parent / "fixtures" / "lazada"
ICT = timezone(timedelta(hours=7))
NOW = datetime(2026, 11, 20, tzinfo=UTC)


def body(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def payload(name: str, api: str) -> Any:
    return parse_body(api, 200, body(name)).payload


def test_every_fixture_names_its_source() -> None:
    files = sorted(FIXTURES.glob("*.json"))
    assert len(files) >= 8
    for f in files:
        source = json.loads(f.read_text(encoding="utf-8")).get("_source", "")
        assert len(source) > 40, f"{f.name} must say where its shape comes from"


# -- trace -----------------------------------------------------------------------------------
def test_lazada_trace_sample_reads_as_packed_with_no_null_text() -> None:
    trace = OrderTrace.from_result("56150613585762", payload("trace_sample.json", "/t"))
    (pkg,) = trace.packages
    assert (pkg.package_id, pkg.tracking_number) == ("FP032211046428116", "NLXSG20300914")
    (ev,) = pkg.events
    assert (ev.status_code, ev.detail_type) == ("1200", "ready_to")
    assert ev.location == ""  # Lazada's literal "null" is no place name
    assert ev.event_time == datetime.fromtimestamp(1625987646.597, UTC)
    assert milestone_of(ev) == "packed"
    assert ready_to_ship_time(pkg.events) == ev.event_time


def test_captured_trace_under_data_in_camel_case() -> None:
    trace = OrderTrace.from_result("1", payload("trace_captured_data_camel.json", "/t"))
    (pkg,) = trace.packages
    assert (pkg.package_id, pkg.tracking_number) == ("FP090911226747756", "779258784021")
    codes = [e.status_code for e in pkg.events]
    assert codes == [
        "1200", "100013", "100013", "100102", "100103", "100014", "100018", "100019", "100030"
    ]  # fmt: skip
    kinds = [milestone_of(e) for e in pkg.events]
    assert kinds == [
        "packed",
        "sort_centre_inbound",
        "sort_centre_inbound",
        "left_sort_centre",
        "arrived_destination",
        "in_transit",
        "out_for_delivery",
        "failed_delivery",
        "failed_delivery",
    ]
    rts = ready_to_ship_time(pkg.events)
    sc = sorting_center(pkg.events, rts_at=rts, now=NOW)
    assert sc.arrived_at == pkg.events[1].event_time and not sc.inferred
    assert sc.location == "Lahore - Shahbagh China Scheme"  # the first facility
    assert delivered_time(pkg.events) is None


def test_reported_delivered_sequence_in_result_data() -> None:
    trace = OrderTrace.from_result("1", payload("trace_delivered_sequence.json", "/t"))
    (pkg,) = trace.packages
    events = pkg.events
    assert [milestone_of(e) for e in events] == [
        "packed",
        "handed_over",  # 1210, known by its code although the title is blank
        "sort_centre_inbound",
        "left_sort_centre",
        "arrived_destination",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]
    assert events[1].event_time == datetime.fromtimestamp(1762310000, UTC)  # string ms
    assert delivered_time(events) == datetime.fromtimestamp(1762980000, UTC)
    stuck = stuck_status(["shipped"], events, now=NOW)
    assert not stuck.stuck and stuck.last_code == "1400"  # delivered is final


@pytest.mark.parametrize("case", ["top_level", "param", "in_result"])
def test_trace_not_found_answers_are_not_server_faults(case: str) -> None:
    raw = json.dumps(json.loads(body("trace_not_found.json"))[case]).encode()
    with pytest.raises(E.NotFoundError) as info:
        parse_body("/logistic/order/trace", 200, raw)
    assert not info.value.retryable
    assert info.value.code.startswith("LD_")


def test_trace_empty_answer_is_no_packages() -> None:
    raw = json.dumps(json.loads(body("trace_not_found.json"))["empty"]).encode()
    trace = OrderTrace.from_result("1", parse_body("/logistic/order/trace", 200, raw).payload)
    assert trace.packages == () and trace.found


# -- orders and items --------------------------------------------------------------------------
def test_orders_with_numbers_booleans_and_thousands() -> None:
    data = payload("orders_get.json", "/orders/get")
    orders = [Order.from_wire(o, ICT) for o in data["orders"]]
    assert [o.order_id for o in orders] == ["215194048738322", "215344542205224"]
    assert [o.order_number for o in orders] == ["215194048738322", "215344542205224"]
    assert orders[0].shipping_fee == Decimal("0.00") and orders[0].items_count == 1
    assert orders[1].price == Decimal("1152.00") and orders[1].voucher == Decimal("137.80")
    assert orders[0].promised_shipping_times == ""
    assert orders[0].created_at == datetime(2018, 10, 31, 10, 18, 27, tzinfo=ICT)


def test_ids_past_fifteen_digits_never_pass_through_a_float() -> None:
    raw = b'{"code":"0","data":{"orders":[{"order_id":12345678901234567,"order_number":98765432109876543,"created_at":"2026-11-03 18:36:05 +0800","shipping_fee":1.10,"price":"1,152.35"}]}}'
    (o,) = [Order.from_wire(d) for d in parse_body("/orders/get", 200, raw).payload["orders"]]
    assert (o.order_id, o.order_number) == ("12345678901234567", "98765432109876543")
    assert o.shipping_fee == Decimal("1.10") and str(o.shipping_fee) == "1.10"
    assert o.price == Decimal("1152.35")
    with pytest.raises(ValueError, match="too large"):
        Order.from_wire({"order_id": 12345678901234567.0, "created_at": "2026-11-03"}, UTC)


def test_items_with_numeric_ids_and_empty_optional_fields() -> None:
    rows = payload("order_items_get.json", "/order/items/get")
    items = [OrderItem.from_wire(r, ICT) for r in rows]
    first = items[0]
    assert (first.order_item_id, first.order_id) == ("288480920219609", "288480920119609")
    assert first.paid_price == Decimal("66000.00") and first.item_price == Decimal("66000.00")
    assert first.tracking_code is None and first.package_id is None
    assert first.promised_shipping_time is None
    assert first.sla_time_stamp == datetime(2021, 5, 27, 23, 59, 59, tzinfo=ICT)
    assert first.cancel_return_initiator == "null-null"  # not a bare "null": kept as sent


def test_orders_and_items_fixtures_into_the_cache(tmp_path: Path) -> None:
    orders = [Order.from_wire(o, ICT) for o in payload("orders_get.json", "/x")["orders"]]
    items = [OrderItem.from_wire(r, ICT) for r in payload("order_items_get.json", "/x")]
    # the items belong to another order: re-home them onto the first fixture order
    oid = orders[0].order_id
    items = [OrderItem.from_wire({**i.raw, "order_id": oid}, ICT) for i in items]
    with Cache.open(tmp_path / "c.sqlite3") as cache, cache.transaction():
        cache.upsert_shop("th", "TH", Seller.from_wire({"seller_id": 1}), observed_at=NOW)
        cache.write_orders("th", orders, {oid: items}, observed_at=NOW, record_new=False)
        (row,) = cache.orders("th", order_ids=[oid])
        assert row["order_number"] == "215194048738322" and row["shipping_fee"] == "0.00"
        assert cache.resolve("215194048738322", "th") == [("th", oid)]
        prices = {r["paid_price"] for r in cache.items([oid], "th")}
        assert prices == {"66000.00"}


# -- finance ---------------------------------------------------------------------------------------
def test_finance_lines_with_day_month_year_dates(tmp_path: Path) -> None:
    rows = payload("finance_transactions.json", "/finance/transaction/details/get")
    txs = [Transaction.from_wire(r) for r in rows]
    assert all(t.transaction_date == date(2016, 5, 17) for t in txs)
    assert txs[0].statement_period == (date(2016, 5, 11), date(2016, 5, 17))
    assert txs[0].amount == Decimal("-0.62") and txs[0].wht_amount == Decimal("0.0112")
    s = settle(txs, now=NOW)
    assert s["penalties"] == Decimal("-25.00")  # fee type 93, whatever its name says
    assert s["item_price"] == Decimal("-0.62") and s.state == "Unpaid"
    with Cache.open(tmp_path / "c.sqlite3") as cache, cache.transaction():
        cache.upsert_shop("sg", "SG", None, observed_at=NOW)
        cache.write_transactions("sg", txs, observed_at=NOW)
        got = cache.transactions(shop="sg")
        assert {r["transaction_date"] for r in got} == {"2016-05-17"}
        assert {(r["statement_start"], r["statement_end"]) for r in got} == {
            ("2016-05-11", "2016-05-17")
        }
        assert cache.oldest_unpaid_date("sg") == date(2016, 5, 17)


def test_payout_with_currency_and_extra_fields(tmp_path: Path) -> None:
    (raw,) = payload("payout_status.json", "/finance/payout/status/get")
    tz = timezone(timedelta(hours=8))
    s = Statement.from_wire(raw, tz)
    assert (s.payout, s.payout_currency) == (Decimal("3962.41"), "EUR")
    assert s.shipment_fee == Decimal("51.20") and s.shipment_fee_credit == Decimal("51.20")
    assert s.guarantee_deposit == Decimal("0") and s.fees_on_refunds_total == Decimal("0")
    assert s.created_at == datetime(2018, 1, 4, 0, 23, 4, tzinfo=tz) and not s.paid
    with Cache.open(tmp_path / "c.sqlite3") as cache, cache.transaction():
        cache.upsert_shop("sg", "SG", None, observed_at=NOW)
        cache.write_statements("sg", [s], observed_at=NOW, tz=tz)
        (row,) = cache.statements("sg")
        assert (row["payout"], row["payout_currency"]) == ("3962.41", "EUR")
        assert (row["shipment_fee"], row["fees_on_refunds_total"]) == ("51.20", "0")


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("3962.41 EUR", "3962.41", "EUR"),
        ("1,152.00", "1152.00", ""),
        ("-0.62", "-0.62", ""),
        ("MYR 12.50", "12.50", "MYR"),
        (Decimal("66000.00"), "66000.00", ""),
        (30, "30", ""),
    ],
)
def test_amount_forms(text: Any, amount: str, currency: str) -> None:
    assert money_and_currency(text) == (Decimal(amount), currency)


@pytest.mark.parametrize("bad", ["abc", "1.2.3", "EUR", True])
def test_amounts_that_are_not_amounts_are_named(bad: Any) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        money_and_currency(bad)
