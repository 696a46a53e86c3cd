"""Which parcel speaks for an order in its sorting-centre column (rules/clock_frame.py):
the per-order key a single answer uses and the whole-column version the sheets use agree.
"""

from __future__ import annotations

import numpy as np

from xl_lazada.rules.clock_frame import speaker_key, speakers

FLAGGED, ON_ITS_WAY, ARRIVED = 0, 1, 2


def _pick(parcels: list[tuple[int, int, float | None, int]]) -> dict[int, int]:
    """``{order: parcel index}`` by the scalar key (first parcel wins a tie)."""
    best: dict[int, tuple[tuple[int, float], int]] = {}
    for i, (order, rank, arrived, position) in enumerate(parcels):
        key = speaker_key(rank, arrived, position)
        if order not in best or key < best[order][0]:
            best[order] = (key, i)
    return {order: i for order, (_, i) in best.items()}


def _columns(parcels: list[tuple[int, int, float | None, int]]) -> tuple[np.ndarray, ...]:
    owner = np.array([p[0] for p in parcels], dtype=np.int64)
    rank = np.array([p[1] for p in parcels], dtype=np.int64)
    arrived = np.array([np.nan if p[2] is None else p[2] for p in parcels], dtype=float)
    position = np.array([p[3] for p in parcels], dtype=float)
    return owner, rank, arrived, position


def test_a_late_parcel_then_one_on_its_way_then_the_latest_arrival_speaks() -> None:
    parcels = [
        # order 0: the second parcel is late at the sorting centre: it speaks
        (0, ARRIVED, 1_000.0, 0),
        (0, FLAGGED, None, 1),
        # order 1: one arrived, two still on their way: the first of those by position
        (1, ARRIVED, 2_000.0, 0),
        (1, ON_ITS_WAY, None, 1),
        (1, ON_ITS_WAY, None, 2),
        # order 2: all arrived: the latest arrival
        (2, ARRIVED, 3_000.0, 0),
        (2, ARRIVED, 5_000.0, 1),
        (2, ARRIVED, 4_000.0, 2),
    ]
    orders, rows = speakers(*_columns(parcels))
    assert dict(zip(orders.tolist(), rows.tolist(), strict=True)) == {0: 1, 1: 3, 2: 6}
    assert _pick(parcels) == {0: 1, 1: 3, 2: 6}


def test_the_column_version_agrees_with_the_per_order_key() -> None:
    rng = np.random.default_rng(7)
    parcels = []
    for order in range(400):
        for position in range(int(rng.integers(1, 5))):
            rank = int(rng.integers(0, 3))
            arrived = float(rng.integers(0, 5)) * 3600.0 if rank != ON_ITS_WAY else None
            parcels.append((order, rank, arrived, position))  # ties in arrival on purpose
    orders, rows = speakers(*_columns(parcels))
    assert dict(zip(orders.tolist(), rows.tolist(), strict=True)) == _pick(parcels)
