"""A seller's sync against a server answering in the shapes Lazada documents, over HTTP.

The sandbox serves Lazada's published shapes by default (numeric trace codes with
detail_type and titles, ids and money as JSON numbers, ``17 May 2016``, ``3962.41 MYR``,
``tracking_code`` gone from delivered items, LD_ errors for foreign orders, E037 for a bad
id in a batch); ``representation="varied"`` also shuffles them. Expected facts come from the
shop's plain ground truth (``Shop.snapshot``), not from the client.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from xl_lazada.cache import Cache
from xl_lazada.cli import cli
from xl_lazada.lazada import tokens as T
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.lazada.dates import parse_datetime
from xl_lazada.lazada.models import OrderTrace, PackageTrace, TraceEvent
from xl_lazada.lazada.ventures import venture
from xl_lazada.lookup import lookup
from xl_lazada.rules import display_status
from xl_lazada.rules.status import PRE_RTS
from xl_lazada.sandbox.server import SandboxServer
from xl_lazada.sandbox.shop import Shop
from xl_lazada.sync import SyncOptions, sync_shop
from xl_lazada.sync.engine import _fetch_items
from xl_lazada.tables import tracking_table

OPTS = SyncOptions(lookback_days=50)
PENALTY_TYPES = {"93", "71"}


def client_for(sb: SandboxServer) -> LazadaClient:
    return LazadaClient(sb.connection(sb.issue_token()), default_qps=5000.0, max_workers=4)


@pytest.fixture(scope="module")
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(orders=160, seed=21, clock_speed=0.0, qps=1000) as server:
        yield server


@pytest.fixture(scope="module")
def synced(sb: SandboxServer, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("formats") / "cache.sqlite3"
    with Cache.open(path) as cache, client_for(sb) as client:
        summary = sync_shop(client, cache, "docs", options=OPTS)
    assert summary.failed == [], summary.failed
    assert summary.new_orders > 100 and summary.new_checkpoints > 100
    return path


def test_documented_shapes_sync_with_every_fact_right(sb: SandboxServer, synced: Path) -> None:
    now = sb.clock.now()
    tz = venture(sb.shop.venture.code).tz
    truth = sb.shop.snapshot(now)
    with Cache.open(synced) as cache:
        ids = [o["order_id"] for o in truth["orders"]]
        views = {a.order_id: a for a in lookup(ids, cache=cache, now=now)}
        parcels = tracking_table(cache, now=now).set_index("Package id")
    assert set(views) == set(ids) and all(v.found for v in views.values())
    lines: dict[str, list[dict]] = {}
    for t in truth["transactions"]:
        lines.setdefault(t["order_no"], []).append(t)
    checked = {"sorting": 0, "penalties": 0, "settled": 0, "tracking": 0}
    for o in truth["orders"]:
        v = views[o["order_id"]]
        units = [i["status"] for i in o["items"]]
        promised = min(
            (parse_datetime(i["sla_time_stamp"], tz) for i in o["items"] if i["status"] in PRE_RTS),
            default=None,
        )
        # status: Seller Center's word from the unit statuses (Lazada's promise for Delayed)
        assert sorted(v.item_statuses) == sorted(units)
        assert v.status == display_status(units, promised_shipping_time=promised, now=now)
        packages = truth["traces"][o["order_id"]]
        # tracking numbers: every parcel's, even where Lazada dropped it from delivered items
        want_numbers = {p["tracking_number"] for p in packages} | {
            i["tracking_code"] for i in o["items"] if i["tracking_code"]
        }
        assert set(v.tracking_numbers) == want_numbers
        checked["tracking"] += bool(want_numbers)
        events = [(p, e) for p in packages for e in p["logistic_detail_info_list"]]
        if events:
            _, last = max(events, key=lambda pe: int(pe[1]["event_time"]))
            assert v.last_checkpoint_title == last["title"]
            assert v.last_checkpoint_time == parse_datetime(last["event_time"])
        for p in packages:
            scans = [
                e
                for e in p["logistic_detail_info_list"]
                if e["status_code"] == "IB_SUCCESS_FIRST_MILE_HUB"
            ]
            row = parcels.loc[p["ofc_package_id"]]
            if scans:
                arrived = parse_datetime(scans[0]["event_time"]).astimezone(tz)
                assert row["Sorting centre arrival"] == arrived.replace(tzinfo=None)
                assert row["Sorting centre location"] == scans[0]["package_location_name"]
                checked["sorting"] += 1
        mine = lines.get(o["order_number"], [])
        penalties = sum(
            (Decimal(t["amount"]) for t in mine if t["fee_type"] in PENALTY_TYPES), Decimal(0)
        )
        if mine:
            assert v.settlement_components.get("penalties", Decimal(0)) == penalties
            assert v.settlement_net == sum((Decimal(t["amount"]) for t in mine), Decimal(0))
        else:
            assert v.settlement_net is None
        checked["penalties"] += penalties < 0
        checked["settled"] += bool(mine)
    assert all(checked.values()), checked


def test_finance_and_payouts_land_in_the_cache(sb: SandboxServer, synced: Path) -> None:
    truth = sb.shop.snapshot(sb.clock.now())
    with Cache.open(synced) as cache:
        txs = {r["transaction_number"]: r for r in cache.transactions(shop="docs")}
        statements = cache.statements("docs")
    assert set(txs) == {t["transaction_number"] for t in truth["transactions"]}
    for t in truth["transactions"]:
        row = txs[t["transaction_number"]]
        assert row["transaction_date"] == t["transaction_date"]  # read from "17 May 2016"
        assert row["statement_start"] and row["statement_end"] >= row["statement_start"]
    assert statements and all(s["payout_currency"] == "MYR" for s in statements)
    want = {s["statement_number"]: Decimal(s["payout"]) for s in truth["statements"]}
    assert {s["statement_number"]: Decimal(s["payout"]) for s in statements} == want


def test_varied_representation_syncs_to_the_same_cache(
    sb: SandboxServer, synced: Path, tmp_path
) -> None:
    path = tmp_path / "varied.sqlite3"
    with (
        SandboxServer(
            shop=sb.shop,
            clock_speed=0.0,
            qps=1000,
            sim_start=sb.clock.now(),
            representation="varied",
            representation_seed=5,
        ) as varied,
        Cache.open(path) as cache,
        client_for(varied) as client,
    ):
        summary = sync_shop(client, cache, "docs", options=OPTS)
    assert summary.failed == [], summary.failed

    def tables(p: Path) -> dict[str, set]:
        with Cache.open(p) as c:
            con = c.connection
            return {
                "orders": set(
                    con.execute(
                        "SELECT order_id, order_number, updated_at, statuses, price, shipping_fee FROM orders"
                    )
                ),
                "items": set(
                    con.execute("SELECT order_item_id, status, package_id, paid_price FROM items")
                ),
                "packages": set(
                    con.execute(
                        "SELECT package_id, tracking_number, ready_to_ship_at FROM packages"
                    )
                ),
                "checkpoints": set(
                    con.execute(
                        "SELECT package_id, event_time, status_code, title FROM checkpoints"
                    )
                ),
                "transactions": set(
                    con.execute(
                        "SELECT transaction_number, transaction_date, amount, fee_type FROM transactions"
                    )
                ),
                "statements": set(
                    con.execute("SELECT statement_number, payout, payout_currency FROM statements")
                ),
            }

    assert tables(path) == tables(synced)


def test_a_batch_with_one_bad_id_still_reads_the_other_49(sb: SandboxServer) -> None:
    good = [o["order_id"] for o in sb.shop.snapshot(sb.clock.now())["orders"][:49]]
    bad = "123456789012345"  # another shop's order
    with client_for(sb) as client:
        before = sb.stats.by_api["/orders/items/get"]
        items = client.orders_items(good[:20] + [bad] + good[20:])
        calls = sb.stats.by_api["/orders/items/get"] - before
        assert set(items) == set(good) and all(items[g] for g in good)
        assert calls <= 1 + 2 * math.ceil(math.log2(50)), calls  # bisected, not 50 singles
        # the sync records the bad order and keeps the rest
        got, errors = _fetch_items(client, [*good[:10], bad])
    assert set(got) == set(good[:10]) and set(errors) == {bad}
    assert "16" in str(errors[bad]) or "Invalid Order" in str(errors[bad])


def test_another_shops_order_on_trace_is_one_call_and_no_fault(sb: SandboxServer) -> None:
    with client_for(sb) as client:
        before = sb.stats.by_api["/logistic/order/trace"]
        trace = client.trace("123456789012345")
        after = sb.stats.by_api["/logistic/order/trace"]
    assert not trace.found and trace.packages == ()
    assert after - before == 1  # an answer, not a server fault retried five times


def test_a_tracking_number_that_vanished_after_delivery_still_resolves(tmp_path) -> None:
    shop = Shop.generate(seed=21, orders=160)
    now = shop.generated_at
    start = now - timedelta(days=8)
    target = None  # a parcel on its way at "start" and delivered before "now"
    for o in shop.to_dict()["orders"]:
        for p in o["packages"]:
            names = {e[1]: e[0] for e in p[2]}
            if (
                "DELIVERED" in names
                and names["READY_TO_SHIP"]
                < start.timestamp()
                < names["DELIVERED"]
                < now.timestamp()
            ):
                target = (o["id"], p[0], p[1], names["DELIVERED"])
                break
        if target:
            break
    assert target, "the generated shop should deliver something in the last week"
    oid, package_id, tracking, delivered = target
    path = tmp_path / "c.sqlite3"
    with (
        SandboxServer(shop=shop, sim_start=start, clock_speed=0.0, qps=1000) as sb,
        Cache.open(path) as cache,
        client_for(sb) as client,
    ):
        assert sync_shop(client, cache, "s", options=OPTS).failed == []
        assert tracking in [r["tracking_code"] for r in cache.items([oid], "s")]
        sb.clock.advance(now - start)
        assert sync_shop(client, cache, "s", options=OPTS).failed == []
        wire = [i for i in client.order_items(oid) if i.package_id == package_id]
        assert wire and all(i.status == "delivered" and i.tracking_code is None for i in wire)
        # the cache never forgets it, and a lookup by it still works
        assert tracking in [r["tracking_code"] for r in cache.items([oid], "s")]
        (pkg,) = [p for p in cache.packages([oid], "s") if p["package_id"] == package_id]
        assert pkg["tracking_number"] == tracking
        assert cache.resolve(tracking, "s") == [("s", oid)]
        (view,) = lookup([tracking], cache=cache, now=now)
    assert view.order_id == oid and tracking in view.tracking_numbers
    # delivered when the trace's delivered scan says, not when the item last changed
    assert view.delivered_at is not None and view.delivered_at.timestamp() == delivered


def test_refreshing_does_not_extend_the_login(sb: SandboxServer) -> None:
    first = T.Token.from_wire(sb.issue_token())
    with client_for(sb) as client:
        renewed = T.refresh(client, first.refresh_token)
    assert abs((renewed.refresh_expires_at - first.refresh_expires_at).total_seconds()) < 5
    assert renewed.refreshable and renewed.access_token != first.access_token


def test_doctor_and_status_show_codes_the_table_does_not_know(sb, synced, tmp_path) -> None:
    runner = CliRunner()
    path = tmp_path / "copy.sqlite3"
    path.write_bytes(synced.read_bytes())
    result = runner.invoke(cli, ["doctor", "--cache", str(path), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    cps = report["checkpoints"]
    assert cps["events"] > 100 and cps["unmatched_events"] == 0
    # the sandbox's own 9xxxxx codes are matched by title only: listed so they get noticed
    assert {c["status_code"] for c in cps["unlisted"]} >= {"900201", "900204"}
    assert all(c["matched_by"] == "title" for c in cps["unlisted"])

    # a checkpoint nothing matches: kept, shown by its title, counted
    with Cache.open(path) as cache:
        oid = next(r["order_id"] for r in cache.packages(shop="docs"))
        pkg = next(r for r in cache.packages([oid], "docs"))
        odd = TraceEvent.from_wire(
            {"status_code": "777777", "detail_type": "other", "title": "Parcel information updated",
             "event_time": int(sb.clock.now().timestamp() * 1000)}
        )  # fmt: skip
        trace = OrderTrace(
            oid, (PackageTrace(pkg["package_id"], pkg["tracking_number"] or "", (odd,)),)
        )
        with cache.transaction():
            cache.write_trace("docs", trace, observed_at=sb.clock.now(), record_new=False)
    result = runner.invoke(cli, ["doctor", "--cache", str(path), "--json"], catch_exceptions=False)
    report = json.loads(result.output)
    assert report["checkpoints"]["unmatched_events"] == 1
    assert report["checkpoints"]["unmatched"][0]["title"] == "Parcel information updated"
    assert any("match no milestone" in w for w in report["warnings"])
    text = runner.invoke(cli, ["doctor", "--cache", str(path)], catch_exceptions=False).output
    assert "777777" in text and "Parcel information updated" in text
    at = sb.clock.now().isoformat()
    status = runner.invoke(
        cli, ["status", oid, "--cache", str(path), "--at", at], catch_exceptions=False
    )
    assert "Unrecognised:     1 checkpoint" in status.output
    assert "Parcel information updated" in status.output  # the latest event, by its own title


def test_sync_warns_when_the_login_ends_soon(monkeypatch, tmp_path) -> None:
    from xl_lazada.cli import sync_cmd

    with SandboxServer(orders=20, seed=3, clock_speed=0.0, qps=1000, refresh_ttl=3 * 86400) as sb:
        token = T.Token.from_wire(sb.issue_token())
        assert 2.9 < (token.refresh_expires_at - token.issued_at).total_seconds() / 86400 <= 3

        def opened(shop, **kw):
            return LazadaClient(sb.connection(), token=token, default_qps=5000.0)

        monkeypatch.setattr(sync_cmd, "_open_client", opened)
        result = CliRunner().invoke(
            cli,
            [
                "sync",
                "--shop",
                "soon",
                "--cache",
                str(tmp_path / "c.sqlite3"),
                "--lookback-days",
                "50",
            ],
            catch_exceptions=False,
        )
    assert result.exit_code == 0, result.output
    assert "warning: shop 'soon': the Lazada login ends" in result.output
    assert "xl-lazada login --name soon" in result.output
