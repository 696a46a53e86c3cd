"""Which parcel speaks for an order in its sorting-centre column: the per-parcel key a single
answer sorts by (rules/clock.py) and the column form the sheet tables sort by
(rules/clock_frame.py) order an order's parcels the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xl_lazada.rules import clock, clock_frame

FLAGGED, ON_ITS_WAY, ARRIVED = 0, 1, 2


def _columns(parcels: list[tuple[int, float | None, int]]) -> tuple[np.ndarray, ...]:
    rank = np.array([p[0] for p in parcels], dtype=np.int64)
    arrived = np.array([np.nan if p[1] is None else p[1] for p in parcels], dtype=float)
    position = np.array([p[2] for p in parcels], dtype=float)
    return rank, arrived, position


def _first(parcels: list[tuple[int, float | None, int]]) -> tuple[int, int]:
    """The parcel each form puts first (the scalar: smallest key, first on a tie)."""
    scalar = min(range(len(parcels)), key=lambda i: clock.parcel_rank(*parcels[i]))
    rank, arrived, position = _columns(parcels)
    tie = clock_frame.parcel_rank(rank, arrived, position)
    column = int(np.lexsort((tie, rank))[0])
    return scalar, column


def test_a_late_parcel_then_one_on_its_way_then_the_latest_arrival_speaks() -> None:
    late = [(ARRIVED, 1_000.0, 0), (FLAGGED, None, 1)]
    waiting = [(ARRIVED, 2_000.0, 0), (ON_ITS_WAY, None, 1), (ON_ITS_WAY, None, 2)]
    arrived = [(ARRIVED, 3_000.0, 0), (ARRIVED, 5_000.0, 1), (ARRIVED, 4_000.0, 2)]
    assert _first(late) == (1, 1)
    assert _first(waiting) == (1, 1)
    assert _first(arrived) == (1, 1)


def test_the_column_form_sorts_like_the_per_parcel_key() -> None:
    rng = np.random.default_rng(7)
    rows = []
    for order in range(300):
        for position in range(int(rng.integers(1, 5))):
            rank = int(rng.integers(0, 3))
            arrived = float(rng.integers(0, 4)) * 3600.0 if rank != ON_ITS_WAY else None
            rows.append((order, rank, arrived, position))  # equal arrivals on purpose
    frame = pd.DataFrame(rows, columns=["order", "rank", "arrived", "position"])
    rank, arrived, position = _columns([r[1:] for r in rows])
    frame["tie"] = clock_frame.parcel_rank(rank, arrived, position)
    for _, parcels in frame.groupby("order"):
        keys = [
            clock.parcel_rank(int(r), None if np.isnan(a) else a, int(p))
            for r, a, p in zip(
                parcels["rank"], parcels["arrived"], parcels["position"], strict=True
            )
        ]
        assert keys == list(zip(parcels["rank"], parcels["tie"], strict=True))
