"""Benchmark: writing the four data sheets into a workbook (tables → file).

Measures the file writer alone, separate from building the tables and from syncing: the
frames are built once from a synced sandbox cache and pickled; then each contender runs in
its own subprocess that loads the same frames and writes them:

- ``ours``: the headless refresh writer (``write_sheets`` into a ``workbook new`` book:
  Excel Tables, formats, widths, status colours, atomic save);
- ``pandas``: ``DataFrame.to_excel`` with the openpyxl engine, one sheet per frame.

``ours`` writes twice: into the new book, then again over the filled book (what every later
refresh does: the old sheets are read for the seller's content and replaced). Then the
whole headless refresh around that write, twice more over the filled book, with how often
it opened the workbook file and checked that it may write it:

- ``refresh_workbook`` with the tables given (the frames above, not rebuilt): opening and
  checking the book, its Settings and Report sheets, the write and the atomic save;
- ``xl-lazada refresh --no-sync``: the command as a seller runs it (tables built from the
  cache, which dominates its time).

Time is the write only (wall clock, ``time.perf_counter``). Memory is the subprocess's peak
resident set while writing: on Linux the high-water mark (VmHWM) is reset through
``/proc/self/clear_refs`` once the frames are loaded, so it is the peak of the write itself,
frames included; elsewhere ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (which then also
covers loading). "Growth" is that peak minus the resident set before writing. The cache and
frames are kept under ``--work`` so later runs skip the sync.

    python benchmarks/bench_refresh.py [--orders 20000] [--work /tmp/xl_lazada_bench_refresh]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import time
from pathlib import Path


def _maxrss_mb() -> float:
    """Peak resident set (MB) since the last :func:`_reset_peak`."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return _maxrss_mb()


def _reset_peak() -> bool:
    """Reset the peak-RSS mark (Linux: write 5 to /proc/self/clear_refs)."""
    import gc

    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _prepare(work: Path, orders: int, seed: int) -> Path:
    """Sync a sandbox shop once and pickle its four frames (not timed)."""
    frames_path = work / f"frames-{orders}-{seed}.pkl"
    if frames_path.exists():
        return frames_path
    from xl_lazada.cache import Cache
    from xl_lazada.lazada.client import LazadaClient
    from xl_lazada.sandbox.server import SandboxServer
    from xl_lazada.sync import SyncOptions, sync_shop
    from xl_lazada.tables import all_tables

    work.mkdir(parents=True, exist_ok=True)
    cache_path = work / f"cache-{orders}-{seed}.sqlite3"
    with SandboxServer(orders=orders, seed=seed, clock_speed=0, qps=100_000) as sb:
        now = sb.clock.now()
        if not cache_path.exists():
            t = time.perf_counter()
            with (
                Cache.open(cache_path) as cache,
                LazadaClient(sb.connection(sb.issue_token()), default_qps=100_000) as client,
            ):
                sync_shop(
                    client, cache, "bench", options=SyncOptions(lookback_days=60, daily_calls=0)
                )
            print(f"setup: synced {orders:,} sandbox orders in {time.perf_counter() - t:.0f} s")
    with Cache.open(cache_path) as cache:
        t = time.perf_counter()
        frames = all_tables(cache, shop="bench", now=now)
        print(f"setup: built the tables in {time.perf_counter() - t:.1f} s (not measured below)")
    with open(frames_path, "wb") as fh:
        pickle.dump(frames, fh)
    return frames_path


def _whole_refresh(frames: dict, out: Path, cache_path: Path) -> dict[str, float]:
    """The headless refresh around the write: seconds, workbook opens and writability
    checks, for ``refresh_workbook`` (tables given) and for the command."""
    from contextlib import redirect_stdout
    from io import StringIO

    from xl_lazada.cache import Cache
    from xl_lazada.cli import main
    from xl_lazada.workbook import refresh as refreshing
    from xl_lazada.workbook import save
    from xl_lazada.workbook.package import Package

    counts = {"opens": 0, "checks": 0}
    real_init, real_check = Package.__init__, save.check_writable

    def counted_init(self, *a, **kw):  # type: ignore[no-untyped-def]
        counts["opens"] += 1
        real_init(self, *a, **kw)

    def counted_check(path):  # type: ignore[no-untyped-def]
        counts["checks"] += 1
        real_check(path)

    Package.__init__ = counted_init  # type: ignore[method-assign]
    refreshing.check_writable = counted_check  # type: ignore[attr-defined]
    result: dict[str, float] = {}
    try:
        real_tables = refreshing._tables
        refreshing._tables = lambda *a, **k: frames  # type: ignore[attr-defined]
        with Cache.open(cache_path) as cache:
            t = time.perf_counter()
            refreshing.refresh_workbook(out, cache, shop="bench")
            result["whole_seconds"] = time.perf_counter() - t
        result.update(whole_opens=counts["opens"], whole_checks=counts["checks"])
        refreshing._tables = real_tables  # type: ignore[attr-defined]
        counts.update(opens=0, checks=0)
        t = time.perf_counter()
        with redirect_stdout(StringIO()):
            code = main(["refresh", str(out), "--no-sync", "--cache", str(cache_path)])
        assert code == 0, code
        result["command_seconds"] = time.perf_counter() - t
        result.update(command_opens=counts["opens"], command_checks=counts["checks"])
    finally:
        Package.__init__ = real_init  # type: ignore[method-assign]
        refreshing.check_writable = real_check  # type: ignore[attr-defined]
    return result


