"""Lo-Mamaysky-Wang mode: kernel regression, bandwidth CV, the ten patterns, fast path == reference, no look-ahead.

Golden values come from outside the code under test: the Nadaraya-Watson fit is recomputed from the Gaussian
density in ``scipy.stats.norm``; leave-one-out CV by literally deleting each point and refitting; the patterns
from price paths drawn to satisfy (only) the paper's definitions.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from capscope.patterns import kernel_regression as kr
from capscope.patterns import lmw
from capscope.patterns.records import MODE_LMW, STATUS_CONFIRMED

# ------------------------------------------------------------------------------------------------------
# kernel regression
# ------------------------------------------------------------------------------------------------------


def _nw_direct(y: np.ndarray, h: float, at: float, skip: int | None = None) -> float:
    """NW estimate at time ``at`` from scipy's normal density, optionally without point ``skip``."""
    t = np.arange(y.size, dtype=float)
    keep = np.ones(y.size, bool)
    if skip is not None:
        keep[skip] = False
    w = norm.pdf((at - t[keep]) / h) / h
    return float(np.sum(w * y[keep]) / np.sum(w))


@pytest.mark.parametrize("h", [0.3, 1.0, 2.7, 10.0])
def test_nw_smooth_twins_match_scipy_formula(h: float) -> None:
    rng = np.random.default_rng(1)
    y = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, 38)))
    direct = np.array([_nw_direct(y, h, i) for i in range(y.size)])
    np.testing.assert_allclose(kr.nw_smooth_reference(y, h), direct, rtol=1e-13)
    np.testing.assert_allclose(kr.nw_smooth(y, h), direct, rtol=1e-13)


@given(
    st.lists(st.floats(1.0, 1000.0), min_size=3, max_size=60),
    st.floats(0.25, 20.0),
)
@settings(max_examples=60, deadline=None)
def test_nw_smooth_twin_property(values: list[float], h: float) -> None:
    y = np.array(values)
    fast = kr.nw_smooth(y, h)
    np.testing.assert_allclose(fast, kr.nw_smooth_reference(y, h), rtol=1e-12)
    # a weighted average stays within the data range
    assert np.all(fast >= y.min() - 1e-9) and np.all(fast <= y.max() + 1e-9)


def test_loo_cv_matches_brute_force_and_picks_its_minimiser() -> None:
    rng = np.random.default_rng(2)
    hs = np.array([0.4, 0.7, 1.0, 1.5, 2.2, 3.3, 5.0, 8.0])
    for trial in range(20):
        y = 50 * np.exp(np.cumsum(rng.normal(0, 0.03, 38)))
        if trial % 2:
            y = y + 5 * np.sin(np.arange(38) / 3.0)  # smooth signal: larger bandwidths compete
        brute = np.array(
            [np.mean([(y[i] - _nw_direct(y, h, i, skip=i)) ** 2 for i in range(y.size)]) for h in hs]
        )
        np.testing.assert_allclose(kr.loo_cv_scores_reference(y, hs), brute, rtol=1e-10)
        np.testing.assert_allclose(kr.loo_cv_scores(y, hs), brute, rtol=1e-10)
        h_star, _ = kr.cv_bandwidth(y, hs)
        assert h_star == hs[int(np.argmin(brute))]
        assert kr.cv_bandwidth_reference(y, hs)[0] == h_star


def test_cv_prefers_wide_bandwidth_for_noise_around_a_level() -> None:
    # iid noise around a constant: averaging many neighbours predicts best; a random walk: the nearest
    y = 100 + np.random.default_rng(3).normal(0, 1.0, 38)
    assert kr.cv_bandwidth(y, [0.5, 1.0, 2.0, 8.0])[0] >= 2.0
    walk = 100 + np.cumsum(np.random.default_rng(3).normal(0, 1.0, 38))
    assert kr.cv_bandwidth(walk, [0.5, 1.0, 2.0, 8.0])[0] <= 1.0


def test_weight_matrices_rows_sum_to_one_and_loo_has_zero_diagonal() -> None:
    w = kr.nw_weight_matrix(38, 1.7)
    loo = kr.loo_weight_matrix(38, 1.7)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(loo.sum(axis=1), 1.0, rtol=1e-14)
    assert np.all(np.diag(loo) == 0.0)


