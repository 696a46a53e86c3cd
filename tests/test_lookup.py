"""``lookup()`` on a cache filled by a real sync against the sandbox (HTTP on 127.0.0.1).

Its answers are checked against what Lazada's official SDK (``lazop-sdk``) reads from the
same sandbox, against ``xl-lazada status --json`` and the sheet tables, and for what Excel
hands over: floats, scientific notation, rounded numbers, blanks, threads, read-only files.
"""

from __future__ import annotations

import copy as copy_module
import dataclasses
import gc
import importlib
import json
import pickle
import random
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from synced_shop import copy_as_version, finish_copy, spoil_table

from xl_lazada.cache import Cache, CacheError, answers
from xl_lazada.cache import db as cache_db
from xl_lazada.cli import main
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.lazada.dates import parse_datetime
from xl_lazada.lookup import RefStatus, close_thread_caches, generation, lookup
from xl_lazada.lookup import checkpoints as lookup_checkpoints
from xl_lazada.refs import ROUNDED_MESSAGE
from xl_lazada.rules.settings import RuleSettings
from xl_lazada.rules.status import PRE_RTS, display_status
from xl_lazada.sandbox.server import SandboxServer
from xl_lazada.sync import SyncOptions, sync_shop

SHOP = "lk"


@dataclass
class World:
    sb: SandboxServer
    path: Path
    now: datetime
    token: str

    def cache(self) -> Cache:
        return Cache.open(self.path)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = Path(tmp_path_factory.mktemp("lookup")) / "cache.sqlite3"
    with SandboxServer(orders=120, seed=9, clock_speed=0.0, qps=1000) as sb:
        days = int(sb.shop.params["days"]) + 5
        tok = sb.issue_token()
        with LazadaClient(sb.connection(tok), default_qps=1000) as client, Cache.open(path) as c:
            summary = sync_shop(client, c, SHOP, options=SyncOptions(lookback_days=days))
        assert not summary.failed
        yield World(sb, path, sb.clock.now(), tok["access_token"])
    close_thread_caches()


@pytest.fixture(scope="module")
def lazop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """lazop_sdk writes ``~/logs/...`` at import time: point HOME at a temporary directory."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        mp.setenv("USERPROFILE", str(home))
        import lazop_sdk

        yield lazop_sdk


def _orders(world: World) -> list[tuple[str, str]]:
    with sqlite3.connect(world.path) as conn:
        return conn.execute(
            "SELECT order_id, order_number FROM orders ORDER BY order_id"
        ).fetchall()


def _sdk_items(lazop: Any, world: World, order_id: str) -> list[dict[str, Any]]:
    client = lazop.LazopClient(world.sb.base_url, world.sb.app_key, world.sb.app_secret)
    req = lazop.LazopRequest("/order/items/get", "GET")
    req.add_api_param("order_id", order_id)
    resp = client.execute(req, world.token)
    assert resp.code == "0", resp.body
    return list(resp.body["data"])


def _copy(world: World, path: Path) -> None:
    """A writable copy of the module's synced cache at ``path``."""
    with world.cache() as src:
        src.connection.execute("VACUUM INTO ?", (str(path),))


def _write_status(conn: sqlite3.Connection, number: str, status: str) -> None:
    """Give an order another stored status, as a sync writes it: facts and packed answer."""
    conn.execute("UPDATE order_facts SET status = ? WHERE order_number = ?", (status, number))
    shop, oid = conn.execute(
        "SELECT shop, order_id FROM order_facts WHERE order_number = ?", (number,)
    ).fetchone()
    answers.repack(conn, shop, [oid])


def test_answers_agree_with_the_official_sdk(world: World, lazop: Any) -> None:
    """Status and tracking numbers of a random sample, by order number and by tracking
    number, equal what lazop-sdk reads from the same sandbox."""
    sample = random.Random(3).sample(_orders(world), 25)
    tz = timezone(timedelta(hours=8))  # the sandbox's venture (MY); wire times carry it anyway
    tracked: list[tuple[str, str]] = []
    for order_id, number in sample:
        items = _sdk_items(lazop, world, order_id)
        statuses = sorted(str(i["status"]) for i in items)
        tracking = {str(i["tracking_code"]) for i in items if i.get("tracking_code")}
        pending = [i for i in items if i["status"] in PRE_RTS]
        promised = [
            parse_datetime(i.get("promised_shipping_time") or i.get("sla_time_stamp"), tz)
            for i in pending
            if i.get("promised_shipping_time") or i.get("sla_time_stamp")
        ]
        (a,) = lookup([number], cache=world.path, now=world.now)
        assert a.found and a.kind == "order_number" and a.order_id == order_id
        assert sorted(a.item_statuses) == statuses
        assert tracking <= set(a.tracking_numbers)
        expected = display_status(
            statuses,
            promised_shipping_time=min((p for p in promised if p), default=None),
            now=world.now,
        )
        if expected != "Delayed" or promised:
            assert a.status == expected, (number, statuses)
        tracked += [(t, order_id) for t in tracking]
    assert tracked, "the sample should include shipped orders"
    answers = lookup([t for t, _ in tracked], cache=world.path, now=world.now)
    for (t, order_id), a in zip(tracked, answers, strict=True):
        assert a.kind == "tracking_number" and a.order_id == order_id and t in a.tracking_numbers