def _contender(name: str, frames_path: Path, out: Path, cache_path: Path) -> dict[str, float]:
    """Runs inside the subprocess: load frames, write, report time and memory."""
    with open(frames_path, "rb") as fh:
        frames = pickle.load(fh)
    extra: dict[str, float] = {}
    if name == "ours":
        from xl_lazada.workbook.build import build_workbook
        from xl_lazada.workbook.save import atomic_write
        from xl_lazada.workbook.sheets import data_sheetspec
        from xl_lazada.workbook.write import Package, write_sheets

        build_workbook(out, force=True)

        def refresh() -> float:
            t = time.perf_counter()
            specs = [
                data_sheetspec(key, frame, status_text="bench") for key, frame in frames.items()
            ]

            def write(stream) -> None:  # type: ignore[no-untyped-def]
                with Package(str(out)) as pkg:
                    write_sheets(pkg, specs, stream)

            atomic_write(out, write)
            return time.perf_counter() - t

        _reset_peak()
        base = _rss_mb()
        elapsed = refresh()
        extra["second_seconds"] = refresh()  # over the filled book
        extra.update(_whole_refresh(frames, out, cache_path))
    else:
        import pandas as pd

        _reset_peak()
        base = _rss_mb()
        t = time.perf_counter()
        with pd.ExcelWriter(out, engine="openpyxl") as writer:
            for key, frame in frames.items():
                frame.to_excel(writer, sheet_name=key.title(), index=False)
        elapsed = time.perf_counter() - t
    peak = _maxrss_mb()
    cells = sum(f.shape[0] * f.shape[1] for f in frames.values())
    return {
        "seconds": elapsed,
        "peak_mb": peak,
        "growth_mb": peak - base,
        "cells": cells,
        "bytes": out.stat().st_size,
        "base_mb": base,
        **extra,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--orders", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=Path("/tmp/xl_lazada_bench_refresh"))
    ap.add_argument("--contender", choices=("ours", "pandas"), help=argparse.SUPPRESS)
    ap.add_argument("--frames", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.contender:
        out = args.work / f"{args.contender}.{'xlsm' if args.contender == 'ours' else 'xlsx'}"
        cache_path = args.work / f"cache-{args.orders}-{args.seed}.sqlite3"
        print(json.dumps(_contender(args.contender, args.frames, out, cache_path)))
        return

    frames_path = _prepare(args.work, args.orders, args.seed)
    with open(frames_path, "rb") as fh:
        frames = pickle.load(fh)
    rows = {k: len(f) for k, f in frames.items()}
    del frames
    print(
        f"frames: {args.orders:,}-order shop — "
        + ", ".join(f"{k} {n:,}" for k, n in rows.items())
        + " rows"
    )
    results = {}
    for name in ("ours", "pandas"):
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--contender",
                name,
                "--frames",
                str(frames_path),
                "--work",
                str(args.work),
                "--orders",
                str(args.orders),
                "--seed",
                str(args.seed),
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        r = results[name]
        print(
            f"{name:<7} {r['cells']:>10,} cells in {r['seconds']:7.2f} s "
            f"({r['cells'] / r['seconds']:,.0f} cells/s); peak RSS {r['peak_mb']:7.0f} MB "
            f"(frames etc. {r['base_mb']:.0f} MB + {r['growth_mb']:.0f} MB while writing); "
            f"file {r['bytes'] / 1e6:.1f} MB"
        )
        if "second_seconds" in r:
            print(f"        refresh again over the filled book: {r['second_seconds']:.2f} s")
            print(
                f"        refresh_workbook, tables given: {r['whole_seconds']:.2f} s, "
                f"workbook opened {r['whole_opens']:.0f}x, writability checked "
                f"{r['whole_checks']:.0f}x"
            )
            print(
                f"        xl-lazada refresh --no-sync: {r['command_seconds']:.2f} s, "
                f"workbook opened {r['command_opens']:.0f}x, writability checked "
                f"{r['command_checks']:.0f}x"
            )
    ours, pandas = results["ours"], results["pandas"]
    print(
        f"ours vs pandas.to_excel(openpyxl): {pandas['seconds'] / ours['seconds']:.1f}x faster, "
        f"peak memory {ours['peak_mb'] / pandas['peak_mb']:.2f}x "
        f"(growth {ours['growth_mb'] / max(pandas['growth_mb'], 1):.2f}x)"
    )


if __name__ == "__main__":
    main()
