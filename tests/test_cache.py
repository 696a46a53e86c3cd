"""The local cache: schema and migrations, writes from the wire models, the read contract."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from synced_shop import stored_facts

from xl_lazada.cache import Cache, CacheError, default_path
from xl_lazada.cache import db as cache_db
from xl_lazada.cache.schema import CURRENT_VERSION, MIGRATIONS, V1
from xl_lazada.lazada.models import Order, OrderItem, OrderTrace, Seller, Statement, Transaction

MYT = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def order(oid: str, created: str, updated: str | None = None, statuses=("pending",), **kw) -> Order:
    wire = {
        "order_id": oid,
        "order_number": oid,
        "created_at": created,
        "updated_at": updated or created,
        "price": "129.90",
        "statuses": list(statuses),
        "customer_first_name": kw.pop("first", "Siti"),
        "customer_last_name": kw.pop("last", "Aminah"),
        "items_count": "1",
        "remarks": kw.pop("remarks", ""),
        **kw,
    }
    return Order.from_wire(wire, MYT)


def item(
    oid: str, iid: str, status: str, pkg: str | None = None, tn: str | None = None
) -> OrderItem:
    return OrderItem.from_wire(
        {
            "order_item_id": iid,
            "order_id": oid,
            "status": status,
            "name": "Phone case",
            "sku": "SKU-1",
            "paid_price": "64.95",
            "item_price": "69.90",
            "currency": "MYR",
            "tracking_code": tn or "",
            "package_id": pkg or "",
            "sla_time_stamp": "2026-11-05 18:00:00 +0800",
        },
        MYT,
    )


def trace(oid: str, pkg: str, tn: str, *events: tuple[str, datetime]) -> OrderTrace:
    return OrderTrace.from_result(
        oid,
        {
            "module": [
                {
                    "package_detail_info_list": [
                        {
                            "ofc_package_id": pkg,
                            "tracking_number": tn,
                            "logistic_detail_info_list": [
                                {
                                    "status_code": code,
                                    "title": code.title(),
                                    "description": "",
                                    "event_time": str(int(when.timestamp() * 1000)),
                                    "package_location_name": "LGS Shenzhen Sorting Centre",
                                }
                                for code, when in events
                            ],
                        }
                    ]
                }
            ]
        },
    )


def tx(number: str, order_no: str, amount: str, paid: str = "Not paid") -> Transaction:
    return Transaction.from_wire(
        {
            "transaction_number": number,
            "transaction_date": "2026-11-06",
            "fee_name": "Item Price Credit",
            "fee_type": "13",
            "amount": amount,
            "paid_status": paid,
            "order_no": order_no,
            "statement": "2 Nov 2026 - 8 Nov 2026",
        }
    )


@pytest.fixture
def cache(tmp_path):
    c = Cache.open(tmp_path / "cache.sqlite3")
    with c.transaction():
        c.upsert_shop("my", "MY", None, observed_at=NOW)
    yield c
    c.close()


def write(c: Cache, orders, items, shop="my", record_new=False):
    with c.transaction():
        return c.write_orders(shop, orders, items, observed_at=NOW, record_new=record_new)


def test_new_cache_is_wal_with_foreign_keys_and_current_schema(tmp_path):
    c = Cache.open(tmp_path / "sub" / "c.sqlite3")
    conn = c.connection
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert c.schema_version == CURRENT_VERSION
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for t in [
        "shops",
        "orders",
        "items",
        "packages",
        "refs",
        "checkpoints",
        "transactions",
        "statements",
        "watermarks",
        "history",
        "sync_failures",
        "sync_runs",
        "schema_version",
    ]:
        assert t in tables
    c.close()
    # Reopening neither re-runs nor duplicates migrations.
    c2 = Cache.open(tmp_path / "sub" / "c.sqlite3")
    versions = [r[0] for r in c2.connection.execute("SELECT version FROM schema_version")]
    assert versions == [v for v, _ in MIGRATIONS]
    c2.close()


def test_v1_database_migrates_to_current_keeping_data(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = cache_db.connect(path, migrate=False)
    assert cache_db.migrate_to(conn, 1) == 1
    assert "baseline" not in V1  # sanity: this really is the v1 script
    conn.execute(
        "INSERT INTO shops VALUES ('my','MY','1','Shop','SC','','',1,'+08:00',480,NULL,'t','t')"
    )
    conn.execute(
        "INSERT INTO orders (shop, order_id, order_number, created_at, updated_at, statuses,"
        " raw, first_seen_at, synced_at) VALUES ('my','1','1','a','a','shipped','{}','t','t')"
    )
    conn.execute(
        "INSERT INTO packages (shop, package_id, order_id, first_seen_at) VALUES ('my','FP1','1','t')"
    )
    for i, (when, code) in enumerate(
        [("2026-11-01T00:00:00+00:00", "READY_TO_SHIP"), ("2026-11-03T00:00:00+00:00", "HANDOVER")]
    ):
        conn.execute(
            "INSERT INTO checkpoints (shop, package_id, order_id, event_time, status_code, raw,"
            " first_seen_at) VALUES ('my','FP1','1',?,?,'{}',?)",
            (when, code, f"t{i}"),
        )
    cols = {r[1] for r in conn.execute("PRAGMA table_info(packages)")}
    assert "last_status_code" not in cols
    conn.close()

    c = Cache.open(path)
    assert c.schema_version == CURRENT_VERSION
    (pkg,) = c.packages()
    assert pkg["last_status_code"] == "HANDOVER"
    assert pkg["last_event_at"] == "2026-11-03T00:00:00+00:00"
    assert c.orders()[0]["order_id"] == "1"
    assert c.connection.execute("SELECT COUNT(*) FROM sync_runs").fetchone()[0] == 0
    assert c.connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    c.close()


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.sqlite3"
    Cache.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (99, 'x')")
    conn.commit()
    conn.close()
    with pytest.raises(CacheError, match="newer"):
        Cache.open(path)


def test_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CacheError, match="not a usable"):
        Cache.open(path)


def test_default_path_honours_env(tmp_path, monkeypatch):
    monkeypatch.delenv("XL_LAZADA_CACHE", raising=False)
    monkeypatch.setenv("XL_LAZADA_HOME", str(tmp_path / "home"))
    assert default_path() == str(tmp_path / "home" / "cache.sqlite3")
    monkeypatch.setenv("XL_LAZADA_CACHE", str(tmp_path / "x.db"))
    assert default_path() == str(tmp_path / "x.db")
    c = Cache.open()
    assert c.path == str(tmp_path / "x.db") and (tmp_path / "x.db").exists()
    c.close()


def test_orders_items_packages_refs_round_trip(cache):
    o = order("200000000000001", "2026-11-03 18:36:05 +0800", first='=HYPERLINK("http://x","y")')
    its = [
        item(o.order_id, "1", "ready_to_ship", "FP0001", "MYLGS0001"),
        item(o.order_id, "2", "pending"),
    ]
    w = write(cache, [o], {o.order_id: its})
    assert (w.new_orders, w.new_items, w.changed_orders, w.status_changes) == (1, 2, 0, 0)

    (row,) = cache.orders()
    assert row["created_at"] == "2026-11-03T10:36:05+00:00"  # UTC text
    assert row["price"] == "129.90" and Decimal(row["price"]) == Decimal("129.90")
    assert row["buyer_name"].startswith('=HYPERLINK("http://x"')  # stored verbatim, as text
    assert row["statuses"] == "pending"
    assert [i["order_item_id"] for i in cache.items([o.order_id])] == ["1", "2"]
    (pkg,) = cache.packages()
    assert (pkg["package_id"], pkg["tracking_number"], pkg["final"]) == ("FP0001", "MYLGS0001", 0)
    for ref in (o.order_id, " MYLGS0001 ", "FP0001"):
        assert cache.resolve(ref) == [("my", o.order_id)]
    assert cache.resolve("nope") == [] and cache.resolve("  ") == []
    assert cache.resolve("FP0001", shop="other") == []


def test_an_order_id_is_indexed_once_when_it_is_the_orders_number(cache):
    def index() -> list[tuple[str, str]]:
        return [
            tuple(r) for r in cache.connection.execute("SELECT ref, kind FROM refs ORDER BY 1, 2")
        ]

    its = {"1": [item("1", "1", "pending")], "2": [item("2", "1", "pending")]}
    write(cache, [order("1", "2026-11-03 10:00:00 +0800", order_number="N-1")], its)
    write(cache, [order("2", "2026-11-03 10:00:00 +0800", order_number="N-2")], its)
    write(cache, [order("3", "2026-11-03 10:00:00 +0800")], {})  # number = id: one row
    assert index() == [
        ("1", "order_id"), ("2", "order_id"), ("3", "order_number"),
        ("N-1", "order_number"), ("N-2", "order_number"),
    ]  # fmt: skip
    # Order 2 comes back numbered by its id: one row for that text, as the number (the
    # old number still finds it).
    write(cache, [order("2", "2026-11-03 10:00:00 +0800", "2026-11-03 11:00:00 +0800")], its)
    assert index() == [
        ("1", "order_id"), ("2", "order_number"), ("3", "order_number"),
        ("N-1", "order_number"), ("N-2", "order_number"),
    ]  # fmt: skip
    assert cache.resolve("2") == cache.resolve("N-2") == [("my", "2")]


def test_same_ids_in_two_shops_stay_apart(cache):
    with cache.transaction():
        cache.upsert_shop("sg", "SG", None, observed_at=NOW)
    write(cache, [order("1", "2026-11-03 10:00:00 +0800")], {"1": [item("1", "1", "pending")]})
    write(
        cache,
        [order("1", "2026-11-04 10:00:00 +0800", statuses=("shipped",))],
        {"1": [item("1", "1", "shipped", "FP9", "TN9")]},
        shop="sg",
    )
    assert sorted(cache.resolve("1")) == [("my", "1"), ("sg", "1")]
    assert cache.resolve("1", shop="sg") == [("sg", "1")]
    assert [r["status"] for r in cache.items(shop="my")] == ["pending"]
    assert [r["status"] for r in cache.items(shop="sg")] == ["shipped"]
    info = {s.name: s for s in cache.shops()}
    assert info["sg"].venture == "SG" and info["sg"].tz.utcoffset(None) == timedelta(hours=8)


def test_seller_profile_is_stored(cache):
    seller = Seller.from_wire(
        {"seller_id": "1000123", "name": "Shenzhen Gadgets", "short_code": "MY1A2B", "cb": "true"}
    )
    with cache.transaction():
        cache.upsert_shop("my", "MY", seller, observed_at=NOW)
        cache.upsert_shop("my", "MY", None, observed_at=NOW)  # a failed profile call keeps it
    (s,) = cache.shops()
    assert (s.seller_id, s.seller_name, s.cross_border) == ("1000123", "Shenzhen Gadgets", True)


def test_created_date_filter_uses_the_shops_local_day(cache):
    late = order("1", "2026-11-03 23:30:00 +0800")  # 15:30 UTC on the 3rd
    early = order("2", "2026-11-04 00:30:00 +0800")  # 16:30 UTC on the 3rd, local 4th
    write(
        cache, [late, early], {"1": [item("1", "a", "pending")], "2": [item("2", "b", "pending")]}
    )
    ids = lambda rows: [r["order_id"] for r in rows]  # noqa: E731
    assert ids(cache.orders(created_from=date(2026, 11, 4))) == ["2"]
    assert ids(cache.orders(created_to=date(2026, 11, 3))) == ["1"]
    assert ids(cache.orders(created_from="2026-11-03", created_to="2026-11-03")) == ["1"]
    instant = datetime(2026, 11, 3, 16, 0, tzinfo=UTC)
    assert ids(cache.orders(created_from=instant)) == ["2"]
    assert ids(cache.orders(created_to=instant)) == ["1"]
    assert ids(cache.orders(order_ids=["2", "zzz"])) == ["2"]
    # A naive datetime is the shop's local time (what Excel hands over), as everywhere.
    assert ids(cache.orders(created_from=datetime(2026, 11, 4, 0, 0))) == ["2"]
    assert ids(cache.orders(created_to=datetime(2026, 11, 3, 23, 59))) == ["1"]


def test_large_id_lists_are_fine(cache):
    many = [str(i) for i in range(50_000)] + ["1"]
    write(cache, [order("1", "2026-11-03 10:00:00 +0800")], {"1": [item("1", "a", "pending")]})
    assert len(cache.orders(order_ids=many)) == 1
    assert len(cache.items(order_ids=many)) == 1


def test_status_changes_go_to_history_and_vanished_units_are_removed(cache):
    o1 = order("1", "2026-11-03 10:00:00 +0800")
    write(cache, [o1], {"1": [item("1", "a", "pending"), item("1", "b", "pending")]})
    assert cache.history() == []  # the initial load records no history
    o2 = order("1", "2026-11-03 10:00:00 +0800", "2026-11-04 09:00:00 +0800", ("ready_to_ship",))
    w = write(cache, [o2], {"1": [item("1", "a", "ready_to_ship", "FP1", "TN1")]})
    assert (w.new_orders, w.changed_orders, w.status_changes) == (0, 1, 1)
    kinds = [(h["kind"], h["entity_id"], h["old_value"], h["new_value"]) for h in cache.history()]
    assert ("order_statuses", "1", "pending", "ready_to_ship") in kinds
    assert ("item_status", "a", "pending", "ready_to_ship") in kinds
    assert [i["order_item_id"] for i in cache.items()] == ["a"]
    (o,) = cache.orders()
    assert o["first_seen_at"] == NOW.isoformat() and o["updated_at"] == "2026-11-04T01:00:00+00:00"
    # a new order after the baseline is recorded as such
    write(
        cache,
        [order("2", "2026-11-05 10:00:00 +0800")],
        {"2": [item("2", "c", "pending")]},
        record_new=True,
    )
    assert cache.history()[-1]["kind"] == "order_new"
    assert cache.history(since=NOW + timedelta(seconds=1)) == []
    assert len(cache.history(shop="my", since=NOW)) == 3


def test_trace_dedupes_checkpoints_and_finalises_packages(cache):
    t0 = datetime(2026, 11, 4, 1, 0, tzinfo=UTC)
    write(
        cache,
        [order("1", "2026-11-03 10:00:00 +0800", statuses=("shipped",))],
        {"1": [item("1", "a", "shipped", "FP1", "TN1")]},
    )
    tr = trace("1", "FP1", "TN1", ("1200", t0), ("100102", t0 + timedelta(days=2)))
    with cache.transaction():
        assert cache.write_trace("my", tr, observed_at=NOW, record_new=True) == 2
        assert cache.write_trace("my", tr, observed_at=NOW, record_new=True) == 0
    assert [c["status_code"] for c in cache.checkpoints(["FP1"])] == ["1200", "100102"]
    (p,) = cache.packages()
    assert p["ready_to_ship_at"] is None  # only what Lazada sent: the rules' time is a fact
    rts_at = cache.connection.execute("SELECT rts_at FROM package_facts").fetchone()[0]
    assert rts_at == int(t0.timestamp())
    assert (p["last_status_code"], p["final"]) == ("100102", 0)
    assert p["last_traced_at"] == NOW.isoformat()
    assert [h["new_value"] for h in cache.history() if h["kind"] == "checkpoint"] == [
        "1200",
        "100102",
    ]

    # delivered + traced after → final; a later status change (returned) un-finals it
    write(
        cache,
        [order("1", "2026-11-03 10:00:00 +0800", "2026-11-09 10:00:00 +0800", ("delivered",))],
        {"1": [item("1", "a", "delivered", "FP1", "TN1")]},
    )
    assert cache.packages()[0]["final"] == 0  # not traced since it was delivered
    tr2 = trace("1", "FP1", "TN1", ("1400", t0 + timedelta(days=6)))
    with cache.transaction():
        assert cache.write_trace("my", tr2, observed_at=NOW, record_new=True) == 1
    assert cache.packages()[0]["final"] == 1
    assert cache.packages()[0]["last_status_code"] == "1400"
    stale = NOW + timedelta(days=1)
    due = lambda: cache.due_trace_orders(  # noqa: E731
        "my", stale_before=stale, traceable={"shipped", "delivered", "returned"}, trace_once=set()
    )
    assert due() == []
    write(
        cache,
        [order("1", "2026-11-03 10:00:00 +0800", "2026-11-12 10:00:00 +0800", ("returned",))],
        {"1": [item("1", "a", "returned", "FP1", "TN1")]},
    )
    assert cache.packages()[0]["final"] == 0
    assert due() == ["1"]


def test_due_trace_orders(cache):
    write(
        cache,
        [
            order("1", "2026-11-03 10:00:00 +0800"),
            order("2", "2026-11-03 10:00:00 +0800"),
            order("3", "2026-11-03 10:00:00 +0800"),
        ],
        {
            "1": [item("1", "a", "packed", "FP1", "TN1")],  # not ready-to-ship: no trace yet
            "2": [item("2", "b", "ready_to_ship", "FP2", "TN2")],
            "3": [item("3", "c", "canceled", "FP3", "TN3")],  # canceled after packing: once
        },
    )
    kw = dict(traceable={"ready_to_ship"}, trace_once={"canceled"})
    assert cache.due_trace_orders("my", stale_before=NOW, **kw) == ["2", "3"]
    with cache.transaction():
        for oid, pkg in (("2", "FP2"), ("3", "FP3")):
            cache.write_trace("my", trace(oid, pkg, "TN"), observed_at=NOW, record_new=False)
    fresh = NOW - timedelta(seconds=1)
    assert cache.due_trace_orders("my", stale_before=fresh, **kw) == []  # traced since
    later = NOW + timedelta(hours=3)
    assert cache.due_trace_orders("my", stale_before=later, **kw) == ["2"]  # 3 is final
    assert cache.packages(["3"])[0]["final"] == 1


def test_transactions_upsert_and_paid_status_history(cache):
    with cache.transaction():
        w = cache.write_transactions(
            "my", [tx("T1", "1", "64.95"), tx("T2", "1", "-3.25")], observed_at=NOW
        )
    assert (w.new, w.paid_changes) == (2, 0)
    with cache.transaction():
        w = cache.write_transactions("my", [tx("T1", "1", "64.95", "Paid")], observed_at=NOW)
    assert (w.new, w.paid_changes) == (0, 1)
    rows = cache.transactions(["1"])
    assert [(r["transaction_number"], r["paid"]) for r in rows] == [("T1", 1), ("T2", 0)]
    assert sum(Decimal(r["amount"]) for r in rows) == Decimal("61.70")
    (h,) = cache.history()
    assert (h["kind"], h["entity_id"], h["old_value"], h["new_value"]) == (
        "paid_status",
        "T1",
        "Not paid",
        "Paid",
    )
    assert cache.oldest_unpaid_date("my") == date(2026, 11, 6)
    st = Statement.from_wire({"statement_number": "S1", "paid": "0", "payout": "10.00"}, MYT)
    with cache.transaction():
        cache.write_statements("my", [st], observed_at=NOW, tz=MYT)
        cache.write_statements(
            "my",
            [Statement.from_wire({"statement_number": "S1", "paid": "1"}, MYT)],
            observed_at=NOW,
        )
    assert cache.statements()[0]["paid"] == 1
    assert cache.history()[-1]["kind"] == "statement_paid"


def test_a_failed_batch_leaves_nothing_behind(cache):
    with pytest.raises(RuntimeError), cache.transaction():
        cache.write_orders(
            "my",
            [order("1", "2026-11-03 10:00:00 +0800")],
            {"1": [item("1", "a", "pending")]},
            observed_at=NOW,
            record_new=False,
        )
        cache.set_watermark("my", "orders_updated_at", "x", observed_at=NOW)
        raise RuntimeError("killed mid-batch")
    assert (
        cache.orders() == []
        and cache.items() == []
        and cache.watermark("my", "orders_updated_at") is None
    )
    facts = cache.connection.execute("SELECT COUNT(*) FROM order_facts").fetchone()[0]
    assert facts == 0


def test_facts_follow_every_write_in_the_same_transaction(cache):
    """Orders, traces and finance lines each update the order's stored facts as they are
    written (what lookup and the tables read)."""

    def fact(column: str):
        return cache.connection.execute(
            f"SELECT {column} FROM order_facts WHERE shop = 'my' AND order_id = '1'"
        ).fetchone()[0]

    write(cache, [order("1", "2026-11-03 10:00:00 +0800")], {"1": [item("1", "a", "pending")]})
    assert fact("status") == "Pending" and fact("rts_open") == 1
    write(
        cache,
        [order("1", "2026-11-03 10:00:00 +0800", statuses=("ready_to_ship",))],
        {"1": [item("1", "a", "ready_to_ship", "FP1", "TN1")]},
    )
    assert fact("status") == "Ready to ship" and fact("tracking_numbers") == "TN1"
    rts = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
    with cache.transaction():
        cache.write_trace(
            "my",
            trace("1", "FP1", "TN1", ("READY_TO_SHIP", rts)),
            observed_at=NOW,
            record_new=False,
        )
    assert fact("rts_at") == int(rts.timestamp()) and fact("rts_open") == 0
    (pkg,) = cache.packages()
    assert pkg["ready_to_ship_at"] is None  # the rules' answer is not written back as an input
    with cache.transaction():
        cache.write_transactions("my", [tx("T1", "1", "12.50", "Paid")], observed_at=NOW)
    assert fact("settlement_net") == "12.50" and fact("settlement_state") == "Paid"
    # A re-trace that brings nothing new leaves the facts as they are (no recompute).
    gen = cache.connection.execute("SELECT value FROM cache_generation").fetchone()[0]
    with cache.transaction():
        cache.write_trace(
            "my",
            trace("1", "FP1", "TN1", ("READY_TO_SHIP", rts)),
            observed_at=NOW,
            record_new=False,
        )
    assert cache.connection.execute("SELECT value FROM cache_generation").fetchone()[0] == gen
    assert fact("rts_at") == int(rts.timestamp())


def _all_facts(cache) -> dict[str, list[tuple]]:
    return stored_facts(cache.connection)


def _rebuilt(cache) -> dict[str, list[tuple]]:
    from xl_lazada.cache.facts import rebuild_shop

    cache.connection.execute("SAVEPOINT rebuild")
    rebuild_shop(cache.connection, "my")
    out = _all_facts(cache)
    cache.connection.execute("ROLLBACK TO rebuild")
    cache.connection.execute("RELEASE rebuild")
    return out


def test_each_transaction_keeps_facts_equal_to_a_rebuild_whatever_it_wrote(cache):
    """A transaction that only traced an order recomputes only what a trace decides; one
    that also brought finance lines, or rewrote the order, must still leave every fact as
    the rules make it from the rows."""
    t0 = datetime(2026, 11, 4, 1, 0, tzinfo=UTC)
    write(
        cache,
        [
            order("1", "2026-11-03 10:00:00 +0800", statuses=("shipped",)),
            order("2", "2026-11-03 11:00:00 +0800", statuses=("shipped",)),
            order("3", "2026-11-03 12:00:00 +0800", statuses=("shipped",)),
        ],
        {
            "1": [item("1", "a", "shipped", "FP1", "TN1")],
            "2": [item("2", "b", "shipped", "FP2", "TN2")],
            "3": [item("3", "c", "shipped", "FP3", "TN3")],
        },
    )
    with cache.transaction():  # 1: traced only; 2: traced and paid; 3: traced and delivered
        for oid in ("1", "2", "3"):
            cache.write_trace(
                "my",
                trace(
                    oid, f"FP{oid}", f"TN{oid}", ("1200", t0), ("100102", t0 + timedelta(days=1))
                ),
                observed_at=NOW,
                record_new=False,
            )
        cache.write_transactions("my", [tx("T2", "2", "64.95", "Paid")], observed_at=NOW)
        cache.write_orders(
            "my",
            [order("3", "2026-11-03 12:00:00 +0800", "2026-11-09 10:00:00 +0800", ("delivered",))],
            {"3": [item("3", "c", "delivered", "FP3", "TN3")]},
            observed_at=NOW,
            record_new=False,
        )
    kept = _all_facts(cache)
    assert kept == _rebuilt(cache)
    by_order = {r[1]: r for r in kept["order_facts"]}
    assert by_order["2"][27] == "Paid" and by_order["1"][27] == "Not settled"
    assert by_order["3"][4] == "Delivered" and by_order["1"][4] == "Shipped"
    assert {r[1]: r[8] for r in kept["package_facts"]} == {  # last_time: the trace's news
        o: int((t0 + timedelta(days=1)).timestamp()) for o in ("1", "2", "3")
    }


def test_finance_lines_read_again_unchanged_leave_the_facts_alone(cache):
    """Every sync re-reads days of finance lines: only an order whose lines are new or
    changed (amount, paid, fee, date, statement, order) gets its settlement recomputed;
    a line moved to another order changes both."""
    write(
        cache,
        [order("1", "2026-11-03 10:00:00 +0800"), order("2", "2026-11-03 11:00:00 +0800")],
        {"1": [item("1", "a", "delivered")], "2": [item("2", "b", "delivered")]},
    )

    def gen() -> int:
        return cache.connection.execute("SELECT value FROM cache_generation").fetchone()[0]

    def net(oid: str) -> str:
        return cache.connection.execute(
            "SELECT settlement_net FROM order_facts WHERE order_id = ?", (oid,)
        ).fetchone()[0]

    lines = [tx("T1", "1", "64.95"), tx("T2", "1", "-3.25")]
    with cache.transaction():
        cache.write_transactions("my", lines, observed_at=NOW)
    assert net("1") == "61.70"
    before = gen()
    with cache.transaction():
        cache.write_transactions("my", lines, observed_at=NOW + timedelta(hours=1))
    assert gen() == before  # nothing recomputed
    with cache.transaction():  # paid now: the state changes
        cache.write_transactions("my", [tx("T1", "1", "64.95", "Paid")], observed_at=NOW)
    assert gen() > before
    assert (
        cache.connection.execute(
            "SELECT settlement_state FROM order_facts WHERE order_id = '1'"
        ).fetchone()[0]
        == "Partially paid"
    )
    with cache.transaction():  # T2 booked on order 2 instead
        cache.write_transactions("my", [tx("T2", "2", "-3.25")], observed_at=NOW)
    assert (net("1"), net("2")) == ("64.95", "-3.25")
    assert _all_facts(cache) == _rebuilt(cache)


def test_a_trace_of_an_order_without_facts_gets_all_of_them(cache):
    from xl_lazada.cache.facts import refresh_trace_facts

    write(
        cache,
        [order("1", "2026-11-03 10:00:00 +0800", statuses=("shipped",))],
        {"1": [item("1", "a", "shipped", "FP1", "TN1")]},
    )
    with cache.transaction():
        cache.connection.execute("DELETE FROM order_facts")
        cache.connection.execute("DELETE FROM package_facts")
        assert refresh_trace_facts(cache.connection, "my", ["1"]) == 1
    assert _all_facts(cache) == _rebuilt(cache)
    assert len(_all_facts(cache)["order_facts"]) == 1


def _two_shipped(cache) -> None:
    """Orders 1 and 2, shipped, one parcel each (FP1/TN1, FP2/TN2)."""
    write(
        cache,
        [
            order("1", "2026-11-03 10:00:00 +0800", statuses=("shipped",)),
            order("2", "2026-11-03 11:00:00 +0800", statuses=("shipped",)),
        ],
        {
            "1": [item("1", "a", "shipped", "FP1", "TN1")],
            "2": [item("2", "b", "shipped", "FP2", "TN2")],
        },
    )


def test_trace_facts_take_the_checkpoints_the_writer_holds_in_the_stored_order(cache):
    """A trace's facts use the checkpoints its writer has just read and written (no second
    read), in the order a rebuild reads them: by time, then as stored. Events at the same
    time as stored ones come after them; a package traced twice in one transaction keeps
    both traces' events; a trace written outside a transaction is the same."""
    t0 = datetime(2026, 11, 4, 1, 0, tzinfo=UTC)
    t1 = t0 + timedelta(days=1)
    _two_shipped(cache)

    def store(n: str, *events: tuple[str, datetime]) -> None:
        cache.write_trace(
            "my", trace(n, f"FP{n}", f"TN{n}", *events), observed_at=NOW, record_new=False
        )

    with cache.transaction():
        store("1", ("1200", t0), ("2000", t1))
    statements: list[str] = []
    cache.connection.set_trace_callback(statements.append)
    try:
        with cache.transaction():
            # "1300" at the time of the stored "2000": stored first, so it is the last scan.
            store("1", ("2000", t1), ("1300", t1))
            store("2", ("1200", t0))
            store("2", ("1200", t0), ("1300", t1))  # the same package again, same transaction
    finally:
        cache.connection.set_trace_callback(None)
    assert not [s for s in statements if "CROSS JOIN checkpoints" in s]  # none read again
    last = {
        r[0]: r[1:]
        for r in cache.connection.execute("SELECT order_id, last_code, last_time FROM order_facts")
    }
    assert last == {"1": ("1300", int(t1.timestamp())), "2": ("1300", int(t1.timestamp()))}
    assert _all_facts(cache) == _rebuilt(cache)
    store("2", ("2000", t1))  # outside a transaction: recomputed at once, the same way
    assert (
        cache.connection.execute(
            "SELECT last_code FROM order_facts WHERE order_id = '2'"
        ).fetchone()[0]
        == "2000"
    )
    assert _all_facts(cache) == _rebuilt(cache)


