"""Rotation: period returns, relative strength, leadership, turning points, price basis, RRG.

Constructed series have hand-computed answers; on the sample data, returns are checked against a plain pandas
computation and against index closes published in the sample's SOURCES.md; as-of invariance is checked on
random dates.
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest

from capscope.analytics import rotation as rot
from capscope.analytics.basis import (
    CloseKind,
    PriceBasis,
    SeriesBasis,
    parse_overrides,
    resolve_basis,
)
from capscope.data.panel import Panel
from capscope.errors import UsageError

D = np.datetime64


def make_panel(
    dates: list[str], columns: dict[str, list[float]], adj: dict[str, list[float]] | None = None
) -> Panel:
    """A panel whose OHLC all equal the given closes (adj_close NaN unless given)."""
    d = np.array(dates, dtype="datetime64[D]")
    symbols = tuple(columns)
    close = np.ascontiguousarray(np.array([columns[s] for s in symbols], dtype=float).T)
    adj_arr = np.full_like(close, np.nan)
    for j, s in enumerate(symbols):
        if adj and s in adj:
            adj_arr[:, j] = adj[s]
    fields = {
        "open": close.copy(),
        "high": close.copy(),
        "low": close.copy(),
        "close": close,
        "adj_close": np.ascontiguousarray(adj_arr),
        "volume": np.full_like(close, np.nan),
    }
    return Panel(d, symbols, fields)


# -- dates -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ("2025-03-31", 1, "2025-02-28"),
        ("2024-03-31", 1, "2024-02-29"),
        ("2025-01-15", 1, "2024-12-15"),
        ("2025-08-21", 12, "2024-08-21"),
        ("2025-05-31", 3, "2025-02-28"),
        ("2025-12-31", 6, "2025-06-30"),
    ],
)
def test_months_before_clips_to_month_end(day: str, months: int, expected: str) -> None:
    assert rot.months_before(D(day), months) == D(expected)


# -- period returns on a constructed series ----------------------------------------------------------------------
DATES = ["2024-12-30", "2024-12-31", "2025-01-02", "2025-01-31", "2025-02-03", "2025-02-28", "2025-03-03"]
VALUES = [90.0, 100.0, 110.0, 120.0, 80.0, 125.0, 150.0]


def _returns(as_of: str | None, **kw: object) -> dict[str, rot.PeriodReturn]:
    periods = rot.default_periods(**kw)  # type: ignore[arg-type]
    out = rot.period_returns(np.array(DATES, dtype="datetime64[D]"), np.array(VALUES), as_of, periods)
    return {r.label: r for r in out}


def test_period_returns_hand_computed() -> None:
    r = _returns("2025-03-03", months=(1, 2, 3), since=["2025-01-31"])
    assert r["YTD"].value == pytest.approx(150 / 100 - 1, abs=0, rel=1e-15)
    assert r["YTD"].start_date == D("2024-12-31")
    # 1M: boundary 2025-02-03 is a bar -> base 80
    assert r["1M"].value == pytest.approx(150 / 80 - 1, rel=1e-15)
    # 2M: boundary 2025-01-03 (no bar) -> last bar before it, 2025-01-02
    assert r["2M"].start_date == D("2025-01-02")
    assert r["2M"].value == pytest.approx(150 / 110 - 1, rel=1e-15)
    # 3M: boundary 2024-12-03 precedes the data
    assert math.isnan(r["3M"].value) and r["3M"].start_date is None
    assert r["since 2025-01-31"].value == pytest.approx(150 / 120 - 1, rel=1e-15)
    # the 52-week low of this short series is 80 on 2025-02-03
    assert r["from 52w low"].start_date == D("2025-02-03")
    assert r["from 52w low"].value == pytest.approx(150 / 80 - 1, rel=1e-15)


def test_period_returns_as_of_between_bars_and_month_end() -> None:
    r = _returns("2025-03-02", months=(1,))  # a Sunday: end bar is Friday 2025-02-28
    assert r["YTD"].end_date == D("2025-02-28")
    assert r["1M"].start_date == D("2025-01-31")  # boundary 2025-02-02
    assert r["1M"].value == pytest.approx(125 / 120 - 1, rel=1e-15)
    r = _returns("2025-03-31", months=(1,))  # boundary clipped to 2025-02-28
    assert r["1M"].start_date == D("2025-02-28")
    assert r["1M"].value == pytest.approx(150 / 125 - 1, rel=1e-15)


def test_period_returns_low_window_and_stale_series() -> None:
    r = _returns("2025-02-28", low_window=3)  # last three bars 120, 80, 125
    assert r["from 3-bar low"].value == pytest.approx(125 / 80 - 1, rel=1e-15)
    r = _returns("2025-01-31", low_window=3)  # 100, 110, 120
    assert r["from 3-bar low"].start_date == D("2024-12-31")
    # a series that stopped before the period began is undefined, not "0%"
    r = _returns("2025-06-30", months=(1, 6))
    assert math.isnan(r["1M"].value)
    assert r["6M"].value == pytest.approx(150 / 90 - 1, rel=1e-15)  # boundary 2024-12-30
    assert r["YTD"].value == pytest.approx(0.5, rel=1e-15)


def test_period_returns_ignore_nan_and_bad_low_window() -> None:
    values = np.array([90.0, np.nan, 110.0, 120.0, 80.0, 125.0, 150.0])
    out = rot.period_returns(np.array(DATES, dtype="datetime64[D]"), values, "2025-03-03")
    ytd = next(r for r in out if r.label == "YTD")
    assert ytd.start_date == D("2024-12-30") and ytd.value == pytest.approx(150 / 90 - 1, rel=1e-15)
    with pytest.raises(UsageError):
        rot.default_periods(low_window=0)
    with pytest.raises(UsageError):
        rot.period_returns(np.array(DATES, dtype="datetime64[D]"), np.full(len(DATES), np.nan))
    before = rot.period_returns(np.array(DATES, dtype="datetime64[D]"), np.array(VALUES), "2020-01-01")
    assert all(r.end_date is None and math.isnan(r.value) for r in before)


# -- relative strength on a constructed pair ---------------------------------------------------------------------
BDAYS = [str(d.date()) for d in pd.bdate_range("2025-01-06", periods=8)]


def test_relative_strength_leadership_and_streak() -> None:
    # B is flat, so the ratio is A / 100: up for four bars, then down
    panel = make_panel(BDAYS, {"A": [100, 200, 300, 400, 500, 400, 300, 200], "B": [100.0] * 8})
    rs = rot.relative_strength(panel, "A", "B", windows=(2, 6), periods=[])
    np.testing.assert_array_equal(rs.ratio, [1, 2, 3, 4, 5, 4, 3, 2])
    lead2, lead6 = rs.leadership
    # 2-bar returns ending at bars 2..7: 3/1, 4/2, 5/3, 4/4 (tie), 3/5, 2/4 -> B led the last two bars
    assert lead2.leader == "denominator" and lead2.streak_bars == 2 and lead2.since == D(BDAYS[6])
    assert lead2.relative_return == pytest.approx(2 / 4 - 1)
    # 6-bar returns ending at bars 6, 7: 3/1, 2/2 (tie)
    assert lead6.leader == "tie" and lead6.streak_bars == 1
    assert rot.leadership(rs.ratio, rs.dates, 8).leader is None  # window longer than the data


def test_relative_strength_pair_returns_are_on_common_dates() -> None:
    a = [100.0, 110.0, np.nan, 121.0, 133.1]
    b = [50.0, 50.0, 55.0, np.nan, 60.5]
    panel = make_panel(BDAYS[:5], {"A": a, "B": b})
    spec = rot.PeriodSpec("since", since=D(BDAYS[0]))
    rs = rot.relative_strength(panel, "A", "B", periods=[spec], windows=())
    np.testing.assert_array_equal(rs.dates, np.array([BDAYS[0], BDAYS[1], BDAYS[4]], dtype="datetime64[D]"))
    (r,) = rs.returns
    # base = BDAYS[0] is the boundary itself: its bar is the base, the end is the last common date
    assert r.numerator == pytest.approx(133.1 / 100 - 1, rel=1e-15)
    assert r.denominator == pytest.approx(60.5 / 50 - 1, rel=1e-15)
    assert r.relative == pytest.approx(rs.ratio[-1] / rs.ratio[0] - 1, rel=1e-14)
    assert r.spread == pytest.approx(r.numerator - r.denominator, rel=1e-15)


def test_rs_turning_points_hand_computed() -> None:
    x = np.array([5.0, 4.0, 3.0, 4.0, 5.0, 4.0, 3.0])
    dates = np.array(BDAYS[:7], dtype="datetime64[D]")
    events = rot.rs_turning_points(dates, x, "A:B", fast=2, slow=3)
    got = {
        (e["date"], e["kind"], e.get("window"))
        for e in events
        if e["kind"].startswith(("price", "golden", "death"))
    }
    # x > SMA2 exactly when x rose; x vs SMA3 = [.,.,3-4, 4-11/3, 5-4, 4-13/3, 3-4]; SMA2 - SMA3 changes sign at 4 and 6
    expected = {
        (BDAYS[3], "price_cross_above", 2),
        (BDAYS[3], "price_cross_above", 3),
        (BDAYS[5], "price_cross_below", 2),
        (BDAYS[5], "price_cross_below", 3),
        (BDAYS[4], "golden_cross", None),
        (BDAYS[6], "death_cross", None),
    }
    assert got == expected
    assert all(e["symbol"] == "A:B" for e in events)
    assert [e["date"] for e in events] == sorted(e["date"] for e in events)


# -- price basis ---------------------------------------------------------------------------------------------------
def test_resolve_basis_order() -> None:
    adj = np.array([1.0, 2.0])
    none = np.array([np.nan, np.nan])
    assert resolve_basis("RUT", adj).basis == PriceBasis.PRICE_RETURN  # a price index's adj_close is no TR
    assert resolve_basis("IWO", none) == SeriesBasis(
        "IWO", "close", PriceBasis.TOTAL_RETURN, "declared: dividend-adjusted OHLC"
    )
    assert resolve_basis("IWO__dsturdy_close_only", none).basis == PriceBasis.TOTAL_RETURN
    assert resolve_basis("IWM", none).basis == PriceBasis.PRICE_RETURN
    iwm_adj = resolve_basis("IWM__deep-raj17", adj)
    assert (iwm_adj.field, iwm_adj.basis) == ("adj_close", PriceBasis.TOTAL_RETURN)
    unknown = resolve_basis("XYZ", None)
    assert unknown.basis == PriceBasis.PRICE_RETURN and "assumed" in unknown.source
    assert resolve_basis("IWO", none, overrides={"IWO": CloseKind.RAW}).basis == PriceBasis.PRICE_RETURN
    assert resolve_basis("XYZ", None, overrides={"XYZ": CloseKind.ADJUSTED}).basis == PriceBasis.TOTAL_RETURN
    assert resolve_basis("XYZ", None, declarations={}).source.startswith("assumed")
    assert parse_overrides(["IWM=adjusted,rut=price_index"]) == {
        "IWM": CloseKind.ADJUSTED,
        "rut": CloseKind.PRICE_INDEX,
    }
    for bad in (["IWM"], ["IWM=total"], ["=raw"]):
        with pytest.raises(UsageError):
            parse_overrides(bad)


def test_mixed_basis_warns_and_override_silences() -> None:
    panel = make_panel(BDAYS[:3], {"IWM": [10.0, 11, 12], "IWO": [20.0, 21, 22], "SPY": [5.0, 5, 5]})
    rs = rot.relative_strength(panel, "IWM", "IWO", periods=[], windows=())
    assert len(rs.warnings) >= 1 and "mixed price basis" in rs.warnings[0]
    assert "IWM is price_return" in rs.warnings[0] and "IWO is total_return" in rs.warnings[0]
    assert "mixed price basis" in rs.to_dict()["warnings"][0]
    same = rot.relative_strength(panel, "IWM", "SPY", periods=[], windows=())
    assert not any("mixed" in w for w in same.warnings)
    fixed = rot.relative_strength(
        panel, "IWM", "IWO", periods=[], windows=(), overrides={"IWO": CloseKind.RAW}
    )
    assert not any("mixed" in w for w in fixed.warnings)
    # an adj_close column makes a total-return series of an undeclared symbol
    panel2 = make_panel(BDAYS[:3], {"X": [1.0, 2, 3], "Y": [1.0, 2, 3]}, adj={"X": [0.9, 1.9, 2.9]})
    rs2 = rot.relative_strength(panel2, "X", "Y", periods=[], windows=())
    assert rs2.numerator.field == "adj_close" and "mixed price basis" in rs2.warnings[0]
    np.testing.assert_allclose(rs2.ratio, [0.9, 1.9 / 2, 2.9 / 3], rtol=1e-15)


def test_stale_and_unknown_symbols() -> None:
    panel = make_panel(BDAYS, {"A": [1.0] * 8, "B": [1.0, 1, 1, np.nan, np.nan, np.nan, np.nan, np.nan]})
    rs = rot.relative_strength(panel, "A", "B", periods=[], windows=())
    assert any(w.startswith("B: last bar") for w in rs.warnings)
    with pytest.raises(UsageError):
        rot.relative_strength(panel, "A", "NOPE")


# -- RRG -----------------------------------------------------------------------------------------------------------
def test_week_end_rows() -> None:
    dates = np.array(
        ["2025-01-06", "2025-01-07", "2025-01-10", "2025-01-13", "2025-01-17", "2025-01-21", "2025-01-22"],
        dtype="datetime64[D]",
    )  # Mon, Tue, Fri | Mon, Fri | Tue, Wed (week in progress)
    np.testing.assert_array_equal(rot.week_end_rows(dates), [2, 4, 6])
    assert len(rot.week_end_rows(dates[:0])) == 0


def test_rrg_formula_hand_computed() -> None:
    rs = np.array([100.0, 102.0, 101.0, 104.0, 103.0, 107.0, 106.0])
    n = 3
    ratio, momentum = rot.rrg_arrays(rs[:, None], n)
    exp_ratio = [math.nan] * len(rs)
    for t in range(n - 1, len(rs)):
        w = rs[t - n + 1 : t + 1]
        exp_ratio[t] = 100 + (rs[t] - statistics.mean(w)) / statistics.stdev(w)
    np.testing.assert_allclose(ratio[:, 0], exp_ratio, rtol=1e-13, equal_nan=True)
    roc = [math.nan] + [100 * (exp_ratio[t] / exp_ratio[t - 1] - 1) for t in range(1, len(rs))]
    exp_mom = [math.nan] * len(rs)
    for t in range(len(rs)):
        w = roc[t - n + 1 : t + 1] if t >= n - 1 else [math.nan]
        if all(math.isfinite(v) for v in w):
            exp_mom[t] = 100 + (roc[t] - statistics.mean(w)) / statistics.stdev(w)
    np.testing.assert_allclose(momentum[:, 0], exp_mom, rtol=1e-12, equal_nan=True)
    assert np.isfinite(momentum[:, 0]).sum() == len(rs) - (2 * n - 1)


def test_rolling_kernel_matches_reference() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(100, 5, size=(120, 6))
    x[rng.random(x.shape) < 0.05] = np.nan
    for window in (2, 5, 14):
        fast = rot._rolling_mean_sd(x, window)
        ref = rot.rolling_mean_sd_reference(x, window)
        for a, b in zip(fast, ref, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, equal_nan=True)
        pd_mean = pd.DataFrame(x).rolling(window).mean().to_numpy()
        pd_sd = pd.DataFrame(x).rolling(window).std().to_numpy()
        np.testing.assert_allclose(fast[0], pd_mean, rtol=1e-10, equal_nan=True)
        np.testing.assert_allclose(fast[1], pd_sd, rtol=1e-7, atol=1e-10, equal_nan=True)


@pytest.mark.parametrize(
    ("x", "y", "name"),
    [
        (101, 101, "leading"),
        (101, 99, "weakening"),
        (99, 99, "lagging"),
        (99, 101, "improving"),
        (100, 100, "leading"),
        (100, 99.9, "weakening"),
        (float("nan"), 100, None),
    ],
)
def test_quadrants(x: float, y: float, name: str | None) -> None:
    assert rot.quadrant(x, y) == name


def test_rrg_rotates_clockwise_on_a_cycle() -> None:
    """A relative-strength cycle walks the quadrants clockwise: leading -> weakening -> lagging -> improving.

    The z-score approximation can step back over a boundary near a turn (momentum is itself z-scored), so the
    test checks the net winding: one quadrant forward per quarter cycle, never a jump across the diagonal.
    """
    weeks = np.arange(400)
    rs = 100 + 10 * np.sin(2 * np.pi * weeks / 52)
    ratio, momentum = rot.rrg_arrays(rs[:, None], 14)
    codes = rot.quadrant_codes(ratio, momentum)[:, 0]
    codes = codes[codes >= 0]
    moved = np.nonzero(np.diff(codes))[0]
    step = (codes[moved + 1].astype(int) - codes[moved]) % 4
    assert set(step.tolist()) <= {1, 3}  # neighbours only
    net = int(np.sum(step == 1) - np.sum(step == 3))
    turns = len(codes) / 52
    assert 4 * turns - 2 <= net <= 4 * turns + 2  # about four quadrants forward per cycle
    # a reversed cycle rotates the same way (clockwise is a property of the method, not of the input)
    ratio_r, momentum_r = rot.rrg_arrays(rs[::-1, None].copy(), 14)
    codes_r = rot.quadrant_codes(ratio_r, momentum_r)[:, 0]
    codes_r = codes_r[codes_r >= 0]
    moved_r = np.nonzero(np.diff(codes_r))[0]
    step_r = (codes_r[moved_r + 1].astype(int) - codes_r[moved_r]) % 4
    assert int(np.sum(step_r == 1) - np.sum(step_r == 3)) >= 4 * turns - 2


def test_rrg_end_to_end_on_constructed_panel() -> None:
    days = pd.bdate_range("2023-01-02", "2025-06-30")
    weeks = (days - days[0]).days // 7
    a = 100 * (1 + 0.1 * np.sin(2 * np.pi * weeks / 40))
    panel = make_panel(
        [str(d.date()) for d in days], {"A": list(a), "B": list(a[::-1]), "BM": [50.0] * len(days)}
    )
    res = rot.rrg(panel, ["A", "B"], "BM", "2025-06-25", window=10, tail=5)
    assert res.dates[-1] == D("2025-06-25")  # the week in progress is sampled on D
    assert res.dates[-2] == D("2025-06-20")
    tails = res.tails()
    assert [len(tails[s]) for s in ("A", "B")] == [5, 5]
    direct_ratio, direct_mom = rot.rrg_arrays(
        100 * np.column_stack([a, a[::-1]])[np.searchsorted(days, res.dates.astype("datetime64[ns]"))] / 50.0,
        10,
    )
    np.testing.assert_allclose(res.rs_ratio, direct_ratio, rtol=1e-13, equal_nan=True)
    np.testing.assert_allclose(res.rs_momentum, direct_mom, rtol=1e-13, equal_nan=True)
    latest = {p.symbol: p for p in res.latest()}
    assert latest["A"].quadrant == rot.quadrant(direct_ratio[-1, 0], direct_mom[-1, 0])
    d = res.to_dict()
    assert d["latest"][0]["quadrant"] in rot.QUADRANTS and len(d["tails"]["A"]) == 5
    frame = res.frame()
    assert set(frame["quadrant"]) <= set(rot.QUADRANTS)
    with pytest.raises(UsageError):
        rot.rrg(panel, ["A"], "BM", window=1)


# -- sample data -----------------------------------------------------------------------------------------------------
def _pandas_return(s: pd.Series, as_of: pd.Timestamp, base_day: pd.Timestamp) -> float:
    s = s.dropna()
    end = s.loc[:as_of]
    base = s.loc[:base_day]
    if base.empty or end.index[-1] <= base_day:
        return math.nan
    return float(end.iloc[-1] / base.iloc[-1] - 1)


@pytest.mark.sample
def test_returns_match_plain_pandas_on_sample(prices_panel: Panel) -> None:
    rng = np.random.default_rng(2025)
    frame = prices_panel.frame("close")
    for symbol in ("RUT", "GSPC", "IWM", "IWO", "NDX"):
        s = frame[symbol].dropna()
        days = rng.choice(s.index[300:], size=6, replace=False)
        for day in map(pd.Timestamp, days):
            via_panel = rot.symbol_returns(prices_panel, symbol, day.date())
            assert via_panel.basis.field == "close"
            got_panel = {r.label: r.value for r in via_panel.returns}
            got = {
                r.label: r.value
                for r in rot.period_returns(prices_panel.dates, prices_panel.series(symbol), day.date())
            }
            exp = {
                "YTD": _pandas_return(s, day, pd.Timestamp(day.year - 1, 12, 31)),
                **{f"{m}M": _pandas_return(s, day, day - pd.DateOffset(months=m)) for m in (1, 3, 6, 12)},
            }
            window = s.loc[:day].iloc[-252:]
            exp["from 52w low"] = float(window.iloc[-1] / window.min() - 1)
            for label, value in exp.items():
                assert got[label] == pytest.approx(value, abs=1e-12, nan_ok=True), (symbol, day, label)
                assert got_panel[label] == pytest.approx(value, abs=1e-12, nan_ok=True)


@pytest.mark.sample
def test_pair_returns_match_plain_pandas_and_published_closes(prices_panel: Panel) -> None:
    spec = rot.PeriodSpec("since", since=D("2025-04-08"))
    rs = rot.relative_strength(
        prices_panel, "RUT", "GSPC", "2025-12-31", periods=[spec, *rot.default_periods()]
    )
    since = rs.returns[0]
    # SOURCES.md reference closes: RUT 2025-04-08 1,760.71 and 2025-12-31 2,481.91
    assert since.numerator == pytest.approx(2481.91 / 1760.71 - 1, abs=5e-6)
    frame = prices_panel.frame("close")[["RUT", "GSPC"]].dropna()
    end = frame.loc[:"2025-12-31"].iloc[-1]
    for r in rs.returns:
        if r.start_date is None:
            continue
        base = frame.loc[: pd.Timestamp(r.start_date)].iloc[-1]
        assert r.numerator == pytest.approx(end["RUT"] / base["RUT"] - 1, abs=1e-12)
        assert r.denominator == pytest.approx(end["GSPC"] / base["GSPC"] - 1, abs=1e-12)
    assert not any("mixed" in w for w in rs.warnings)
    ratio = (frame["RUT"] / frame["GSPC"]).loc[:"2025-12-31"]
    np.testing.assert_allclose(rs.ratio, ratio.to_numpy(), rtol=1e-15)
    np.testing.assert_allclose(rs.sma_slow[-1], ratio.iloc[-200:].mean(), rtol=1e-10)


@pytest.mark.sample
def test_mixed_basis_warning_on_sample(prices_panel: Panel) -> None:
    rs = rot.relative_strength(prices_panel, "IWM", "IWO", "2025-06-30")
    assert any("mixed price basis" in w for w in rs.warnings)
    assert not any(
        "mixed" in w for w in rot.relative_strength(prices_panel, "IWO", "IWN", "2025-06-30").warnings
    )


@pytest.mark.sample
def test_as_of_invariance_on_random_dates(prices_panel: Panel) -> None:
    rng = np.random.default_rng(11)
    days = rng.choice(prices_panel.dates[prices_panel.dates > D("2012-01-01")], size=4, replace=False)
    for day in days:
        cut = prices_panel.truncate(day)
        for num, den in (("RUT", "GSPC"), ("IWO", "IWN")):
            full = rot.relative_strength(prices_panel, num, den, day).to_dict(
                include_series=True, last_events=None
            )
            trunc = rot.relative_strength(cut, num, den).to_dict(include_series=True, last_events=None)
            assert full == trunc, (num, den, day)
        full_rrg = rot.rrg(prices_panel, ["IWO", "IWN", "IWF"], "IWB", day)
        trunc_rrg = rot.rrg(cut, ["IWO", "IWN", "IWF"], "IWB")
        assert full_rrg.to_dict() == trunc_rrg.to_dict()
        # the weekly history computed on all data agrees with the truncated one on every completed week
        everything = rot.rrg(prices_panel, ["IWO", "IWN", "IWF"], "IWB")
        done = trunc_rrg.dates[:-1]
        idx = np.searchsorted(everything.dates, done)
        np.testing.assert_array_equal(everything.dates[idx], done)
        np.testing.assert_array_equal(everything.rs_ratio[idx], trunc_rrg.rs_ratio[:-1])
        np.testing.assert_array_equal(everything.rs_momentum[idx], trunc_rrg.rs_momentum[:-1])


def test_rs_breakout_through_its_own_resistance() -> None:
    """A ratio that tops out at 1.10 three times and then climbs breaks out above that resistance."""
    tri = np.concatenate([np.linspace(1.0, 1.1, 11), np.linspace(1.1, 1.0, 11)[1:-1]])  # period 20
    ratio = np.concatenate([np.tile(tri, 4), np.linspace(1.0, 1.3, 31)])
    dates = np.datetime64("2024-01-01") + np.arange(len(ratio))
    events = rot.rs_turning_points(dates, ratio, "X:Y", fast=5, slow=10)
    ups = [e for e in events if e["kind"] == "breakout_above"]
    assert ups, events
    first = ups[0]
    assert first["level"] == pytest.approx(1.1, abs=1e-12) and first["level_kind"] == "resistance"
    assert first["date"] > str(dates[80]) and first["price"] > 1.1
    # no breakout while the ratio only retests 1.10
    assert all(e["date"] > str(dates[80]) for e in ups)


@pytest.mark.sample
def test_adj_close_file_is_total_return(sample_dir: object) -> None:
    """IWM with adj_close (total return) vs IWM raw (price return): the gap is about the fund's dividend yield."""
    from pathlib import Path

    from capscope.data.readers import read_many

    root = Path(str(sample_dir)) / "prices"
    panel = Panel.from_bars(read_many([root / "IWM.csv", root / "alt" / "IWM__deep-raj17.csv"]))
    spec = [rot.PeriodSpec("months", months=12)]
    tr = rot.symbol_returns(panel, "IWM__deep-raj17", "2026-06-30", periods=spec)
    pr = rot.symbol_returns(panel, "IWM", "2026-06-30", periods=spec)
    assert (tr.basis.field, tr.basis.basis) == ("adj_close", PriceBasis.TOTAL_RETURN)
    assert pr.basis.basis == PriceBasis.PRICE_RETURN
    adj = panel.frame("adj_close")["IWM__deep-raj17"].dropna()
    base = adj.loc[: pd.Timestamp("2025-06-30")].iloc[-1]
    assert tr.returns[0].value == pytest.approx(adj.loc[:"2026-06-30"].iloc[-1] / base - 1, abs=1e-12)
    gap = tr.returns[0].value - pr.returns[0].value
    assert 0.003 < gap < 0.03  # IWM distributes roughly 1-1.5 % a year
    rs = rot.relative_strength(panel, "IWM__deep-raj17", "IWM", "2026-06-30", turning_points=False)
    assert any("mixed price basis" in w for w in rs.warnings)