def test_one_answer_per_input_in_order_with_duplicates_and_blanks(world: World) -> None:
    (oid, number), (oid2, number2) = _orders(world)[:2]
    refs: list[Any] = [number, None, "", number, "  ", int(number2), float(number2), oid]
    answers = lookup(refs, cache=world.path, now=world.now)
    assert [a.ref for a in answers] == refs
    assert [a.kind for a in answers] == [
        "order_number", "blank", "blank", "order_number", "blank",
        "order_number", "order_number", "order_number",  # the sandbox's ids equal its numbers
    ]  # fmt: skip
    assert answers[0] == answers[3]
    assert answers[5].order_id == answers[6].order_id == oid2
    assert answers[7].order_id == oid and answers[7].order_number == number
    assert all(a.message == "" for a in answers)
    assert lookup([], cache=world.path) == []


def test_the_same_number_as_float_text_and_int_keeps_each_reference(world: World) -> None:
    """Excel's float, the text and an int of one order number answer alike, each with the
    reference as given (one answer object may serve a cleaned value: never two values)."""
    _, number = _orders(world)[7]
    refs: list[Any] = [float(number), number, int(number), float(number), f" {number} "]
    answers = lookup(refs, cache=world.path, now=world.now)
    assert [a.ref for a in answers] == refs
    assert [type(a.ref) for a in answers] == [float, str, int, float, str]
    assert all(a.found and a.order_number == number for a in answers)
    assert answers[0] is answers[3] and len({id(a) for a in answers}) == 4
    assert len({dataclasses.replace(a, ref=None) for a in answers}) == 1


def test_signed_zeros_answer_with_the_zero_given(world: World) -> None:
    """0.0 and -0.0 (and Decimal 0 and -0) are equal as dict keys, but each answer's ref
    is the value exactly as given, in lookup and in the formulas' memo."""
    from decimal import Decimal

    from xl_lazada.refs import value_key

    refs: list[Any] = [0.0, -0.0, Decimal("0"), Decimal("-0"), -0.0]
    answers = lookup(refs, cache=world.path, now=world.now)
    assert [repr(a.ref) for a in answers] == [repr(r) for r in refs]
    assert all(not a.found for a in answers)
    keys = [value_key(v) for v in refs]
    assert keys[0] != keys[1] and keys[2] != keys[3] and keys[1] == keys[4]


def test_one_order_named_several_ways_keeps_each_reference(world: World) -> None:
    """An order named by its number, its tracking number and its number again answers three
    times, each with its own reference and kind (answers share no state)."""
    with world.cache() as c:
        number, tracking = c.connection.execute(
            "SELECT f.order_number, p.tracking_number FROM order_facts f JOIN package_facts p"
            " ON p.shop = f.shop AND p.order_id = f.order_id"
            " WHERE p.tracking_number IS NOT NULL AND f.packages = 1 LIMIT 1"
        ).fetchone()
    first, by_tracking, again = lookup([number, tracking, number], cache=world.path, now=world.now)
    assert (first.ref, first.kind) == (number, "order_number")
    assert (by_tracking.ref, by_tracking.kind) == (tracking, "tracking_number")
    assert (again.ref, again.kind) == (number, "order_number")
    assert first.order_id == by_tracking.order_id == again.order_id
    assert first.status == by_tracking.status and first.tracking_numbers == (tracking,)


def test_excel_shapes_of_a_number_resolve(world: World) -> None:
    _, number = _orders(world)[5]
    digits = len(number)
    sci = f"{number[0]}.{number[1:]}E+{digits - 1}"
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in number)
    grouped = f"{int(number):,}"
    refs = [
        sci,
        sci.replace(".", ","),
        f" '{number}\t",
        f"={number}",
        f'="{number}"',
        fullwidth,
        grouped,
        f"{number}.0",
    ]
    for ref, a in zip(refs, lookup(refs, cache=world.path, now=world.now), strict=True):
        assert a.found and a.order_number == number, ref


