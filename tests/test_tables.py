"""Sheet tables over a cache filled by a real sync against the sandbox (HTTP on 127.0.0.1).

Ground truth is the sandbox shop's own projection at its (frozen) simulated time.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from synced_shop import SyncedShop as Synced

from xl_lazada.cache import Cache
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.lazada.dates import parse_datetime
from xl_lazada.sandbox.catalog import WIRE_CODE
from xl_lazada.sandbox.server import SandboxServer
from xl_lazada.sync import SyncOptions, sync_shop
from xl_lazada.tables import (
    ORDERS_COLUMNS,
    TABLES,
    checkpoints_table,
    orders_table,
    settlements_table,
    tracking_table,
)
from xl_lazada.tables.columns import DTYPES

SHOP = "tbl"
SYNCED_ORDERS = 150  # the shop the `synced` fixture (conftest.py) syncs
TABLE_FUNCS = {
    "orders": orders_table,
    "tracking": tracking_table,
    "checkpoints": checkpoints_table,
    "settlements": settlements_table,
}


def local_naive(text: str) -> datetime:
    """A wire time ``2026-11-03 18:36:05 +0800`` as the sheet shows it (shop-local, naive)."""
    return datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S")


# ----------------------------------------------------------------------------- contract


def test_declared_columns_are_unique_and_typed() -> None:
    for cols in TABLES.values():
        assert len({c.name for c in cols}) == len(cols)
        assert all(c.dtype in DTYPES and c.description for c in cols)
    for must in (
        "Shop", "Order number", "Order id", "Created", "Updated", "Status", "Item statuses",
        "Items", "Total", "Buyer", "RTS deadline", "Hours left", "At risk", "Tracking numbers",
        "Last checkpoint", "Last checkpoint time", "Settlement net", "Settlement state",
    ):  # fmt: skip
        assert must in {c.name for c in ORDERS_COLUMNS}
    created = next(c for c in ORDERS_COLUMNS if c.name == "Created")
    assert "UTC+08:00" in created.describe("UTC+08:00")


@pytest.mark.parametrize("name", list(TABLE_FUNCS))
def test_frames_have_exactly_the_declared_columns_and_dtypes(synced: Synced, name: str) -> None:
    df = synced.table(name)
    cols = TABLES[name]
    assert len(df) > 0
    assert list(df.columns) == [c.name for c in cols]
    assert {c.name: str(df[c.name].dtype) for c in cols} == {c.name: c.dtype for c in cols}
    assert df.attrs["tz"] == "UTC+08:00"


@pytest.mark.parametrize("name", list(TABLE_FUNCS))
def test_empty_cache_gives_empty_frames_with_the_same_columns(tmp_path: Path, name: str) -> None:
    with Cache.open(tmp_path / "empty.sqlite3") as cache:
        df = TABLE_FUNCS[name](cache)
    assert len(df) == 0
    assert list(df.columns) == [c.name for c in TABLES[name]]
    assert [str(t) for t in df.dtypes] == [c.dtype for c in TABLES[name]]


# ----------------------------------------------------------------------------- contents


def test_orders_table_is_every_order_once_with_its_facts(synced: Synced) -> None:
    df = synced.table("orders").set_index("Order id", drop=False)
    truth = {o["order_id"]: o for o in synced.truth["orders"]}
    assert sorted(df.index) == sorted(truth)
    for oid, o in truth.items():
        row = df.loc[oid]
        assert row["Order number"] == o["order_number"] and len(oid) == 15
        assert row["Created"] == local_naive(o["created_at"])
        assert row["Updated"] == local_naive(o["updated_at"])
        assert row["Items"] == len(o["items"])
        assert row["Total"] == float(o["price"])
        units = Counter(i["status"] for i in o["items"])
        assert {
            p.split(" ", 1)[1]: int(p.split(" ")[0]) for p in row["Item statuses"].split(", ")
        } == units
        codes = {i["tracking_code"] for i in o["items"] if i["tracking_code"]}
        got = set(row["Tracking numbers"].split(", ")) - {""}
        assert got == codes
        buyer = f"{o['customer_first_name']} {o['customer_last_name']}".strip()
        assert row["Buyer"] == buyer


def test_hostile_buyer_names_stay_plain_text(synced: Synced) -> None:
    df = synced.table("orders")
    hostile = [
        o
        for o in synced.truth["orders"]
        if o["customer_first_name"].startswith(("=", "+", "@", "-"))
    ]
    assert any(o["customer_first_name"].startswith("=HYPERLINK(") for o in hostile)
    for o in hostile:
        row = df[df["Order id"] == o["order_id"]].iloc[0]
        assert isinstance(row["Buyer"], str)
        assert row["Buyer"].startswith(o["customer_first_name"])
    assert str(df["Buyer"].dtype) == "string"
    remarks = {o["order_id"]: o["remarks"] for o in synced.truth["orders"] if o["remarks"]}
    for oid, text in remarks.items():
        assert df.loc[df["Order id"] == oid, "Remarks"].iloc[0] == text


def test_ids_and_tracking_numbers_are_exact_text(synced: Synced) -> None:
    for name in ("orders", "tracking", "checkpoints", "settlements"):
        df = synced.table(name)
        for col in ("Order number", "Order id", "Package id", "Tracking number"):
            if col in df:
                assert str(df[col].dtype) == "string"
    tr = synced.table("tracking")
    truth = {
        p["ofc_package_id"]: p["tracking_number"]
        for pkgs in synced.truth["traces"].values()
        for p in pkgs
    }
    got = dict(zip(tr["Package id"], tr["Tracking number"], strict=True))
    assert {k: got[k] for k in truth} == truth


def test_tracking_table_latest_checkpoint_per_parcel(synced: Synced) -> None:
    tr = synced.table("tracking").set_index("Package id")
    tz = synced.sb.shop.venture.tz
    for oid, pkgs in synced.truth["traces"].items():
        for p in pkgs:
            events = p["logistic_detail_info_list"]
            row = tr.loc[p["ofc_package_id"]]
            assert row["Order id"] == oid
            assert row["Checkpoints"] == len(events)
            last = max(events, key=lambda e: int(e["event_time"]))
            assert row["Last status code"] == WIRE_CODE[last["status_code"]]  # numeric on the wire
            when = parse_datetime(last["event_time"]).astimezone(tz).replace(tzinfo=None)
            assert row["Last checkpoint time"] == when


def test_checkpoints_table_one_row_per_event(synced: Synced) -> None:
    cp = synced.table("checkpoints")
    truth = Counter(
        (p["ofc_package_id"], WIRE_CODE[e["status_code"]], int(e["event_time"]))
        for pkgs in synced.truth["traces"].values()
        for p in pkgs
        for e in p["logistic_detail_info_list"]
    )
    tz = synced.sb.shop.venture.tz
    got = Counter(
        (pkg, code, int(t.replace(tzinfo=tz).timestamp() * 1000))
        for pkg, code, t in zip(cp["Package id"], cp["Status code"], cp["Time"], strict=True)
    )
    assert got == truth
    for _, group in cp.groupby("Package id"):  # oldest first within a parcel
        assert group["Time"].is_monotonic_increasing


def test_settlements_sum_the_sandbox_lines_per_order(synced: Synced) -> None:
    st = synced.table("settlements").set_index("Order number")
    lines: dict[str, list[dict]] = defaultdict(list)
    for t in synced.truth["transactions"]:
        lines[t["order_no"]].append(t)
    checked = 0
    for number in st.index:
        rows = lines.get(number, [])
        row = st.loc[number]
        if not rows:
            assert row["State"] == "Not settled" and pd.isna(row["Net"])
            continue
        net = sum((Decimal(t["amount"]) for t in rows), Decimal(0))
        assert row["Net"] == float(net)
        assert row["Lines"] == len(rows)
        item_price = sum((Decimal(t["amount"]) for t in rows if t["fee_type"] == "13"), Decimal(0))
        assert row["Item price"] == float(item_price)
        paid = {t["paid_status"] for t in rows}
        expected = (
            {"Paid": "Paid", "Not paid": "Unpaid"}.get(paid.pop())
            if len(paid) == 1
            else "Partially paid"
        )
        assert row["State"] == expected
        checked += 1
    assert checked > 10


# ----------------------------------------------------------------------------- filters


def test_date_range_is_inclusive_shop_local_days(synced: Synced) -> None:
    created = {
        o["order_id"]: date.fromisoformat(o["created_at"][:10]) for o in synced.truth["orders"]
    }
    days = sorted(set(created.values()))
    lo, hi = days[len(days) // 3], days[len(days) // 3 + 3]
    want = sorted(oid for oid, d in created.items() if lo <= d <= hi)
    for name in ("orders", "settlements"):
        df = synced.table(name, date_from=lo, date_to=hi)
        assert sorted(df["Order id"]) == want
    only_from = synced.table("orders", date_from=hi)
    assert sorted(only_from["Order id"]) == sorted(oid for oid, d in created.items() if d >= hi)
    # a naive datetime is shop-local time
    start = datetime.combine(lo, datetime.min.time()) + timedelta(hours=12)
    df = synced.table("orders", date_from=start, date_to=datetime.combine(hi, datetime.max.time()))
    exact = {
        o["order_id"]
        for o in synced.truth["orders"]
        if start <= local_naive(o["created_at"]) and created[o["order_id"]] <= hi
    }
    assert set(df["Order id"]) == exact


def test_refs_select_by_order_number_id_tracking_number_and_package_id(synced: Synced) -> None:
    shipped = [(oid, pkgs) for oid, pkgs in synced.truth["traces"].items() if pkgs]
    (o1, _), (o2, p2), (o3, p3) = shipped[0], shipped[1], shipped[2]
    refs = [o1, f"  {p2[0]['tracking_number']} ", p3[0]["ofc_package_id"], "NOPE-123"]
    df = synced.table("orders", refs=refs)
    assert sorted(df["Order id"]) == sorted({o1, o2, o3})
    tr = synced.table("tracking", refs=[p2[0]["tracking_number"]])
    assert list(tr["Package id"]) == [p2[0]["ofc_package_id"]]
    cp = synced.table("checkpoints", refs=[p3[0]["ofc_package_id"]])
    assert set(cp["Package id"]) == {p3[0]["ofc_package_id"]}
    assert len(cp) == len(p3[0]["logistic_detail_info_list"])
    # Excel hands a typed-in id over as a number: still the same order
    assert list(synced.table("orders", refs=[float(o1)])["Order id"]) == [o1]
    assert list(synced.table("orders", refs=[int(o1)])["Order id"]) == [o1]
    assert len(synced.table("orders", refs=["NOPE-123"])) == 0
    assert len(synced.table("orders", refs=[])) == 0


def test_shop_filter(synced: Synced) -> None:
    assert len(synced.table("orders", shop=SHOP)) == len(synced.truth["orders"])
    assert len(synced.table("orders", shop="someone-else")) == 0


def test_two_shops_side_by_side_each_in_its_own_time_zone(tmp_path: Path) -> None:
    path = tmp_path / "two.sqlite3"
    truth: dict[str, dict[str, Any]] = {}
    nows = {}
    for name, venture, seed in (("my-shop", "MY", 21), ("th-shop", "TH", 22)):
        with SandboxServer(orders=40, seed=seed, venture=venture, clock_speed=0.0, qps=1000) as sb:
            days = int(sb.shop.params["days"]) + 5
            conn = sb.connection(sb.issue_token())
            with LazadaClient(conn, default_qps=1000) as client, Cache.open(path) as cache:
                sync_shop(client, cache, name, options=SyncOptions(lookback_days=days))
            nows[name] = sb.clock.now()
            truth[name] = sb.shop.snapshot(nows[name])
    now = max(nows.values())
    with Cache.open(path) as cache:
        both = orders_table(cache, now=now)
        th = orders_table(cache, shop="th-shop", now=now)
        refs = [
            truth["th-shop"]["orders"][0]["order_number"],
            truth["my-shop"]["orders"][-1]["order_id"],
        ]
        picked = orders_table(cache, refs=refs, now=now)
        # References and a creation range together, across the two shops: the one named
        # order of a shop created before the range leaves that shop out entirely, though its
        # parcels were read with it (this used to raise an IndexError).
        shipped = {
            name: sorted(
                (o for o in snap["orders"] if snap["traces"].get(o["order_id"])),
                key=lambda o: o["created_at"],
            )
            for name, snap in truth.items()
        }
        early, late = shipped["my-shop"][0], shipped["th-shop"][-1]
        day = local_naive(early["created_at"]).date() + timedelta(days=1)
        assert local_naive(late["created_at"]).date() >= day
        named = [early["order_number"], late["order_number"]]
        ranged = {
            name: build(cache, refs=named, date_from=day, now=now)
            for name, build in TABLE_FUNCS.items()
        }
    assert list(ranged["orders"]["Order number"]) == [late["order_number"]]
    assert list(ranged["settlements"]["Order number"]) == [late["order_number"]]
    assert set(ranged["tracking"]["Order id"]) == {late["order_id"]}
    assert set(ranged["tracking"]["Package id"]) == {
        p["ofc_package_id"] for p in truth["th-shop"]["traces"][late["order_id"]]
    }
    assert set(ranged["checkpoints"]["Order id"]) <= {late["order_id"]}
    assert all(df.attrs["tz"] == "UTC+07:00" for df in ranged.values() if len(df))
    assert len(both) == sum(len(t["orders"]) for t in truth.values())
    assert both.attrs["tz"] is None
    assert both.attrs["timezones"] == {"my-shop": "UTC+08:00", "th-shop": "UTC+07:00"}
    assert th.attrs["tz"] == "UTC+07:00" and set(th["Shop"]) == {"th-shop"}
    assert set(th["Currency"]) == {"THB"}
    for name, snap in truth.items():
        rows = both[both["Shop"] == name].set_index("Order id")
        for o in snap["orders"]:
            assert rows.loc[o["order_id"], "Created"] == local_naive(o["created_at"])
    assert sorted(zip(picked["Shop"], picked["Order number"], strict=True)) == sorted(
        [("th-shop", refs[0]), ("my-shop", refs[1])]
    )


def test_local_shops_have_no_sorting_centre_verdict(synced: Synced) -> None:
    """Only cross-border (LGS) parcels pass a first-mile sorting centre; a local seller's
    parcel must never show "Not arrived (overdue)"."""
    db = synced.cache.connection
    assert synced.table("tracking")["Sorting centre"].notna().any()
    with db:
        db.execute("UPDATE shops SET cross_border = 0 WHERE shop = ?", (SHOP,))
    try:
        tracking = synced.table("tracking")
        orders = synced.table("orders")
        assert tracking["Sorting centre"].isna().all()
        assert tracking["Sorting centre late"].isna().all()
        assert orders["Sorting centre"].isna().all()
    finally:
        with db:
            db.execute("UPDATE shops SET cross_border = 1 WHERE shop = ?", (SHOP,))


@pytest.mark.parametrize("selection", [{}, {"refs": "sample"}], ids=["whole shop", "by refs"])
def test_all_tables_in_one_pass_equal_the_per_sheet_tables(synced: Synced, selection) -> None:
    from xl_lazada.tables import all_tables

    if selection.get("refs") == "sample":
        pkgs = synced.table("tracking")
        selection = {"refs": [*pkgs["Tracking number"].head(5), *pkgs["Order number"].tail(3)]}
    frames = all_tables(synced.cache, now=synced.now, **selection)
    assert list(frames) == list(TABLES)
    for name, build in TABLE_FUNCS.items():
        pd.testing.assert_frame_equal(
            frames[name], build(synced.cache, now=synced.now, **selection)
        )
        assert frames[name].attrs == build(synced.cache, now=synced.now, **selection).attrs


# ------------------------------------------------------------------------- query plans
BIG_TABLES = (
    "orders", "items", "packages", "refs", "checkpoints", "transactions",
    "order_facts", "package_facts", "history",
)  # fmt: skip


def _plans(conn: Any, statements: list[str]) -> list[tuple[str, str]]:
    """``(statement, plan line)`` for every step that scans a big table."""
    bad = []
    for sql in statements:
        if not sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "INSERT")):
            continue
        for row in conn.execute("EXPLAIN QUERY PLAN " + sql):
            detail = str(row[-1])
            words = detail.split()
            if words[:1] == ["SCAN"] and len(words) > 1 and words[1] in BIG_TABLES:
                bad.append((sql[:160], detail))
    return bad


def test_every_read_by_id_number_or_parcel_uses_an_index(synced: Synced) -> None:
    """Lookups by order id, order number, tracking number and package id, per-order reads of
    items, packages, checkpoints and finance, keeping the facts, and the tables by refs:
    no step scans a big table (every statement run is checked with EXPLAIN QUERY PLAN)."""
    from xl_lazada.cache.facts import refresh_facts
    from xl_lazada.lookup import checkpoints, lookup

    c = synced.cache
    conn = c.connection
    tracking = synced.table("tracking")
    order_ids = list(tracking["Order id"].head(3))
    numbers = list(tracking["Order number"].head(3))
    parcels = list(tracking["Package id"].head(3))
    codes = list(tracking["Tracking number"].dropna().head(3))
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        lookup([*numbers, *order_ids, *parcels, *codes], cache=c, now=synced.now)
        lookup(numbers, shop=SHOP, cache=c, now=synced.now)
        checkpoints(codes[0], cache=c)
        checkpoints(numbers[0], cache=c)
        for shop in (None, SHOP):
            c.orders(shop, order_ids=order_ids)
            c.items(order_ids, shop=shop)
            c.packages(order_ids, shop=shop)
            c.checkpoints(parcels, shop=shop)
            c.transactions(numbers, shop=shop)
            c.resolve(codes[0], shop)
        with c.transaction():
            refresh_facts(conn, SHOP, order_ids)
        for name in TABLE_FUNCS:
            synced.table(name, refs=[numbers[0], codes[-1]])
    finally:
        conn.set_trace_callback(None)
    assert len(seen) > 20
    assert _plans(conn, seen) == []