def test_a_trace_refresh_counts_one_generation_whatever_it_recomputed(cache):
    """The generation tells front ends that facts changed: one count per refresh, also
    when some of its orders had no facts yet (recomputed whole)."""
    from xl_lazada.cache.facts import refresh_trace_facts

    _two_shipped(cache)

    def gen() -> int:
        return cache.connection.execute("SELECT value FROM cache_generation").fetchone()[0]

    with cache.transaction():
        cache.connection.execute("DELETE FROM order_facts WHERE order_id = '2'")
        before = gen()
        assert refresh_trace_facts(cache.connection, "my", ["1", "2"]) == 2
        assert gen() == before + 1
    assert _all_facts(cache) == _rebuilt(cache)


def test_failures_are_recorded_and_cleared(cache):
    with cache.transaction():
        cache.record_failure("my", "items", "1", "boom\nsecond line", observed_at=NOW)
        cache.record_failure("my", "items", "1", "boom again", observed_at=NOW)
    (f,) = cache.failures()
    assert (f["ref"], f["attempts"], f["error"]) == ("1", 2, "boom again")
    with cache.transaction():
        cache.clear_failures("my", "items", ["1"])
    assert cache.failures() == []


def test_orders_need_their_shop(cache):
    with pytest.raises(sqlite3.IntegrityError), cache.transaction():
        cache.write_orders(
            "ghost",
            [order("1", "2026-11-03 10:00:00 +0800")],
            {},
            observed_at=NOW,
            record_new=False,
        )