def test_numbers_from_numpy_and_excel_errors(world: World) -> None:
    """A pandas column hands over numpy's numbers (``float64`` is a float subclass whose
    repr is not a number; ``int64`` is no int): they resolve as Python's do. A cell whose
    formula failed says so instead of "not found"."""
    np = pytest.importorskip("numpy")
    _, number = _orders(world)[5]
    found = lookup([np.float64(number), np.int64(number)], cache=world.path, now=world.now)
    assert [a.order_number for a in found] == [number, number]
    assert [a.ref for a in found] == [float(number), int(number)]
    odd = lookup(
        [np.float64("nan"), np.float64(1e16), "#N/A", " #div/0! ", np.float32(1.0)],
        cache=world.path,
        now=world.now,
    )
    assert [a.kind for a in odd] == ["invalid", "rounded", "invalid", "invalid", "invalid"]
    assert odd[2].message == "an Excel error (#N/A) in the cell, not a reference"
    assert "#DIV/0!" in odd[3].message


def test_rounded_and_unknown_references_say_why(world: World) -> None:
    _, number = _orders(world)[5]
    short = f"{number[0]},{number[1:6]}E+{len(number) - 1}"  # European Excel, 6 digits shown
    answers = lookup(
        [short, 3.14433028382713e15, "999999999999999", "ZZ-NOT-A-REF", 12.5, True],
        cache=world.path,
        now=world.now,
    )
    kinds = [a.kind for a in answers]
    assert kinds == ["rounded", "rounded", "not_found", "not_found", "invalid", "invalid"]
    assert answers[0].message == ROUNDED_MESSAGE and not answers[0].found
    assert "not found in the cache" in answers[2].message
    assert all(a.message and a.order_id is None for a in answers)


def test_unknown_shop_is_named(world: World) -> None:
    _, number = _orders(world)[0]
    (a,) = lookup([number], shop="no-such-shop", cache=world.path)
    assert a.kind == "unknown_shop" and "no-such-shop" in a.message and SHOP in a.message
    (b,) = lookup([number], shop=SHOP, cache=world.path, now=world.now)
    assert b.found and b.shop == SHOP


def test_lowercase_tracking_number_and_package_id(world: World) -> None:
    with world.cache() as c:
        row = c.connection.execute(
            "SELECT package_id, tracking_number, order_id FROM packages WHERE tracking_number IS NOT NULL"
        ).fetchone()
    a, b = lookup([row[1].lower(), row[0]], cache=world.path, now=world.now)
    assert a.kind == "tracking_number" and a.order_id == row[2]
    assert b.kind == "package_id" and b.order_id == row[2]
    cps = lookup_checkpoints(row[1].lower(), cache=world.path)
    assert cps and all(c.package_id == row[0] for c in cps)
    assert [c.time for c in cps] == sorted(c.time for c in cps)


def _copy_with_refs(
    world: World, path: Path, rows: Callable[[tuple[str, str], tuple[str, str]], list[tuple]]
) -> tuple[tuple[str, str], tuple[str, str]]:
    """A copy of the synced cache at ``path`` with more reference-index rows, made by
    ``rows`` from its first two orders' ``(order_id, order_number)``; returns those."""
    _copy(world, path)
    with Cache.open(path) as c:
        first, second = c.connection.execute(
            "SELECT order_id, order_number FROM orders ORDER BY order_id LIMIT 2"
        ).fetchall()
        with c.transaction() as conn:
            conn.executemany(
                "INSERT INTO refs (ref, shop, kind, order_id) VALUES (?, ?, ?, ?)",
                rows(tuple(first), tuple(second)),
            )
    return tuple(first), tuple(second)


def test_a_tracking_number_shared_by_two_orders_answers_for_both(
    world: World, tmp_path: Path
) -> None:
    path = tmp_path / "shared.sqlite3"
    (o1, _), (o2, _) = _copy_with_refs(
        world,
        path,
        lambda a, b: [
            ("SHARED1", SHOP, "tracking_number", a[0]),
            ("SHARED1", SHOP, "tracking_number", b[0]),
        ],
    )
    a, b, again = lookup(["shared1", "SHARED1", "SHARED1"], cache=path, now=world.now)
    for answer in (a, b):  # as cleaned (lower case), and as plain text
        assert answer.found and len(answer.matches) == 2 and "2 orders" in answer.message
        assert [m.order_id for m in answer.matches] == sorted([o1, o2])
        assert answer.order_id == min(o1, o2) and answer.kind == "tracking_number"
    assert (a.ref, b.ref) == ("shared1", "SHARED1") and again == b