# -- properties on generated bar tables (tests/strategies.py) -------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.strategies import bar_frames  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(frame=bar_frames(min_rows=2, max_rows=60, with_adj_close=False), cut=st.floats(0.0, 1.0))
def test_period_returns_property_pandas_and_as_of(frame: object, cut: float) -> None:
    import polars as pl

    assert isinstance(frame, pl.DataFrame)
    dates = frame["date"].to_numpy().astype("datetime64[D]")
    close = frame["close"].to_numpy()
    day = dates[int(cut * (len(dates) - 1))] + np.timedelta64(int(cut * 3), "D")
    specs = rot.default_periods(months=(1, 2), since=[str(dates[len(dates) // 2])], low_window=5)
    full = rot.period_returns(dates, close, day, specs)
    upto = dates <= day
    trunc = rot.period_returns(dates[upto], close[upto], day, specs)
    assert [r.to_dict() for r in full] == [r.to_dict() for r in trunc]  # no look-ahead
    s = pd.Series(close, index=pd.DatetimeIndex(dates))
    ts = pd.Timestamp(day)
    exp = [
        _pandas_return(s, ts, pd.Timestamp(ts.year - 1, 12, 31)),
        _pandas_return(s, ts, ts - pd.DateOffset(months=1)),
        _pandas_return(s, ts, ts - pd.DateOffset(months=2)),
        _pandas_return(s, ts, pd.Timestamp(dates[len(dates) // 2])),
    ]
    window = s.loc[:ts].iloc[-5:]
    exp.append(float(window.iloc[-1] / window.min() - 1))
    for got, want in zip(full, exp, strict=True):
        assert got.value == pytest.approx(want, rel=1e-12, nan_ok=True)