def test_readers_open_and_read_while_a_sync_holds_the_write_lock(cache):
    """Excel UDFs read while a sync writes: WAL lets them see the last committed state at
    once, neither waiting for the writer nor seeing its half-written batch."""
    write(cache, [order("1", "2026-11-03 10:00:00 +0800")], {"1": [item("1", "a", "pending")]})
    cache.connection.execute("BEGIN IMMEDIATE")
    try:
        cache.write_orders(
            "my",
            [order("2", "2026-11-03 11:00:00 +0800")],
            {"2": [item("2", "b", "pending")]},
            observed_at=NOW,
            record_new=False,
        )
        started = time.monotonic()
        with Cache.open(cache.path) as reader:  # opening checks the schema: must not block
            assert [r["order_id"] for r in reader.orders("my")] == ["1"]
            assert reader.resolve("2") == []
        assert time.monotonic() - started < 2.0
    finally:
        cache.connection.execute("COMMIT")
    with Cache.open(cache.path) as reader:
        assert [r["order_id"] for r in reader.orders("my")] == ["1", "2"]


def test_resolving_a_reference_in_one_shop_uses_the_reference_index(cache, monkeypatch):
    """A column of 10,000 formulas resolves 10,000 refs: each must be an index lookup, not a
    scan of the shop's whole index (which SQLite picks for ``shop = ?`` without statistics)."""
    plans: list[str] = []
    real_all = cache._all

    def explain(sql, params=()):
        if "FROM refs" in sql:
            plans.extend(
                str(r[-1]) for r in cache.connection.execute("EXPLAIN QUERY PLAN " + sql, params)
            )
        return real_all(sql, params)

    monkeypatch.setattr(cache, "_all", explain)
    cache.resolve("LXMY123", "my")
    assert plans and all("refs_order" not in p for p in plans), plans
    assert any("PRIMARY KEY" in p for p in plans), plans