def test_a_text_that_is_one_orders_id_and_anothers_number_answers_for_both(
    world: World, tmp_path: Path
) -> None:
    """The sandbox, like Lazada, gives each order the same number as its id, and such a text
    is answered once, as the order number. An id that is a different order's number must
    not be folded into it."""
    path = tmp_path / "ids.sqlite3"
    (o1, n1), (o2, n2) = _copy_with_refs(world, path, lambda a, b: [(b[1], SHOP, "order_id", a[0])])
    assert (o1, o2) == (n1, n2)
    plain, as_float = lookup([n2, float(n2)], cache=path, now=world.now)
    (alone,) = lookup([n1], cache=path, now=world.now)
    for answer in (plain, as_float):
        assert "2 orders" in answer.message
        assert [(m.order_id, m.kind) for m in answer.matches] == sorted(
            [(o1, "order_id"), (o2, "order_number")]
        )
    assert alone.kind == "order_number" and not alone.matches and alone.order_id == o1


def test_the_plain_text_shortcut_agrees_with_the_cleaner() -> None:
    """``lookup`` skips ``normalize_ref`` for a plain text; that must be exactly the texts
    the cleaner leaves as they are, with no second (upper-case) candidate."""
    from xl_lazada.refs import is_clean, is_plain, normalize_ref

    rnd = random.Random(5)
    alphabets = ["0123456789", "ABXZ0189", "09AZaz-_ .\n\u0663\uff11\u00e9"]
    samples = ["", "0", "A", "a", "LZ123", "Lz123", "123\n", "1" * 64, "1" * 65, "A" * 65]
    for _ in range(20_000):
        alphabet = rnd.choice(alphabets)
        size = rnd.choice([1, 2, 5, 15, 64, 65])
        samples.append("".join(rnd.choice(alphabet) for _ in range(size)))
    for text in samples:
        plain = bool(is_plain(text))
        assert plain == (is_clean(text) and (text.isdigit() or text.isupper())), text
        if plain:
            assert normalize_ref(text).candidates == (text,)


def test_a_range_checked_as_one_text_finds_the_same_plain_texts() -> None:
    """``plain_texts`` checks a range's texts in one pass over them joined by newlines; a
    text with a newline of its own must not pass as two plain texts."""
    from xl_lazada.refs import is_plain, plain_texts

    rnd = random.Random(6)
    plain = ["312847109154355", "LXMY76238948586", "A", "9" * 64]
    cases = [set(plain), set(), {"A\n1", "B"}, {"A\n1"}, {"1\n", "2"}, {"lz1", "LZ1"}, {"1" * 65}]
    for _ in range(500):
        texts = set(rnd.sample(plain, rnd.randint(1, 4)))
        if rnd.random() < 0.5:
            texts.add(rnd.choice(["A\nB", "\n", "a", "1 2", "Ａ1", "X" * 65, "", "7\n7"]))
        cases.append(texts)
    for texts in cases:
        assert plain_texts(texts) == {t for t in texts if is_plain(t)}, texts


def test_a_range_as_excel_hands_it_over_answers_as_each_cell_alone(world: World) -> None:
    """Text, whole-number floats and blanks (what xlwings passes for a range) are keyed in
    C-level passes, anything else value by value: either way every cell answers exactly as
    it does looked up alone and value by value, with its reference as given."""
    orders = _orders(world)
    with world.cache() as c:
        tracking = [
            r[0]
            for r in c.connection.execute(
                "SELECT tracking_number FROM packages WHERE tracking_number IS NOT NULL LIMIT 5"
            )
        ]
    numbers = [n for _, n in orders[:6]]
    cells: list[Any] = [*numbers, *map(float, numbers), *tracking, None, "", "  "]
    cells += [tracking[0].lower(), float(numbers[0]) + 1e9, 999.0, "999", f" {numbers[1]}"]
    others: list[Any] = [0.0, -0.0, 2.5, float("nan"), 1e15, 3.17e20, int(numbers[2]), True]
    alone: dict[tuple[type, str], Any] = {}
    not_a_cell = object()  # (keys the call value by value)

    def by_itself(v: Any) -> Any:
        key = (type(v), repr(v))
        if key not in alone:
            alone[key], odd = lookup([v, not_a_cell], cache=world.path, now=world.now)
            assert odd.kind == "invalid"
        return alone[key]

    def same(a: Any, b: Any) -> bool:  # (a NaN reference is not equal to itself)
        return (type(a.ref), repr(a.ref)) == (type(b.ref), repr(b.ref)) and dataclasses.replace(
            a, ref=None
        ) == dataclasses.replace(b, ref=None)

    rnd = random.Random(8)
    for size in [65, 100, 300] * 20:  # (more than 64 values: a range's own path)
        refs = [rnd.choice(cells) for _ in range(size)]
        if rnd.random() < 0.3:  # the value-by-value path (two zeros: equal keys in a set)
            for v in rnd.choice([[rnd.choice(others)], [0.0, -0.0], [-0.0, 0.0, 5.0]]):
                refs[rnd.randrange(size)] = v
        got = lookup(refs, cache=world.path, now=world.now)
        assert len(got) == size
        for v, a in zip(refs, got, strict=True):
            assert same(a, by_itself(v)), v
    floats = [float(n) for n in numbers] * 20
    got = lookup(floats, cache=world.path, now=world.now)
    assert all(type(a.ref) is float and a.found for a in got)
    assert [a.order_number for a in got] == numbers * 20


