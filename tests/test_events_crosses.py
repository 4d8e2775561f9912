"""Crossover events: hand-built series, ties, gaps, leading NaN, kernel vs reference twin, record layout."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capscope.data.panel import Panel
from capscope.events import records as R
from capscope.events.crosses import (
    _cross_arrays,
    cross_events,
    cross_matrix,
    cross_matrix_reference,
    cross_parts,
    ma_crosses,
    macd_crosses,
    price_crosses,
    rsi_crosses,
)

NAN = np.nan


def make_panel(closes: dict[str, list[float]], start: str = "2024-01-01") -> Panel:
    """Panel with the given closes (high = close + 0.5, low = close - 0.5) on consecutive business days."""
    n = max(len(v) for v in closes.values())
    dates = np.array(pd.bdate_range(start, periods=n).values.astype("datetime64[D]"))
    close = np.full((n, len(closes)), np.nan)
    for j, values in enumerate(closes.values()):
        close[: len(values), j] = values
    fields = {
        "open": close.copy(),
        "high": close + 0.5,
        "low": close - 0.5,
        "close": close,
        "volume": np.ones_like(close),
    }
    return Panel(dates, tuple(closes), {k: np.ascontiguousarray(v) for k, v in fields.items()})


# -- the cross rule on hand-built arrays ------------------------------------------------------------------------
CASES = [
    # (a, b, expected)
    ([1, 2, 3], [2, 2, 2], [0, 0, 1]),  # -, 0, +  -> one cross on the + bar
    ([1, 3, 1, 3], [2, 2, 2, 2], [0, 1, -1, 1]),  # alternating
    ([3, 2, 3], [2, 2, 2], [0, 0, 0]),  # +, 0, +  -> tie does not reset the state, no event
    ([3, 2, 2, 1], [2, 2, 2, 2], [0, 0, 0, -1]),  # +, 0, 0, -  -> one cross dated on the - bar
    ([2, 2, 3], [2, 2, 2], [0, 0, 0]),  # leading ties only set no state; first nonzero bar is no event
    ([NAN, NAN, 1, 3], [2, 2, 2, 2], [0, 0, 0, 1]),  # leading NaN: first finite bar only sets the state
    ([1, NAN, NAN, 3], [2, 2, 2, 2], [0, 0, 0, 1]),  # gap: compared with the last valid bar before it
    ([1, 3, NAN, 3], [2, 2, 2, 2], [0, 1, 0, 0]),  # gap on the same side: no second event
    ([1, 3], [2, NAN], [0, 0]),  # b missing on the cross bar: no event
    ([NAN, NAN], [NAN, NAN], [0, 0]),
]


@pytest.mark.parametrize(("a", "b", "expected"), CASES)
def test_cross_rule_hand_built(a: list[float], b: list[float], expected: list[int]) -> None:
    a_arr, b_arr = np.array(a, float), np.array(b, float)
    assert cross_matrix(a_arr, b_arr).tolist() == expected
    assert cross_matrix_reference(a_arr, b_arr).tolist() == expected


def test_cross_scalar_threshold_and_2d() -> None:
    a = np.array([[69.0, 10], [70, 40], [71, 20], [70, 35], [69, 29]])
    got = cross_matrix(a, 70.0)
    assert got[:, 0].tolist() == [0, 0, 1, 0, -1]
    assert got[:, 1].tolist() == [0, 0, 0, 0, 0]
    assert cross_matrix(a, 30.0)[:, 1].tolist() == [0, 1, -1, 1, -1]
    np.testing.assert_array_equal(cross_matrix(a, 30.0), cross_matrix_reference(a, 30.0))


def _independent_sign_changes(d: np.ndarray) -> list[tuple[int, int]]:
    """Sign changes between consecutive finite non-zero entries (written without any state machine)."""
    idx = np.nonzero(np.isfinite(d) & (d != 0))[0]
    s = np.sign(d[idx])
    change = np.nonzero(s[1:] != s[:-1])[0] + 1
    return [(int(idx[c]), int(s[c])) for c in change]


values = st.one_of(st.just(np.nan), st.just(0.0), st.integers(-3, 3).map(float))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(values, values), min_size=0, max_size=40), st.integers(1, 3))
def test_kernel_equals_reference_and_sign_changes(pairs: list[tuple[float, float]], m: int) -> None:
    a = np.array([p[0] for p in pairs], float).reshape(-1)
    b = np.array([p[1] for p in pairs], float).reshape(-1)
    a2 = np.repeat(a[:, None], m, axis=1)
    b2 = np.repeat(b[:, None], m, axis=1)
    fast = cross_matrix(a2, b2)
    np.testing.assert_array_equal(fast, cross_matrix_reference(a2, b2))
    rows, cols, dirs = cross_events(a2, b2)  # the events-only kernel: the same cells, in C order
    np.testing.assert_array_equal(np.stack(np.nonzero(fast)), np.stack([rows, cols]))
    np.testing.assert_array_equal(dirs, fast[rows, cols])
    events = [(int(t), int(fast[t, 0])) for t in np.nonzero(fast[:, 0])[0]]
    assert events == _independent_sign_changes(a - b)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(values, min_size=3, max_size=3), min_size=0, max_size=40),
    st.sampled_from([0.0, 1.0, -2.0, np.inf]),
)
def test_events_kernel_scalar_threshold_equals_reference(rows: list[list[float]], level: float) -> None:
    # the scalar-threshold path of cross_events (its own loop) against the plain twin, columns independent
    a = np.array(rows, float).reshape(-1, 3)
    ref = cross_matrix_reference(a, level)
    got_rows, got_cols, got_dirs = cross_events(a, level)
    np.testing.assert_array_equal(np.stack(np.nonzero(ref)), np.stack([got_rows, got_cols]))
    np.testing.assert_array_equal(got_dirs, ref[got_rows, got_cols])
    np.testing.assert_array_equal(cross_matrix(a, level), ref)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(values, min_size=6, max_size=6), min_size=0, max_size=40))
def test_events_kernel_independent_columns_equals_reference(rows: list[list[float]]) -> None:
    # a and b of three symbols that cross on different bars (a row may hold crosses of some symbols only)
    ab = np.array(rows, float).reshape(-1, 6)
    a, b = ab[:, :3], ab[:, 3:]
    ref = cross_matrix_reference(a, b)
    got_rows, got_cols, got_dirs = cross_events(a, b)
    np.testing.assert_array_equal(np.stack(np.nonzero(ref)), np.stack([got_rows, got_cols]))
    np.testing.assert_array_equal(got_dirs, ref[got_rows, got_cols])


# -- events on constructed panels -----------------------------------------------------------------------------
def test_golden_cross_hand_computed() -> None:
    # SMA2 = [., 9.5, 8.5, 7.5, 7.5, 8.5, 9.5, 10.5]; SMA4 = [., ., ., 8.5, 8, 8, 8.5, 9.5]
    # SMA2 - SMA4 from bar 3: -1, -0.5, +0.5, +1, +1 -> golden cross on bar 5
    panel = make_panel({"V": [10, 9, 8, 7, 8, 9, 10, 11, 9, 7, 6]})
    ev = ma_crosses(panel, [("sma", 2, 4)])
    assert list(ev.columns) == list(R.EVENT_COLUMNS)
    assert ev["kind"].tolist() == [R.GOLDEN_CROSS, R.DEATH_CROSS]
    first = ev.iloc[0]
    assert first["date"] == pd.Timestamp(panel.dates[5])
    assert (first["fast"], first["slow"], first["ma"]) == (2, 4, "sma")
    assert first["fast_value"] == pytest.approx(8.5) and first["slow_value"] == pytest.approx(8.0)
    assert first["price"] == 9.0
    # SMA2 bar 9 = 8, SMA4 bar 9 = 9.25 (bar 8: 10 vs 9.75 still above) -> death cross on bar 9
    assert ev.iloc[1]["date"] == pd.Timestamp(panel.dates[9])


def test_price_cross_ties_and_leading_nan() -> None:
    # close - SMA2 = (c_t - c_{t-1}) / 2: a flat day is an exact tie
    panel = make_panel({"A": [1, 2, 2, 1, 1, 2], "B": [NAN, NAN, 5, 4, 4, 4, 5]})
    ev = price_crosses(panel, [2])
    got = [(s, panel.index_of(d), k) for s, d, k in zip(ev.symbol, ev.date.dt.date, ev.kind, strict=True)]
    # A: +, 0, -, 0, +  -> below on bar 3, above on bar 5.  B: starts bar 2; -, 0, 0, + -> above on bar 6
    assert sorted(got) == [
        ("A", 3, R.PRICE_CROSS_BELOW),
        ("A", 5, R.PRICE_CROSS_ABOVE),
        ("B", 6, R.PRICE_CROSS_ABOVE),
    ]
    assert set(ev["window"]) == {2} and set(ev["ma"]) == {"sma"}


def test_no_events_when_too_short() -> None:
    panel = make_panel({"S": [1.0, 2.0, 3.0]})
    ev = ma_crosses(panel)  # 50/200 never defined
    assert ev.empty and list(ev.columns) == list(R.EVENT_COLUMNS)
    assert ev.dtypes.equals(R.empty_events(panel.symbols).dtypes)
    assert list(ev["symbol"].cat.categories) == ["S"]


def test_macd_above_zero_definition() -> None:
    rng = np.random.default_rng(3)
    close = 100 + np.cumsum(rng.normal(0, 1, 400))
    panel = make_panel({"X": close.tolist()})
    ev = macd_crosses(panel)
    import talib

    macd, signal, _ = talib.MACD(close, 12, 26, 9)
    bull = ev[ev.kind.isin([R.MACD_BULLISH_CROSS, R.MACD_BEARISH_CROSS])]
    assert len(bull) > 5
    for row in bull.itertuples():
        t = panel.index_of(row.date)
        assert row.macd == pytest.approx(macd[t], rel=1e-9, abs=1e-12)
        assert row.signal_value == pytest.approx(signal[t], rel=1e-9, abs=1e-12)
        assert bool(row.above_zero) == (macd[t] > 0)
    assert {True, False} <= set(bull.above_zero.astype(bool))
    zero = ev[ev.kind.isin([R.MACD_ZERO_CROSS_UP, R.MACD_ZERO_CROSS_DOWN])]
    assert zero.above_zero.isna().all()
    expected = [(t, s) for t, s in _independent_sign_changes(macd)]
    assert [
        (panel.index_of(d), 1 if k == R.MACD_ZERO_CROSS_UP else -1)
        for d, k in zip(zero.date, zero.kind, strict=True)
    ] == (expected)


def test_rsi_entries_and_exits() -> None:
    import talib

    rng = np.random.default_rng(11)
    close = 50 + np.cumsum(rng.normal(0, 1.2, 600))
    panel = make_panel({"R": close.tolist()})
    ev = rsi_crosses(panel)
    rsi = talib.RSI(close, 14)
    got = {(panel.index_of(d), k) for d, k in zip(ev.date, ev.kind, strict=True)}
    expected = set()
    for t, s in _independent_sign_changes(rsi - 70):
        expected.add((t, R.RSI_OVERBOUGHT if s > 0 else R.RSI_OVERBOUGHT_EXIT))
    for t, s in _independent_sign_changes(rsi - 30):
        expected.add((t, R.RSI_OVERSOLD_EXIT if s > 0 else R.RSI_OVERSOLD))
    assert got == expected and len(got) == len(ev)
    assert {R.RSI_OVERBOUGHT, R.RSI_OVERSOLD} <= set(ev.kind)


# -- records -------------------------------------------------------------------------------------------------
def test_events_to_records_json_ready() -> None:
    panel = make_panel({"V": [10, 9, 8, 7, 8, 9, 10, 11, 9, 7, 6]})
    ev = R.concat_events([ma_crosses(panel, [("sma", 2, 4)]), price_crosses(panel, [2])])
    recs = R.events_to_records(ev)
    text = json.dumps(recs)  # plain JSON types only
    assert "NaN" not in text
    for rec in recs:
        assert list(rec)[:4] == ["symbol", "date", "kind", "price"]
        assert set(rec) == {"symbol", "date", "kind", "price", *R.KIND_FIELDS[rec["kind"]]}
        assert isinstance(rec["date"], str) and len(rec["date"]) == 10
    golden = next(r for r in recs if r["kind"] == R.GOLDEN_CROSS)
    assert golden["fast"] == 2 and isinstance(golden["fast"], int)
    assert golden["date"] == str(panel.dates[5])


def test_records_missing_values_become_none() -> None:
    ev = R.make_events(
        R.MACD_BULLISH_CROSS,
        {"price": [np.nan], "fast": 12, "slow": 26, "signal": 9, "macd": [1.0], "above_zero": [True]},
        symbol=np.array(["X"], dtype=object),
        date=np.array(["2024-01-02"], dtype="datetime64[D]"),
    )
    (rec,) = R.events_to_records(ev)
    assert rec["price"] is None and rec["signal_value"] is None and rec["above_zero"] is True


def test_resolve_kinds() -> None:
    assert R.resolve_kinds(None) == R.EVENT_KINDS
    assert R.resolve_kinds(["macd", "golden_cross"]) == (
        R.MACD_BULLISH_CROSS,
        R.MACD_BEARISH_CROSS,
        R.GOLDEN_CROSS,
    )
    with pytest.raises(ValueError, match="unknown event kind 'golden'"):
        R.resolve_kinds(["golden"])


def test_sort_and_concat() -> None:
    panel = make_panel({"B": [1, 2, 2, 1, 1, 2], "A": [1, 2, 2, 1, 1, 2]})
    ev = price_crosses(panel, [2])
    assert ev["symbol"].tolist() == ["A", "B", "A", "B"]
    newest = R.sort_events(ev, newest_first=True)
    assert newest["date"].is_monotonic_decreasing
    assert R.concat_events([]).empty


@pytest.mark.parametrize("capacity", [None, 0, 2])
def test_cross_values_sampled_by_the_scan_equal_a_gather(capacity: int | None) -> None:
    # the values of a, b and one more array come out of the scan (also when its output arrays overflow and it is
    # redone); every other field array is gathered afterwards: all equal the plain gather at the event cells
    rng = np.random.default_rng(3)
    a, b, c, d = (rng.normal(0, 1, (60, 5)) for _ in range(4))
    a[rng.random(a.shape) < 0.1] = np.nan
    b[rng.random(b.shape) < 0.1] = np.nan
    c[rng.random(c.shape) < 0.3] = np.nan
    ref = cross_matrix_reference(a, b)
    n_events = np.count_nonzero(ref)
    for tight in (n_events - 1, n_events):  # output one short of all events, and exactly all
        got = _cross_arrays(a, b, c, capacity=int(tight))
        np.testing.assert_array_equal(np.stack(np.nonzero(ref)), np.stack(got[:2]))
    rows, cols, dirs, va, vb, vc = _cross_arrays(a, b, c, capacity=capacity)
    np.testing.assert_array_equal(np.stack(np.nonzero(ref)), np.stack([rows, cols]))
    np.testing.assert_array_equal(dirs, ref[rows, cols])
    for got, arr in ((va, a), (vb, b), (vc, c)):
        np.testing.assert_array_equal(got, arr[rows, cols])
    fields = {"fast_value": a, "slow_value": b, "macd": c, "rsi": d, "fast": 3}
    parts = cross_parts(a, b, R.GOLDEN_CROSS, R.DEATH_CROSS, fields)
    for name, arr in (("fast_value", a), ("slow_value", b), ("macd", c), ("rsi", d)):
        np.testing.assert_array_equal(parts.fields[name], arr[rows, cols])
    assert parts.fields["fast"] == 3 and len(rows) > 20
    thr = cross_parts(
        a, 0.25, R.RSI_OVERBOUGHT, R.RSI_OVERBOUGHT_EXIT, {"rsi": a, "macd": d, "threshold": 0.25}
    )
    ref_t = cross_matrix_reference(a, 0.25)
    np.testing.assert_array_equal(np.stack(np.nonzero(ref_t)), np.stack([thr.row, thr.col]))
    np.testing.assert_array_equal(thr.fields["rsi"], a[thr.row, thr.col])
    np.testing.assert_array_equal(thr.fields["macd"], d[thr.row, thr.col])