def test_bad_bandwidth_is_rejected() -> None:
    with pytest.raises(ValueError, match="bandwidth"):
        kr.nw_smooth(np.ones(5), 0.0)
    with pytest.raises(ValueError, match="too small"):
        lmw.LmwParams(bandwidths=(0.05, 1.0))
    with pytest.raises(ValueError, match="window"):
        lmw.LmwParams(window=5)


# ------------------------------------------------------------------------------------------------------
# constructed patterns: piecewise-linear paths through the five (or three) extrema
# ------------------------------------------------------------------------------------------------------

FIVE_AT = (14, 19, 24, 29, 34)  # E1 at 14: first-to-last extremum 20 bars (<= 22), so no double pattern
PATHS: dict[str, tuple[tuple[int, ...], tuple[float, ...], float, float]] = {
    # code: (positions, extrema, close at bar 0, close at bar 37)
    "HS": (FIVE_AT, (105.0, 100.0, 110.0, 100.5, 105.5), 95.0, 102.0),
    "IHS": (FIVE_AT, (95.0, 100.0, 90.0, 99.5, 94.5), 105.0, 98.0),
    "BTOP": (FIVE_AT, (100.0, 97.0, 102.0, 95.0, 104.0), 95.0, 100.0),
    "BBOT": (FIVE_AT, (100.0, 103.0, 98.0, 105.0, 96.0), 105.0, 99.0),
    "TTOP": (FIVE_AT, (110.0, 100.0, 108.0, 102.0, 106.0), 100.0, 103.0),
    "TBOT": (FIVE_AT, (90.0, 100.0, 92.0, 98.0, 94.0), 100.0, 96.0),
    "RTOP": (FIVE_AT, (100.3, 95.0, 100.0, 95.3, 100.2), 96.0, 97.0),
    "RBOT": (FIVE_AT, (95.0, 100.3, 95.2, 100.0, 95.1), 100.0, 99.0),
    "DTOP": ((8, 21, 34), (100.0, 92.0, 100.8), 95.0, 97.0),
    "DBOT": ((8, 21, 34), (100.0, 108.0, 99.5), 105.0, 103.0),
}
# near misses: one condition of the definition broken
NEAR_MISSES: dict[str, tuple[tuple[int, ...], tuple[float, ...], float, float]] = {
    "HS shoulders 4% apart": (FIVE_AT, (105.0, 100.0, 110.0, 100.5, 109.5), 95.0, 102.0),
    "HS troughs 4% apart": (FIVE_AT, (105.0, 100.0, 110.0, 104.5, 105.5), 95.0, 102.0),
    "RTOP tops 2% apart": (FIVE_AT, (100.3, 95.0, 98.0, 95.3, 100.2), 96.0, 97.0),
    "DTOP tops 3% apart": ((8, 21, 34), (100.0, 92.0, 103.5), 95.0, 97.0),
    "DTOP 20 bars apart": ((14, 24, 34), (100.0, 92.0, 100.8), 95.0, 97.0),
}


def _path(positions: tuple[int, ...], extrema: tuple[float, ...], first: float, last: float) -> np.ndarray:
    knots_x = [0, *positions, 37]
    knots_y = [first, *extrema, last]
    return np.interp(np.arange(38), knots_x, knots_y)


@pytest.mark.parametrize("code", lmw.CODES)
def test_each_pattern_is_found_alone_on_its_path(code: str) -> None:
    close = _path(*PATHS[code])
    mask, _ = lmw.lmw_mask(close)
    assert lmw.decode_mask(int(mask[-1])) == [code]
    assert np.count_nonzero(mask) == 1
    ref_mask, _ = lmw.lmw_mask_reference(close)
    assert int(ref_mask[-1]) == int(mask[-1])
    # scale invariance: the definitions are in percent
    assert lmw.decode_mask(int(lmw.lmw_mask(close * 0.37)[0][-1])) == [code]