def test_status_cli_json_is_the_lookup_answer(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    orders = _orders(world)
    refs = [orders[3][1], orders[40][0]]
    code = main(
        ["status", "--cache", str(world.path), "--at", world.now.isoformat(), "--json", *refs]
    )
    out = capsys.readouterr().out
    assert code == 0
    for got, a in zip(json.loads(out), lookup(refs, cache=world.path, now=world.now), strict=True):
        assert got["order_id"] == a.order_id and got["status"] == a.status
        assert got["tracking_numbers"] == list(a.tracking_numbers)
        assert got["settlement_state"] == a.settlement_state
        assert (got["rts_deadline"] is None) == (a.rts_deadline is None)
        assert datetime.fromisoformat(got["rts_deadline"]) == a.rts_deadline


@pytest.mark.parametrize("hours", [0, 30, 24 * 9, 24 * 40])
def test_lookup_and_tables_judge_the_clock_alike(world: World, hours: int) -> None:
    """The scalar clock rules (lookup) and the vectorised ones (tables) agree on every order."""
    from xl_lazada.tables import orders_table

    now = world.now + timedelta(hours=hours)
    with world.cache() as c:
        table = orders_table(c, now=now).set_index("Order id")
        answers = lookup(list(table.index), cache=c, now=now)
    tz = answers[0].shop_tz
    for a in answers:
        row = table.loc[a.order_id]
        assert row["Status"] == a.status
        assert (row["Hours left"] != row["Hours left"]) == (a.rts_hours_left is None)
        if a.rts_hours_left is not None:
            # the sheet shows two decimals (NumPy rounds -47.465 to -47.46, Python to -47.47)
            assert row["Hours left"] == pytest.approx(a.rts_hours_left, abs=0.005 + 1e-9)
        assert bool(row["At risk"]) == a.rts_at_risk and bool(row["RTS late"]) == a.rts_late
        assert bool(row["Stuck"]) == a.stuck and bool(row["Unsettled"]) == a.unsettled
        sorting = None if pd.isna(row["Sorting centre"]) else row["Sorting centre"]
        assert sorting == a.sorting_centre
        local = a.rts_deadline.astimezone(tz).replace(tzinfo=None) if a.rts_deadline else None
        assert row["RTS deadline"] == local


def test_settings_change_the_stored_facts_and_stay(world: World, tmp_path: Path) -> None:
    path = tmp_path / "settings.sqlite3"
    _copy(world, path)
    with Cache.open(path) as c:
        number = c.connection.execute(
            "SELECT order_number FROM order_facts WHERE rts_deadline IS NOT NULL LIMIT 1"
        ).fetchone()[0]
        (before,) = lookup([number], cache=c, now=world.now)
        gen = generation(c)
        (after,) = lookup([number], cache=c, now=world.now, settings=RuleSettings(rts_hours=96))
        assert after.rts_deadline > before.rts_deadline
        assert generation(c) != gen
        (kept,) = lookup([number], cache=c, now=world.now)  # no settings: the shop's stored ones
        assert kept.rts_deadline == after.rts_deadline


def test_reads_from_any_thread_one_connection_each(world: World) -> None:
    numbers = [n for _, n in _orders(world)[:30]]
    expected = lookup(numbers, cache=world.path, now=world.now)
    results: dict[int, Any] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            first = lookup(numbers, cache=world.path, now=world.now)
            again = lookup(numbers, cache=world.path, now=world.now)
            mod = importlib.import_module("xl_lazada.lookup")

            # the Cache itself, not its id: a finished thread's could be freed and the id reused
            results[i] = (first, again, mod._local.caches[str(world.path)])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(r[0] == expected and r[1] == expected for r in results.values())
    assert len({id(r[2]) for r in results.values()}) == 6  # one connection per thread
    # A Cache opened on this thread is usable from another (reopened there).
    with world.cache() as c:
        box: list[Any] = []
        t = threading.Thread(target=lambda: box.append(lookup(numbers[:1], cache=c, now=world.now)))
        t.start()
        t.join()
        assert box and box[0] == expected[:1]


def test_reads_while_a_sync_holds_the_write_lock(world: World, tmp_path: Path) -> None:
    path = tmp_path / "wal.sqlite3"
    _copy(world, path)
    number = _orders(world)[0][1]
    with Cache.open(path) as writer, Cache.open(path) as reader:
        (before,) = lookup([number], cache=reader, now=world.now)
        with writer.transaction() as conn:
            _write_status(conn, number, "Writing")
            (during,) = lookup([number], cache=reader, now=world.now)  # not blocked, old answer
            assert during == before
        (after,) = lookup([number], cache=reader, now=world.now)
        assert after.status == "Writing"


def test_a_formula_reader_maps_the_file_and_sees_every_commit(world: World, tmp_path: Path) -> None:
    """``lookup``'s own connection reads through a memory map (faster ranges): it must still
    see a write in progress as not yet there, each commit, and pages moved into the file by
    a checkpoint while it is mapped."""
    path = tmp_path / "mapped.sqlite3"
    _copy(world, path)
    number = _orders(world)[0][1]
    probe = sqlite3.connect(tmp_path / "probe.sqlite3")
    mappable = probe.execute("PRAGMA mmap_size = 1048576").fetchone() not in (None, (0,))
    probe.close()
    if not mappable:
        pytest.skip("this SQLite build cannot memory-map files")
    (before,) = lookup([number], cache=path, now=world.now)
    mod = importlib.import_module("xl_lazada.lookup")

    mine = mod._local.caches[str(path)].connection
    assert mine.execute("PRAGMA mmap_size").fetchone()[0] > 0
    with Cache.open(path) as writer:
        assert writer.connection.execute("PRAGMA mmap_size").fetchone()[0] == 0  # (not a sync's)
        for status in ("Writing", "Written again"):
            with writer.transaction() as conn:
                _write_status(conn, number, status)
                (during,) = lookup([number], cache=path, now=world.now)
                assert during == before
            (before,) = lookup([number], cache=path, now=world.now)
            assert before.status == status
            writer.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            (moved,) = lookup([number], cache=path, now=world.now)
            assert moved == before


def test_new_settings_while_a_sync_writes_answer_without_waiting(
    world: World, tmp_path: Path
) -> None:
    """A formula asking for other settings while a sync holds the write lock gets its
    answer computed in memory at once, not after the sync (Excel would freeze)."""
    path = tmp_path / "busy.sqlite3"
    _copy(world, path)
    number = _orders(world)[0][1]
    with Cache.open(path) as writer, Cache.open(path) as reader:
        (before,) = lookup([number], cache=reader, now=world.now)
        stored = reader.connection.execute("SELECT fingerprint FROM facts_settings").fetchall()
        # Waiting for the lock would take this long: the lookup must not wait at all.
        reader.connection.execute("PRAGMA busy_timeout = 3600000")
        with writer.transaction():
            (other,) = lookup(
                [number], cache=reader, now=world.now, settings=RuleSettings(rts_hours=96)
            )
        assert other.rts_deadline is not None and before.rts_deadline is not None
        assert other.rts_deadline > before.rts_deadline  # the new settings, computed in memory
        again = reader.connection.execute("SELECT fingerprint FROM facts_settings").fetchall()
        assert again == stored  # nothing written while the sync held the lock


def test_a_cache_on_a_read_only_location_is_read(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ro.sqlite3"
    _copy(world, path)
    number = _orders(world)[0][1]
    expected = lookup([number], cache=world.path, now=world.now)
    # (Tests may run as root, which ignores file modes: ask for the read-only location the
    # way ``os.access`` would report it.)
    monkeypatch.setattr(cache_db.os, "access", lambda p, mode: False)
    with Cache.open(path) as c:
        assert c.readonly
        assert lookup([number], cache=c, now=world.now) == expected
        with pytest.raises(sqlite3.OperationalError):
            c.connection.execute("DELETE FROM orders")
        # Other settings on a read-only cache: computed in memory, nothing written.
        (other,) = lookup([number], cache=c, now=world.now, settings=RuleSettings(rts_hours=96))
        assert other.rts_deadline != expected[0].rts_deadline
    # A formula's own reader of a read-only cache does not map it: such a file may be a copy
    # that someone replaces in place, and a mapped read of a shrunk file kills the process
    # (SIGBUS) where a plain read is an error.
    assert lookup([number], cache=path, now=world.now) == expected
    mod = importlib.import_module("xl_lazada.lookup")

    mine = mod._local.caches[str(path)]
    assert mine.readonly and mine.connection.execute("PRAGMA mmap_size").fetchone()[0] == 0


def test_a_read_only_cache_that_needs_migrating_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite3"
    conn = cache_db.connect(path, migrate=False)
    cache_db.migrate_to(conn, 2)
    conn.close()
    monkeypatch.setattr(cache_db.os, "access", lambda p, mode: False)
    with pytest.raises(CacheError) as err:
        Cache.open(path)
    assert "read-only" in str(err.value) and "\n" not in str(err.value)
    monkeypatch.undo()
    assert cache_db.schema_version(sqlite3.connect(path)) == 2  # untouched


def test_naive_now_is_shop_local(world: World) -> None:
    number = _orders(world)[0][1]
    (aware,) = lookup([number], cache=world.path, now=world.now)
    local = world.now.astimezone(aware.shop_tz).replace(tzinfo=None)
    (naive,) = lookup([number], cache=world.path, now=local)
    assert naive == aware


def test_the_package_lookup_is_the_function_whatever_was_imported_first() -> None:
    """The module ``xl_lazada.lookup`` and the function share a name: importing the module
    first (as the CLI and the formulas do) must not make ``from xl_lazada import lookup``
    hand back the module."""
    code = (
        "import importlib, sys, types; first = sys.argv[1];"
        "importlib.import_module(first) if first else None;"
        "import xl_lazada; from xl_lazada import lookup;"
        "from xl_lazada.lookup import RefStatus;"
        "import xl_lazada.lookup;"
        "print(type(lookup) is types.FunctionType, xl_lazada.lookup is lookup,"
        " isinstance(sys.modules['xl_lazada.lookup'], types.ModuleType))"
    )
    for first in ("", "xl_lazada.lookup", "xl_lazada.cli.status_cmd", "xl_lazada.excel.source"):
        out = subprocess.run(
            [sys.executable, "-c", code, first], capture_output=True, text=True, check=True
        )
        assert out.stdout.split() == ["True", "True", "True"], first


def test_import_stays_light() -> None:
    code = (
        "import sys; import xl_lazada; from xl_lazada import lookup, RefStatus;"
        "from xl_lazada.lookup import checkpoints, generation;"
        "heavy = [m for m in sys.modules if m.split('.')[0] in"
        " ('pandas', 'numpy', 'uvicorn', 'starlette', 'httpx')"
        " or m.startswith(('xl_lazada.sandbox', 'xl_lazada.tables'))];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _copy_as_v2(fresh: Path, target: Path) -> None:
    """A cache as the previous release wrote it: v1+v2 DDL, the same rows."""
    finish_copy(copy_as_version(fresh, target, 2))


def test_a_previous_release_cache_migrates_and_answers_the_same(
    world: World, tmp_path: Path
) -> None:
    old = tmp_path / "v2.sqlite3"
    _copy_as_v2(world.path, old)
    assert cache_db.schema_version(sqlite3.connect(old)) == 2
    with world.cache() as c:
        refs = [r[0] for r in c.connection.execute("SELECT ref FROM refs ORDER BY ref")]
    with Cache.open(old) as migrated:
        assert migrated.schema_version == cache_db.CURRENT_VERSION
        got = lookup(refs, cache=migrated, now=world.now)
    want = lookup(refs, cache=world.path, now=world.now)
    assert len(got) == len(want) == len(refs)
    for g, w in zip(got, want, strict=True):
        assert g == w, g.ref


def test_an_order_whose_number_is_its_id_is_indexed_once_also_after_migrating(
    world: World, tmp_path: Path
) -> None:
    """The previous release indexed such a text twice (as the number and as the id) and
    filtered the twin out on every read; v7 keeps one row, as the number."""

    def twins(conn: sqlite3.Connection) -> int:
        return conn.execute(
            "SELECT COUNT(*) FROM refs r JOIN orders o"
            " ON o.shop = r.shop AND o.order_id = r.order_id AND o.order_number = r.ref"
            " WHERE r.kind = 'order_id'"
        ).fetchone()[0]

    with world.cache() as c:
        same = c.connection.execute(
            "SELECT COUNT(*) FROM orders WHERE order_number = order_id"
        ).fetchone()[0]
        assert same > 0 and twins(c.connection) == 0
        numbers = [r[0] for r in c.connection.execute("SELECT order_number FROM orders")]
    old = tmp_path / "v6.sqlite3"
    conn = copy_as_version(world.path, old, 6)
    conn.execute(  # what v6 wrote beside each number: the id row
        "INSERT INTO main.refs (ref, shop, kind, order_id)"
        " SELECT order_id, shop, 'order_id', order_id FROM main.orders"
    )
    assert twins(conn) == same
    finish_copy(conn)
    with Cache.open(old) as migrated:
        assert migrated.schema_version == cache_db.CURRENT_VERSION
        assert twins(migrated.connection) == 0
        got = lookup(numbers, cache=migrated, now=world.now)
    want = lookup(numbers, cache=world.path, now=world.now)
    assert got == want and all(a.kind == "order_number" and not a.matches for a in got)


def test_an_answer_is_fixed_when_lookup_returns_whatever_is_read_later(
    world: World, tmp_path: Path
) -> None:
    """Fields are worked out when first read, but only from what lookup read: a sync that
    commits after the call never shows through half an answer. And the answer is a plain
    RefStatus: equal to one built field by field, hashable, picklable."""
    path = tmp_path / "later.sqlite3"
    _copy(world, path)
    number = _orders(world)[0][1]
    with Cache.open(path) as c:
        (eager,) = lookup([number], cache=c, now=world.now)
        copy = RefStatus(**{f.name: getattr(eager, f.name) for f in dataclasses.fields(RefStatus)})
        (answer,) = lookup([number], cache=c, now=world.now)  # nothing read yet
        with c.transaction() as conn:
            _write_status(conn, number, "Later")
        (newer,) = lookup([number], cache=c, now=world.now)
    assert newer.status == "Later"
    assert answer.status == eager.status != "Later"
    assert answer == copy and hash(answer) == hash(copy) and type(answer) is RefStatus
    assert pickle.loads(pickle.dumps(answer)) == answer == copy_module.deepcopy(answer)
    # Its instance dict holds plain values only, so the cycle collector skips a range's
    # 10,000 answers (what it held before read is in slots: see lookup._found).
    assert not gc.is_tracked(newer.__dict__)


def test_whole_floats_clean_to_the_digits_the_exact_decimal_route_gives() -> None:
    """Excel passes a column of order numbers as floats; the quick route for whole floats
    below 1e15 must give exactly what the general (Decimal) route gives."""
    from decimal import Decimal

    from xl_lazada.refs import _from_number, normalize_ref

    rnd = random.Random(3)
    values = [0.0, -0.0, 1.0, 999_999_999_999_999.0, 312_846_978_215_293.0]
    values += [float(rnd.randrange(10**15)) for _ in range(2000)]
    for v in values:
        assert normalize_ref(v) == _from_number(v, Decimal(repr(v))), v
    assert normalize_ref(1e15).kind == "rounded"
    assert normalize_ref(-5.0).kind == normalize_ref(2.5).kind == "invalid"
    assert normalize_ref(float("nan")).kind == "invalid"
    # A placeholder a seller types for "no number yet" is not looked up as one.
    for placeholder in ("-", "—", "?", "!!!", "#", "'-'", " / "):
        n = normalize_ref(placeholder)
        assert n.kind == "invalid" and "no letters or digits" in n.message, placeholder
    assert normalize_ref("-A1-").kind == normalize_ref("１").kind == "text"


def test_a_damaged_answer_says_so_and_the_next_write_repacks_it(
    world: World, tmp_path: Path
) -> None:
    """A stored answer that cannot be read (a damaged file, another layout) is never
    guessed at: the fields it holds say the cache is damaged, in one line; the next write
    of the order packs it again from its facts."""
    import marshal

    from xl_lazada.cache import facts
    from xl_lazada.cache.db import CacheError

    assert answers.unpack(marshal.dumps((1, 2))) is None
    assert answers.unpack(marshal.dumps((answers.LAYOUT + 1, (0,) * 23, ()))) is None
    assert answers.unpack(b"\x00\xff") is None
    path = tmp_path / "damaged.sqlite3"
    _copy(world, path)
    number = _orders(world)[0][1]
    with Cache.open(path) as c:
        (good,) = lookup([number], cache=c, now=world.now)
        shop, oid = good.shop, good.order_id
        c.connection.execute(
            "UPDATE order_answers SET answer = x'00ff' WHERE shop = ? AND order_id = ?",
            (shop, oid),
        )
        (bad,) = lookup([number], cache=c, now=world.now)
        assert bad.found and bad.status == good.status  # kept beside the packed answer
        with pytest.raises(CacheError) as err:
            bad.order_number  # noqa: B018
        assert "damaged" in str(err.value) and "\n" not in str(err.value)
        with c.transaction() as conn:
            facts.refresh_trace_facts(conn, shop, [oid])
        (again,) = lookup([number], cache=c, now=world.now)
    assert again == good


def test_a_cache_damaged_after_it_opened_is_one_cache_error(world: World, tmp_path: Path) -> None:
    """A page spoiled after the file was written opens without complaint and fails only the
    reads that reach it: every read call then raises the package's ``CacheError`` naming
    the file, on one line, not sqlite's own error."""
    path = tmp_path / "spoiled.sqlite3"
    _copy(world, path)
    spoil_table(path, "refs")
    number = _orders(world)[0][1]
    with Cache.open(path) as c:  # (the schema reads well)
        calls = {
            "one reference": lambda: lookup([number], cache=c, now=world.now),
            "a range, by path": lambda: lookup([number] * 100, cache=str(path), now=world.now),
            "checkpoints": lambda: lookup_checkpoints(number, cache=c),
        }
        for name, call in calls.items():
            with pytest.raises(CacheError) as err:
                call()
            text = str(err.value)
            assert "damaged" in text and str(path) in text and "\n" not in text, name
            assert type(err.value.__cause__) is sqlite3.DatabaseError, name
        assert generation(c)  # what the spoiled page does not hold still reads
    close_thread_caches()
