"""Worksheet formulas against a cache filled by a real sync of the sandbox shop.

The xlwings decorators are no-ops here, so the UDFs receive exactly what Excel would hand
them without conversion (floats for numbers, ``None`` for blanks, nested lists for ranges)
and the tests call the very functions Excel calls.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from xl_lazada.cache import Cache
from xl_lazada.cli import main
from xl_lazada.excel import answers, cells, fetch, source, udfs
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.sync import SyncOptions, sync_shop


@dataclass
class World:
    path: Path
    now: datetime
    orders: list[dict[str, Any]]  # the sandbox's truth at sync time

    def numbers(self) -> list[str]:
        return [o["order_number"] for o in self.orders]

    def tracking(self) -> list[str]:
        return sorted(
            {i["tracking_code"] for o in self.orders for i in o["items"] if i["tracking_code"]}
        )

    def packages(self) -> list[str]:
        return sorted({i["package_id"] for o in self.orders for i in o["items"] if i["package_id"]})


@pytest.fixture(scope="module")
def world(sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = Path(tmp_path_factory.mktemp("udfs")) / "cache.sqlite3"
    days = int(sandbox.shop.params["days"]) + 5
    with (
        LazadaClient(sandbox.connection(), default_qps=1000) as client,
        Cache.open(path) as cache,
    ):
        sync_shop(client, cache, "sandbox", options=SyncOptions(lookback_days=days))
    now = sandbox.clock.now()
    yield World(path, now, sandbox.shop.snapshot(now)["orders"])


@pytest.fixture(autouse=True)
def _no_fetch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No shop connected and fetching off unless a test says otherwise."""
    for name in ("XL_LAZADA_APP_KEY", "XL_LAZADA_APP_SECRET", "XL_LAZADA_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XL_LAZADA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(fetch.ENV_BUDGET, "0")
    source.clear()
    fetch.reset()
    yield
    fetch.reset()
    source.clear()


def cli_json(
    capsys: pytest.CaptureFixture[str], world: World, refs: list[str], *at: str
) -> list[dict[str, Any]]:
    main(["status", "--cache", str(world.path), "--json", *at, *refs])
    return json.loads(capsys.readouterr().out)


def local(iso: str | None) -> datetime | None:
    return None if iso is None else datetime.fromisoformat(iso).replace(tzinfo=None)


# ---- shapes -------------------------------------------------------------------------------
def test_shapes_follow_the_input() -> None:
    assert cells.flatten("a") == (["a"], cells.Shape(1, 1, scalar=True))
    assert cells.flatten(["a", None]) == (["a", None], cells.Shape(2, 1))
    assert cells.flatten([["a"], [None]]) == (["a", None], cells.Shape(2, 1))
    assert cells.flatten([["a", "b"], ["c"]]) == (["a", "b", "c", None], cells.Shape(2, 2))
    assert cells.shaped(["x"], cells.Shape(1, 1, scalar=True)) == "x"
    assert cells.shaped(["x", "y"], cells.Shape(2, 1)) == [["x"], ["y"]]
    assert cells.shaped([], cells.Shape(0, 1)) == [[""]]
    assert cells.text_arg(None) is None and cells.text_arg("  ") is None
    assert cells.text_arg(2.0) == "2" and cells.text_arg([[" shop "]]) == "shop"


# ---- single cells agree with `xl-lazada status --json` ------------------------------------
def test_single_cells_agree_with_status_json(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XL_LAZADA_CACHE", str(world.path))
    rnd = random.Random(3)
    refs = rnd.sample(world.numbers(), 12) + rnd.sample(world.tracking(), 8)
    refs += rnd.sample(world.packages(), 5)
    expected = cli_json(capsys, world, refs)
    assert len(expected) == len(refs)
    for ref, want in zip(refs, expected, strict=True):
        # What Excel hands over: the order number typed as a number arrives as a float.
        typed: Any = float(ref) if ref.isdigit() else ref
        assert udfs.LAZADA_STATUS(typed) == want["status"], ref
        assert udfs.LAZADA_TRACKING(typed) == ", ".join(want["tracking_numbers"])
        assert udfs.LAZADA_LAST_CHECKPOINT(typed) == (want["last_checkpoint"] or "")
        assert udfs.LAZADA_LAST_CHECKPOINT(typed, "location") == (
            want["last_checkpoint_location"] or ""
        )
        assert udfs.LAZADA_LAST_CHECKPOINT(typed, "time") == (
            local(want["last_checkpoint_time"]) or ""
        )
        assert udfs.LAZADA_RTS_DEADLINE(typed) == (local(want["rts_deadline"]) or "")
        assert udfs.LAZADA_RTS_DEADLINE(typed, "late") == want["rts_late"]
        assert udfs.LAZADA_SORTING_CENTER(typed) == (want["sorting_centre"] or "")
        net = udfs.LAZADA_SETTLEMENT(typed)
        if want["settlement_net"] is None:
            assert net == want["settlement_state"]
        else:
            assert net == want["settlement_net"] and isinstance(net, float)
        assert udfs.LAZADA_SETTLEMENT(typed, "state") == want["settlement_state"]
        synced = udfs.LAZADA_SYNCED_AT(typed)
        assert isinstance(synced, datetime) and synced.tzinfo is None


def test_datetimes_are_naive_shop_local(world: World) -> None:
    number = world.numbers()[0]
    got = answers.rts_deadline_values(number, cache=world.path, now=world.now)
    status = source.find([number], cache=world.path, now=world.now).statuses[0]
    assert status.rts_deadline is not None
    assert got == status.rts_deadline.astimezone(status.shop_tz).replace(tzinfo=None)


# ---- a 2,000-row range in one call ----------------------------------------------------------
def _range_refs(world: World) -> tuple[list[Any], list[str]]:
    """(what Excel hands over, what a seller would type on the command line)."""
    rnd = random.Random(11)
    numbers, tracking, packages = world.numbers(), world.tracking(), world.packages()
    given: list[Any] = []
    typed: list[str] = []
    for i in range(2000):
        k = i % 10
        if k in (0, 1):
            n = rnd.choice(numbers)
            given.append(n), typed.append(n)
        elif k == 2:
            n = rnd.choice(numbers)
            given.append(float(n)), typed.append(n)  # a number cell
        elif k == 3:
            n = rnd.choice(numbers)
            sci = f"{int(n):.14E}".replace(".", ".", 1)  # all 15 digits: exact
            given.append(sci), typed.append(sci)
        elif k == 4:
            t = rnd.choice(tracking)
            given.append(t), typed.append(t)
        elif k == 5:
            t = rnd.choice(tracking)
            given.append(f"  {t.lower()} "), typed.append(t.lower())
        elif k == 6:
            p = rnd.choice(packages)
            given.append(p), typed.append(p)
        elif k == 7:
            given.append(None), typed.append("")
        elif k == 8:
            given.append(f"NOPE{i:06d}"), typed.append(f"NOPE{i:06d}")
        else:
            n = rnd.choice(numbers)
            short = f"{int(n):.5E}"  # what Excel shows in a General column: digits lost
            given.append(short), typed.append(short)
    return given, typed


def test_range_of_2000_agrees_with_status_json(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    given, typed = _range_refs(world)
    column = [[v] for v in given]
    at = ("--at", world.now.isoformat())
    expected = cli_json(capsys, world, typed, *at)
    assert len(expected) == len(given)  # no tracking number here names two orders
    kw: dict[str, Any] = {"cache": world.path, "now": world.now}
    status = answers.status_values(column, **kw)
    tracking = answers.tracking_values(column, **kw)
    deadline = answers.rts_deadline_values(column, **kw)
    settlement = answers.settlement_values(column, **kw)
    assert len(status) == 2000 and all(len(r) == 1 for r in status)
    kinds: dict[str, int] = {}
    for i, want in enumerate(expected):
        got = status[i][0]
        if "error" not in want:
            kinds["found"] = kinds.get("found", 0) + 1
            assert got == want["status"]
            assert tracking[i][0] == ", ".join(want["tracking_numbers"])
            assert deadline[i][0] == (local(want["rts_deadline"]) or "")
            if want["settlement_net"] is not None:
                assert settlement[i][0] == want["settlement_net"]
            continue
        assert isinstance(got, str)
        if given[i] is None:
            kinds["blank"] = kinds.get("blank", 0) + 1
            assert got == "" and tracking[i][0] == ""
        elif "rounded" in want["error"]:
            kinds["rounded"] = kinds.get("rounded", 0) + 1
            assert got == answers.ROUNDED
        else:
            kinds["unknown"] = kinds.get("unknown", 0) + 1
            assert got == "not synced yet — press Refresh"
            assert deadline[i][0] == got and settlement[i][0] == got
    assert kinds == {"found": 1400, "blank": 200, "rounded": 200, "unknown": 200}


def test_repeats_come_from_the_memo_until_a_sync_commits(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = source._lookup

    def counting(values: Any, *a: Any) -> Any:
        calls.append(len(values))
        return real(values, *a)

    monkeypatch.setattr(source, "_lookup", counting)
    refs = [[n] for n in world.numbers()[:300]] * 2
    first = answers.status_values(refs, cache=world.path)
    assert calls == [300]  # duplicates asked once
    assert answers.tracking_values(refs, cache=world.path)
    assert answers.status_values(refs, cache=world.path) == first
    assert calls == [300]  # a second formula over the same refs: no cache read
    # Formulas naming a shop keep their own answers; neither pushes the other's out.
    assert answers.status_values(refs, "sandbox", cache=world.path) == first
    assert answers.status_values(refs, cache=world.path) == first
    assert calls == [300, 300]
    with Cache.open(world.path) as cache, cache.transaction() as conn:
        conn.execute("UPDATE cache_generation SET value = value + 1 WHERE id = 1")
    answers.status_values(refs, cache=world.path)
    assert calls == [300, 300, 300]


def test_one_formula_call_reads_the_cache_generation_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Noticing a refresh costs one read of the cache per formula call, answered or not."""
    reads: list[int] = []
    real = source._generation

    def counting(cache: Any) -> str:
        reads.append(1)
        return real(cache)

    monkeypatch.setattr(source, "_generation", counting)
    number = world.numbers()[0]
    for call in (
        lambda: answers.status_values(number, cache=world.path),  # first time: looked up
        lambda: answers.status_values(number, cache=world.path),  # the result memo
        lambda: answers.tracking_values(number, cache=world.path),  # the answer memo
        lambda: answers.status_values("0000000000", cache=world.path),  # not found
    ):
        reads.clear()
        call()
        assert len(reads) == 1


# ---- checkpoints ------------------------------------------------------------------------------
def test_checkpoints_spill_the_history(env_cache: World) -> None:
    world = env_cache
    tracked = next(
        o
        for o in world.orders
        if any(i["tracking_code"] for i in o["items"]) and o["statuses"] == ["delivered"]
    )
    rows = udfs.LAZADA_CHECKPOINTS(tracked["order_number"])
    assert isinstance(rows, list) and all(len(r) == 4 for r in rows)
    assert rows[0][0] != "no checkpoints yet"  # a delivered parcel was scanned
    times = [r[0] for r in rows]
    assert all(isinstance(t, datetime) and t.tzinfo is None for t in times)
    assert times == sorted(times)
    last = answers.last_checkpoint_values(tracked["order_number"], cache=None)
    assert rows[-1][2] == last
    both = udfs.LAZADA_CHECKPOINTS([[tracked["order_number"]], ["NOPE1"]])
    assert all(len(r) == 5 for r in both)
    assert both[-1] == ["NOPE1", "not synced yet — press Refresh", "", "", ""]
    assert sum(r[0] == tracked["order_number"] for r in both) == len(rows)


@pytest.fixture
def env_cache(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("XL_LAZADA_CACHE", str(world.path))
    return world


# ---- every error is text ----------------------------------------------------------------------
def test_bad_inputs_give_text(env_cache: World) -> None:
    n = env_cache.numbers()[0]
    column = [
        [True],
        [datetime(2026, 1, 2)],
        [1.5],
        [-3.0],
        [float("nan")],
        ["x" * 80],
        ["a\x07b"],
        [n],
    ]
    out = udfs.LAZADA_STATUS(column)
    assert [len(r) for r in out] == [1] * len(column)
    for row in out[:-1]:
        assert isinstance(row[0], str) and row[0].startswith("invalid id"), row
    assert out[-1][0] not in ("", None) and not out[-1][0].startswith("invalid")
    # Below 1e15 a float is exact: taken at face value (an order that does not exist).
    assert udfs.LAZADA_STATUS(3.17965e14) == "not synced yet — press Refresh"
    assert udfs.LAZADA_STATUS(1e16) == answers.ROUNDED
    assert udfs.LAZADA_STATUS(None) == ""
    assert udfs.LAZADA_STATUS(n, "NoSuchShop").startswith("shop 'NoSuchShop' is not in the cache")
    assert udfs.LAZADA_RTS_DEADLINE(n, "soon").startswith("unknown part 'soon'")
    settled = next(x for x in env_cache.numbers() if isinstance(udfs.LAZADA_SETTLEMENT(x), float))
    bribes = udfs.LAZADA_SETTLEMENT(settled, "bribes")
    assert bribes.startswith("no 'bribes' in this settlement — use net, state, ")
    assert isinstance(udfs.LAZADA_SETTLEMENT(settled, "commission"), float)
    assert udfs.LAZADA_STATUS([]) == [[""]]


def test_an_error_cell_says_so_rather_than_answering_blank(env_cache: World) -> None:
    # Every argument asks xlwings for error cells as their text (err_to_str): without it a
    # #N/A arrives as None, which answers blank for a reference and means "every shop" for
    # the shop. This is what the formulas then receive (xlwings' Windows cell_errors).
    from xl_lazada.excel import vba_gen

    module = vba_gen.decorated_module(vba_gen.xlwings_udfs())
    for name in dir(udfs):
        meta = getattr(getattr(module, name), "__xlfunc__", None)
        if meta is not None:
            assert meta["args"], name
            for arg in meta["args"]:
                assert arg["options"].get("err_to_str") is True, (name, arg["name"])
    n = env_cache.numbers()[0]
    want = "invalid id: an Excel error (#N/A) in the cell, not a reference"
    assert udfs.LAZADA_STATUS("#N/A") == want
    assert udfs.LAZADA_TRACKING([["#VALUE!"], [n], [None]]) == [
        ["invalid id: an Excel error (#VALUE!) in the cell, not a reference"],
        [udfs.LAZADA_TRACKING(n)],
        [""],
    ]
    assert udfs.LAZADA_CHECKPOINTS("#REF!")[0][0].startswith("invalid id: an Excel error (#REF!)")
    assert udfs.LAZADA_STATUS(n, "#N/A").startswith("shop '#N/A' is not in the cache")
    assert udfs.LAZADA_RTS_DEADLINE(n, "#DIV/0!").startswith(
        "an Excel error (#DIV/0!) in the part cell — use deadline, "
    )
    # The newer errors xlwings does not name (#SPILL!, #CALC!, ...) arrive as Windows COM's
    # error integers (0x800A0000 + Excel's code): named all the same, never a "number".
    spill, calc = -2146828288 + 2045, -2146828288 + 2050
    assert udfs.LAZADA_STATUS([[spill], [calc]]) == [
        ["invalid id: an Excel error (#SPILL!) in the cell, not a reference"],
        ["invalid id: an Excel error (#CALC!) in the cell, not a reference"],
    ]
    assert udfs.LAZADA_STATUS(n, spill).startswith("shop '#SPILL!' is not in the cache")
    assert udfs.LAZADA_STATUS(-5.0).startswith("invalid id: a negative number")


def test_cache_problems_give_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XL_LAZADA_CACHE", str(tmp_path / "missing.sqlite3"))
    assert udfs.LAZADA_STATUS("123") == "no data yet — press Refresh (or run xl-lazada sync)"
    assert (
        udfs.LAZADA_STATUS([["1"], ["2"]])
        == [["no data yet — press Refresh (or run xl-lazada sync)"]] * 2
    )
    assert udfs.LAZADA_CHECKPOINTS("1")[0][0].startswith("no data yet")
    bad = tmp_path / "garbage.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("XL_LAZADA_CACHE", str(bad))
    source.clear()
    text = udfs.LAZADA_STATUS("123")
    assert isinstance(text, str) and text and "Traceback" not in text


def test_any_exception_becomes_short_text(
    env_cache: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def boom(*_: Any) -> Any:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(source, "_lookup", boom)
    for f in (udfs.LAZADA_STATUS, udfs.LAZADA_TRACKING, udfs.LAZADA_SYNCED_AT):
        assert f([["1"], ["2"]]) == [["error: disk on fire second line"]] * 2
    for f in (udfs.LAZADA_LAST_CHECKPOINT, udfs.LAZADA_RTS_DEADLINE, udfs.LAZADA_SETTLEMENT):
        assert f("1") == "error: disk on fire second line"
    assert udfs.LAZADA_SORTING_CENTER("1") == "error: disk on fire second line"
    assert udfs.LAZADA_CHECKPOINTS("1") == [["error: disk on fire second line", "", "", ""]]

    def locked(*_: Any) -> Any:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(source, "_lookup", locked)
    assert udfs.LAZADA_STATUS("1").startswith("cache unreadable (database is locked)")

    busy = _real_busy_error(tmp_path)  # as SQLite raises it: with its result code

    def held(*_: Any) -> Any:
        raise busy

    monkeypatch.setattr(source, "_lookup", held)
    answer = udfs.LAZADA_STATUS("1")
    assert answer.startswith("cache problem: ") and "the cache is busy" in answer, answer
    assert "delete" not in answer  # a lock passes: the file is fine


def _real_busy_error(tmp_path: Path) -> sqlite3.OperationalError:
    path = tmp_path / "held.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    other = sqlite3.connect(path, timeout=0)
    try:
        holder.execute("CREATE TABLE t (x)")
        holder.execute("BEGIN EXCLUSIVE")
        other.execute("SELECT * FROM t")
    except sqlite3.OperationalError as exc:
        return exc
    finally:
        holder.close()
        other.close()
    raise AssertionError("the lock did not hold")


# ---- on-demand fetch ----------------------------------------------------------------------------
@dataclass
class Live:
    sb: Any
    path: Path
    new_number: str
    old_number: str


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    """A sandbox whose clock moves on after the sync: it then holds orders the cache lacks."""
    from datetime import timedelta

    from xl_lazada.sandbox.server import SandboxServer

    path = tmp_path / "cache.sqlite3"
    with SandboxServer(orders=200, seed=11, clock_speed=0.0, qps=1000) as sb:
        days = int(sb.shop.params["days"]) + 5
        with LazadaClient(sb.connection(), default_qps=1000) as client, Cache.open(path) as c:
            sync_shop(client, c, "fetchshop", options=SyncOptions(lookback_days=days))
        before = {o["order_number"] for o in sb.shop.snapshot(sb.clock.now())["orders"]}
        sb.clock.advance(timedelta(days=2))
        after = sb.shop.snapshot(sb.clock.now())["orders"]
        new = [o["order_number"] for o in after if o["order_number"] not in before]
        assert new, "the sandbox plan has orders after its start"
        token = sb.issue_token()
        for name, value in {
            "XL_LAZADA_BASE_URL": sb.base_url,
            "XL_LAZADA_APP_KEY": sb.app_key,
            "XL_LAZADA_APP_SECRET": sb.app_secret,
            "XL_LAZADA_ACCESS_TOKEN": token["access_token"],
            "XL_LAZADA_VENTURE": sb.venture,
            "XL_LAZADA_SHOP": "fetchshop",
            fetch.ENV_BUDGET: "20",
        }.items():
            monkeypatch.setenv(name, value)
        fetch.reset()
        yield Live(sb, path, new[0], sorted(before)[0])
        fetch.reset()  # waits for a sync still running in the background


def test_unknown_order_is_fetched_once_per_range(
    live: Live, capsys: pytest.CaptureFixture[str]
) -> None:
    from xl_lazada.lookup import lookup

    sb = live.sb
    assert lookup([live.new_number], cache=live.path)[0].kind == "not_found"
    calls_before = sb.stats.total
    column = [[live.new_number], [live.old_number], ["NOPE123"], [live.new_number]]
    source.clear()
    fetch.reset()
    out = answers.status_values(column, cache=live.path)
    made = sb.stats.total - calls_before
    assert made > 0  # Lazada was asked ...
    by_api = sb.stats.by_api
    assert by_api["/orders/get"] >= 1
    # ... once for the whole range: one incremental sync, not a call per unknown cell.
    main(["status", "--cache", str(live.path), "--json", live.new_number])
    want = json.loads(capsys.readouterr().out)[0]
    assert out[0][0] == want["status"] and out[3][0] == want["status"]
    assert out[1][0] not in ("", None) and not out[1][0].startswith("not")
    assert out[2][0].startswith("not found in shop fetchshop (asked Lazada at ")
    # The next unknown reference within a minute does not sync again.
    calls = sb.stats.total
    again = answers.status_values([["NOPE456"]], cache=live.path)
    assert again[0][0].startswith("not found in shop fetchshop")
    assert sb.stats.total == calls


def test_fetch_respects_the_budget(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv(fetch.ENV_BUDGET, "0.5")
    live.sb.latency_ms = 700.0  # every call slower than the whole budget
    started = time.monotonic()
    out = answers.status_values(live.new_number, cache=live.path)
    waited = time.monotonic() - started
    assert out == "still fetching from Lazada — press Refresh in a moment"
    assert waited < 0.5 + 1.0  # the budget, plus the cache reads around it
    fetch.reset()  # the sync finishes in the background ...
    live.sb.latency_ms = 0.0
    source.clear()
    assert answers.status_values(live.new_number, cache=live.path) not in ("", None)
    assert not str(answers.status_values(live.new_number, cache=live.path)).startswith("not")


def test_budget_zero_or_no_shop_never_calls_lazada(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = live.sb.stats.total
    monkeypatch.setenv(fetch.ENV_BUDGET, "0")
    assert answers.status_values(live.new_number, cache=live.path) == (
        "not synced yet — press Refresh"
    )
    monkeypatch.setenv(fetch.ENV_BUDGET, "5")
    for name in ("XL_LAZADA_APP_KEY", "XL_LAZADA_APP_SECRET", "XL_LAZADA_BASE_URL"):
        monkeypatch.delenv(name)
    fetch.reset()
    source.clear()
    assert answers.status_values(live.new_number, cache=live.path) == (
        "not synced yet — press Refresh (no shop connected — run xl-lazada login)"
    )
    assert live.sb.stats.total == calls


def test_not_found_after_a_fetch_says_when_on_the_shops_clock(live: Live) -> None:
    """Every time a seller sees in the workbook is on the shop's clock (with its offset);
    'asked Lazada at' in a not-found cell is too, not UTC, whatever this computer's zone."""
    from datetime import UTC, datetime

    from xl_lazada.cache import Cache

    with Cache.open(live.path) as cache:
        tz = cache.shops()[0].tz
    source.clear()
    fetch.reset()
    before = datetime.now(UTC)
    out = answers.status_values([["NOPE789"]], cache=live.path)
    after = datetime.now(UTC)
    text = out[0][0]
    offset = before.astimezone(tz).utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds() // 60)
    zone = f"UTC+{minutes // 60:02d}:{minutes % 60:02d}"
    stamps = {t.astimezone(tz).strftime("%H:%M") for t in (before, after)}
    assert any(text == f"not found in shop fetchshop (asked Lazada at {s} {zone})" for s in stamps)