@pytest.mark.parametrize("name", sorted(NEAR_MISSES))
def test_near_misses_are_rejected(name: str) -> None:
    close = _path(*NEAR_MISSES[name])
    code = name.split()[0]
    mask, _ = lmw.lmw_mask(close)
    assert code not in lmw.decode_mask(int(mask[-1]))


@pytest.mark.parametrize("code", lmw.CODES)
def test_pattern_is_reported_lag_bars_after_its_last_extremum(code: str) -> None:
    # embed the window in a longer series: a flat lead-in before and a flat tail after
    window = _path(*PATHS[code])
    close = np.concatenate([np.full(30, window[0]), window, np.full(20, window[-1])])
    dates = np.arange("2024-01-01", "2024-12-31", dtype="datetime64[D]")[: close.size]
    records = lmw.find_lmw_patterns(close, dates, "TEST")
    kinds = {r.kind for r in records if r.date == dates[30 + 37].astype(object)}
    assert lmw.KIND_OF_CODE[code] in kinds
    for rec in records:
        assert rec.mode == MODE_LMW and rec.status == STATUS_CONFIRMED
        assert rec.date >= rec.last_point_date
    rec = next(r for r in records if r.kind == lmw.KIND_OF_CODE[code])
    positions, extrema, _, _ = PATHS[code]
    # the points are the drawn extrema (exact closes, exact bars)
    picked = positions if code not in ("DTOP", "DBOT") else (positions[0], positions[-1])
    values = extrema if code not in ("DTOP", "DBOT") else (extrema[0], extrema[-1])
    assert [p.index for p in rec.points] == [30 + i for i in picked]
    np.testing.assert_allclose([p.price for p in rec.points], values)
    assert 0.0 <= rec.quality <= 1.0


def test_head_and_shoulders_record_geometry() -> None:
    close = _path(*PATHS["HS"])
    dates = np.arange("2024-03-01", "2024-04-08", dtype="datetime64[D]")
    (rec,) = lmw.find_lmw_patterns(close, dates, "HSX")
    assert [p.role for p in rec.points] == [
        "left_shoulder",
        "neckline_left",
        "head",
        "neckline_right",
        "right_shoulder",
    ]
    assert rec.neckline is not None
    assert (rec.neckline.price0, rec.neckline.price1) == (100.0, 100.5)
    # neckline at the head (bar 24): 100.25; height 9.75; neckline at the right shoulder (bar 34): 100.75
    assert rec.target == pytest.approx(100.75 - 9.75)
    assert rec.invalidation == 110.0
    # quality: worst deviation from the pair average is the troughs' 0.25 / 100.25, against the 1.5% tolerance
    assert rec.quality == pytest.approx(1 - (0.25 / 100.25) / 0.015)
    assert rec.to_dict()["extra"]["code"] == "HS"


def test_constant_and_short_series_give_nothing() -> None:
    assert not np.any(lmw.lmw_mask(np.full(100, 42.0))[0])
    dates = np.arange("2024-01-01", "2024-01-21", dtype="datetime64[D]")
    assert lmw.find_lmw_patterns(np.linspace(1, 2, 20), dates, "S") == []


# ------------------------------------------------------------------------------------------------------
# fast panel kernel == per-window reference
# ------------------------------------------------------------------------------------------------------


def test_fast_kernel_equals_reference_on_gbm_panel_with_gaps() -> None:
    rng = np.random.default_rng(11)
    close = 40 * np.exp(np.cumsum(rng.normal(0, 0.02, (260, 9)), axis=0))
    close[:25, 1] = np.nan  # late start
    close[100:104, 2] = np.nan  # gap
    close[200:, 3] = np.nan  # delisted
    close[50:120, 4] = close[50, 4]  # a long flat stretch
    close[:, 5] = 100 + np.sin(np.arange(260) / 4.0) * 5  # smooth: larger bandwidths get chosen
    mask, band, smoothed = lmw.lmw_mask(close, return_smoothed=True)
    ref_mask, ref_band = lmw.lmw_mask_reference(close)
    np.testing.assert_array_equal(band, ref_band)
    np.testing.assert_array_equal(mask, ref_mask)
    assert np.count_nonzero(mask) > 20
    assert len(set(band[band >= 0].tolist())) > 1
    params = lmw.LmwParams()
    for col in range(close.shape[1]):
        for t in range(37, close.shape[0]):
            y = close[t - 37 : t + 1, col]
            if not np.all(np.isfinite(y)):
                assert band[t, col] == -1 and mask[t, col] == 0
                continue
            detail = lmw.window_detail(y, params)
            np.testing.assert_allclose(smoothed[t, col], detail.smoothed, rtol=1e-12)


