"""``xl-lazada status`` on a cache filled by a real sync against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from synced_shop import spoil_table

from xl_lazada.cache import Cache
from xl_lazada.cli import main
from xl_lazada.lazada.client import LazadaClient
from xl_lazada.sandbox.catalog import WIRE_CODE
from xl_lazada.sandbox.server import SandboxServer
from xl_lazada.sync import SyncOptions, sync_shop


@contextmanager
def _small_synced_shop(path: Path) -> Iterator[tuple[SandboxServer, datetime]]:
    """A 12-order sandbox shop (as the caller patched it) synced whole into ``path``; the
    sandbox and its clock while it still runs."""
    with SandboxServer(orders=12, seed=5, clock_speed=0.0, qps=1000) as sb:
        days = int(sb.shop.params["days"]) + 5
        with (
            LazadaClient(sb.connection(sb.issue_token()), default_qps=1000) as client,
            Cache.open(path) as cache,
        ):
            sync_shop(client, cache, "sb", options=SyncOptions(lookback_days=days))
        yield sb, sb.clock.now()


@dataclass
class World:
    sb: SandboxServer
    cache_path: Path
    now: datetime
    truth: dict[str, Any]

    def run(self, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
        code = main(
            ["status", "--cache", str(self.cache_path), "--at", self.now.isoformat(), *args]
        )
        out = capsys.readouterr()
        return code, out.out, out.err

    def order(self, predicate) -> dict[str, Any]:
        return next(o for o in self.truth["orders"] if predicate(o))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = Path(tmp_path_factory.mktemp("status")) / "cache.sqlite3"
    with SandboxServer(orders=90, seed=5, clock_speed=0.0, qps=1000) as sb:
        days = int(sb.shop.params["days"]) + 5
        conn = sb.connection(sb.issue_token())
        with LazadaClient(conn, default_qps=1000) as client, Cache.open(path) as cache:
            sync_shop(client, cache, "sb", options=SyncOptions(lookback_days=days))
        now = sb.clock.now()
        yield World(sb, path, now, sb.shop.snapshot(now))


def _delivered(o: dict[str, Any]) -> bool:
    return bool(o["items"]) and all(i["status"] == "delivered" for i in o["items"])


def _lines(world: World, number: str) -> list[dict[str, Any]]:
    return [t for t in world.truth["transactions"] if t["order_no"] == number]


def test_text_answer_for_an_order_number(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    o = world.order(lambda o: _delivered(o) and _lines(world, o["order_number"]))
    code, out, _ = world.run(capsys, o["order_number"])
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith(f"{o['order_number']}: Delivered")
    tracking = {i["tracking_code"] for i in o["items"]}
    assert all(t in out for t in tracking)
    assert "RTS deadline:" in out and "UTC+08:00" in out
    net = sum((Decimal(t["amount"]) for t in _lines(world, o["order_number"])), Decimal(0))
    assert f"{net:,.2f} MYR" in out
    assert "Delivered" in out.splitlines()[3]  # the last checkpoint is the delivery scan


def test_json_answers_each_ref_kind_and_flags_unknown(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    traced = [(oid, pkgs) for oid, pkgs in world.truth["traces"].items() if pkgs]
    by_id = {o["order_id"]: o for o in world.truth["orders"]}
    (o1, p1), (o2, p2) = traced[0], traced[-1]
    pending = world.order(lambda o: not any(i["tracking_code"] for i in o["items"]))
    refs = [
        by_id[o1]["order_number"],
        p1[0]["tracking_number"],
        p2[0]["ofc_package_id"],
        pending["order_id"],
        "999999999999999",
    ]
    code, out, err = world.run(capsys, "--json", *refs)
    assert code == 1
    assert "1 of 5 references not found" in err
    answers = json.loads(out)
    assert [a["ref"] for a in answers] == refs
    for a in answers:
        for key in ("ref", "order_number", "status", "tracking_numbers", "last_checkpoint",
                    "rts_deadline", "settlement_net"):  # fmt: skip
            assert key in a
    a1, a2, a3, a4, unknown = answers
    assert a1["order_number"] == a2["order_number"] == by_id[o1]["order_number"]
    assert a3["order_id"] == o2
    assert set(a1["tracking_numbers"]) == {p["tracking_number"] for p in p1}
    last = max(p1[0]["logistic_detail_info_list"], key=lambda e: int(e["event_time"]))
    if len(p1) == 1:
        assert a1["last_checkpoint_code"] == WIRE_CODE[last["status_code"]]
        assert a1["last_checkpoint"] == (last["title"] or last["status_code"])
    assert a4["tracking_numbers"] == [] and a4["last_checkpoint"] is None
    assert a4["status"] in ("Pending", "Unpaid", "Delayed", "Canceled")
    assert datetime.fromisoformat(a4["rts_deadline"]).utcoffset().total_seconds() == 8 * 3600
    assert unknown["error"] and unknown["status"] is None and unknown["order_number"] is None
    assert "error" not in a1


def test_settlement_net_in_json_matches_finance_lines(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    o = world.order(lambda o: len(_lines(world, o["order_number"])) >= 3)
    code, out, _ = world.run(capsys, "--json", o["order_number"])
    assert code == 0
    (a,) = json.loads(out)
    net = sum((Decimal(t["amount"]) for t in _lines(world, o["order_number"])), Decimal(0))
    assert Decimal(str(a["settlement_net"])) == net
    assert a["settlement_state"] in ("Paid", "Unpaid", "Partially paid")


def test_unknown_ref_in_text_mode_gets_a_line_and_exit_1(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    o = world.truth["orders"][0]
    code, out, err = world.run(capsys, "NOT-A-REF", o["order_number"])
    assert code == 1
    assert out.splitlines()[0].startswith("NOT-A-REF: not found in the cache")
    assert o["order_number"] in out
    assert "not found" in err


def test_closing_line_counts_each_reason_a_reference_went_unanswered(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    o = world.truth["orders"][0]
    code, out, err = world.run(capsys, "-", "NOT-A-REF", "3.14E+20", "?", o["order_number"])
    assert code == 1
    assert out.splitlines()[0].startswith("-: no letters or digits")
    assert "4 of 5 references not answered: 2 invalid, 1 not found, 1 rounded by Excel" in err
    code, out, err = world.run(capsys, "-", "?")
    assert code == 1
    assert "2 of 2 references invalid" in err


def test_refresh_syncs_first(
    world: World,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conn = world.sb.connection(world.sb.issue_token())
    monkeypatch.setenv("XL_LAZADA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XL_LAZADA_BASE_URL", conn.base_url)
    monkeypatch.setenv("XL_LAZADA_APP_KEY", conn.app_key)
    monkeypatch.setenv("XL_LAZADA_APP_SECRET", conn.app_secret.reveal())
    monkeypatch.setenv("XL_LAZADA_ACCESS_TOKEN", world.sb.issue_token()["access_token"])
    monkeypatch.setenv("XL_LAZADA_VENTURE", "MY")
    fresh = tmp_path / "fresh.sqlite3"
    newest = world.truth["orders"][-1]
    code = main(["status", "--cache", str(fresh), newest["order_number"]])
    assert code == 1  # an empty cache knows nothing
    capsys.readouterr()
    code = main(["status", "--cache", str(fresh), "--refresh", "--json", newest["order_number"]])
    out = capsys.readouterr()
    assert code == 0, out.err
    (a,) = json.loads(out.out)
    assert a["order_id"] == newest["order_id"]
    assert "synced" in out.err


@pytest.mark.parametrize("kind", ["junk", "no_dir"])
def test_unusable_cache_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    if kind == "junk":
        path = tmp_path / "junk.sqlite3"
        path.write_bytes(b"this is not sqlite" * 100)
    else:  # a directory that cannot be created (its parent is a file)
        (tmp_path / "file").write_text("x")
        path = tmp_path / "file" / "sub" / "cache.sqlite3"
    code = main(["status", "--cache", str(path), "123"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_text_answer_shows_lazada_text_without_terminal_controls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A checkpoint title or location is Lazada's text: printed to a terminal it must not
    carry escape sequences (an OSC 8 link, a screen clear) or a line break that forges a
    line of the answer."""
    from xl_lazada.sandbox.shop import Shop

    link = "\x1b]8;;http://evil.example/\x07Click here\x1b]8;;\x07"
    forged = "Delivered\n  Settlement:       999.00 MYR, Paid\x1b[2J"
    plain = Shop._package_dict

    def hostile(self: Shop, pkg: Any, ts: int) -> dict | None:
        out = plain(self, pkg, ts)
        if out:
            for event in out["logistic_detail_info_list"]:
                event["title"] = forged
                event["package_location_name"] = link
        return out

    monkeypatch.setattr(Shop, "_package_dict", hostile)
    path = tmp_path / "cache.sqlite3"
    with _small_synced_shop(path) as (sb, now):
        traced = next(
            o for o in sb.shop.snapshot(now)["orders"] if sb.shop.trace(now, o["order_id"])
        )
    code = main(
        ["status", "--cache", str(path), "--at", now.isoformat(), str(traced["order_number"])]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Click here" in out and "Delivered" in out  # the text is shown ...
    assert "\x1b" not in out and "\x07" not in out  # ... without its controls
    assert sum(line.lstrip().startswith("Settlement:") for line in out.splitlines()) == 1


def test_doctor_lists_unknown_trace_codes_without_terminal_controls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A trace code nobody knows is listed by ``doctor`` with its code, type and title, all
    Lazada's text: none may carry an escape sequence or a line break to the terminal."""
    from xl_lazada.sandbox.shop import Shop

    code_text = "X9\x1b]8;;http://evil.example/\x07code\x1b]8;;\x07"
    kind = "odd\n  checkpoints: forged\x1b[2J"
    plain = Shop._package_dict

    def hostile(self: Shop, pkg: Any, ts: int) -> dict | None:
        out = plain(self, pkg, ts)
        if out:
            out["logistic_detail_info_list"][-1].update(
                status_code=code_text, detail_type=kind, title="Something new"
            )
        return out

    monkeypatch.setattr(Shop, "_package_dict", hostile)
    monkeypatch.setenv("XL_LAZADA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XL_LAZADA_KEYRING", "file")
    path = tmp_path / "cache.sqlite3"
    with _small_synced_shop(path):
        pass
    main(["doctor", "--cache", str(path)])
    out = capsys.readouterr().out
    assert "X9" in out and "Something new" in out, out
    assert "\x1b" not in out and "\x07" not in out, out
    assert not any(line.lstrip().startswith("checkpoints: forged") for line in out.splitlines())


def test_a_damaged_cache_is_one_line_from_status_and_doctor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cache spoiled after it was written opens without complaint: ``status`` says it is
    damaged in one line (no traceback) and ``doctor``, which reads every page, finds it."""
    monkeypatch.setenv("XL_LAZADA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XL_LAZADA_KEYRING", "file")
    path = tmp_path / "cache.sqlite3"
    with _small_synced_shop(path) as (sb, now):
        number = str(sb.shop.snapshot(now)["orders"][0]["order_number"])
    assert main(["doctor", "--cache", str(path)]) == 0
    capsys.readouterr()
    spoil_table(path, "refs")
    for args in (["status", "--cache", str(path), number], ["doctor", "--cache", str(path)]):
        code = main(args)
        err = capsys.readouterr().err
        assert code == 1, args
        assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
        assert "the cache file is damaged" in err and "Traceback" not in err, err