@given(
    seed=st.integers(0, 2**32 - 1),
    n_bars=st.integers(38, 90),
    vol=st.sampled_from([0.002, 0.02, 0.08]),
    holes=st.integers(0, 3),
    flat=st.booleans(),
)
@settings(max_examples=25, deadline=None)
def test_fast_kernel_equals_reference_property(
    seed: int, n_bars: int, vol: float, holes: int, flat: bool
) -> None:
    rng = np.random.default_rng(seed)
    close = 10 * np.exp(np.cumsum(rng.normal(0, vol, (n_bars, 3)), axis=0))
    for _ in range(holes):
        close[int(rng.integers(n_bars)), int(rng.integers(3))] = np.nan
    if flat:
        start = int(rng.integers(n_bars))
        close[start : start + 45, 0] = close[start, 0]
    mask, band = lmw.lmw_mask(close)
    ref_mask, ref_band = lmw.lmw_mask_reference(close)
    np.testing.assert_array_equal(band, ref_band)
    np.testing.assert_array_equal(mask, ref_mask)


def test_one_dimensional_input_matches_panel_column() -> None:
    rng = np.random.default_rng(5)
    close = 20 * np.exp(np.cumsum(rng.normal(0, 0.02, (200, 3)), axis=0))
    mask_2d, band_2d = lmw.lmw_mask(close)
    mask_1d, band_1d = lmw.lmw_mask(close[:, 1])
    np.testing.assert_array_equal(mask_1d, mask_2d[:, 1])
    np.testing.assert_array_equal(band_1d, band_2d[:, 1])


def test_lmw_patterns_over_panel_matches_per_symbol() -> None:
    rng = np.random.default_rng(8)
    close = 30 * np.exp(np.cumsum(rng.normal(0, 0.02, (150, 3)), axis=0))
    dates = np.arange("2020-01-01", "2021-01-01", dtype="datetime64[D]")[:150]
    both = lmw.lmw_patterns(close, dates=dates, symbols=["A", "B", "C"])
    one = lmw.find_lmw_patterns(close[:, 1], dates, "B")
    assert [r.to_dict() for r in both if r.symbol == "B"] == [r.to_dict() for r in one]
    assert {r.symbol for r in both} == {"A", "B", "C"}


# ------------------------------------------------------------------------------------------------------
# no look-ahead on real data
# ------------------------------------------------------------------------------------------------------


@pytest.mark.sample
def test_no_lookahead_on_sample_stocks(stocks_panel) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(2026)
    symbols = list(stocks_panel.symbols)
    checked = 0
    compared = 0
    while checked < 60:
        symbol = symbols[int(rng.integers(len(symbols)))]
        close = stocks_panel.series(symbol, "close")
        close = np.asarray(close, dtype=float)
        valid = np.flatnonzero(np.isfinite(close))
        if valid.size < 200:
            continue
        dates = stocks_panel.dates
        full = lmw.find_lmw_patterns(close, dates, symbol)
        cut = int(rng.integers(valid[0] + 60, valid[-1]))
        as_of = dates[cut]
        truncated = lmw.find_lmw_patterns(close[: cut + 1], dates[: cut + 1], symbol)
        via_as_of = lmw.find_lmw_patterns(close, dates, symbol, as_of=as_of)
        expected = [r.to_dict() for r in full if np.datetime64(r.date) <= as_of]
        assert [r.to_dict() for r in truncated] == expected
        assert [r.to_dict() for r in via_as_of] == expected
        for rec in full:
            assert rec.date >= rec.last_point_date
        compared += len(expected)
        checked += 1
    assert compared > 20, f"only {compared} records compared: the look-ahead check would be vacuous"
