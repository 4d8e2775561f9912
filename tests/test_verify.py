"""capscope verify: each claim kind on constructed series with hand-computed answers, and the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from capscope import claims as C
from capscope.claims import check as V
from capscope.data.panel import Panel
from capscope.errors import UsageError

REPO = Path(__file__).resolve().parents[1]


def make_panel(series: dict[str, np.ndarray], start: str = "2025-01-02") -> Panel:
    """Panel of close-only-like bars (open=high=low=close) on business days."""
    n = len(next(iter(series.values())))
    dates = np.busday_offset(start, np.arange(n), roll="forward").astype("datetime64[D]")
    close = np.column_stack([np.asarray(v, dtype=float) for v in series.values()])
    fields = {k: np.ascontiguousarray(close.copy()) for k in ("open", "high", "low", "close")}
    fields["high"] = np.ascontiguousarray(close * 1.001)
    fields["low"] = np.ascontiguousarray(close * 0.999)
    fields["adj_close"] = np.full_like(close, np.nan)
    fields["volume"] = np.full_like(close, np.nan)
    return Panel(dates, tuple(series), fields)


def check(panel: Panel, claim: dict[str, Any], as_of: str | None = None) -> V.Verdict:
    claim = {"id": "c", **claim}
    return V.verify_claims(panel, C.parse_claims([claim]), as_of)[0]


def day(panel: Panel, i: int) -> str:
    return str(panel.dates[i])


# -- level breakout ------------------------------------------------------------------------------------------
def test_level_breakout() -> None:
    close = np.r_[np.full(30, 95.0), 97.0, 99.0, 100.0, 103.0, np.full(20, 104.0)]
    p = make_panel({"X": close})
    base = {"kind": "level_breakout", "symbol": "X", "direction": "above"}
    v = check(p, {**base, "level": 100, "start": day(p, 0), "end": day(p, 53)})
    assert v.verdict == V.SUPPORTED
    assert v.measured["level_cross"] == {"date": day(p, 33), "close": 103.0, "previous_close": 100.0}
    v = check(p, {**base, "level": 120, "start": day(p, 0), "end": day(p, 53)})
    assert v.verdict == V.CONTRADICTED
    assert v.measured["window_close_range"] == [95.0, 104.0]
    # window ending before the cross
    v = check(p, {**base, "level": 100, "start": day(p, 0), "end": day(p, 32)})
    assert v.verdict == V.CONTRADICTED
    # as_of before the window: not determinable
    v = check(p, {**base, "level": 100, "start": day(p, 40), "end": day(p, 53)}, as_of=day(p, 35))
    assert v.verdict == V.NOT_DETERMINABLE


def test_breakdown_below() -> None:
    close = np.r_[np.full(10, 105.0), 101.0, 99.0, np.full(5, 98.0)]
    p = make_panel({"X": close})
    v = check(
        p,
        {
            "kind": "level_breakout",
            "symbol": "X",
            "level": 100,
            "direction": "below",
            "start": day(p, 0),
            "end": day(p, 16),
        },
    )
    assert v.verdict == V.SUPPORTED and v.measured["level_cross"]["date"] == day(p, 11)


# -- moving-average crosses (reference: SMAs by np.convolve) --------------------------------------------------
def _sma(x: np.ndarray, w: int) -> np.ndarray:
    out = np.full(len(x), np.nan)
    out[w - 1 :] = np.convolve(x, np.ones(w) / w, mode="valid")
    return out


def test_golden_and_death_cross() -> None:
    close = np.r_[np.linspace(120, 100, 40), np.linspace(100, 130, 40), np.linspace(130, 110, 40)]
    p = make_panel({"X": close})
    fast, slow = _sma(close, 5), _sma(close, 20)
    diff = np.sign(fast - slow)
    up = [t for t in range(1, len(close)) if diff[t - 1] < 0 < diff[t]]
    down = [t for t in range(1, len(close)) if diff[t - 1] > 0 > diff[t]]
    assert len(up) == 1 and len(down) == 1
    claim = {"kind": "ma_cross", "symbol": "X", "ma": "sma", "fast": 5, "slow": 20}
    v = check(p, {**claim, "cross": "golden", "start": day(p, 0), "end": day(p, 119)})
    assert v.verdict == V.SUPPORTED and v.measured["events_in_window"] == [day(p, up[0])]
    v = check(p, {**claim, "cross": "golden", "start": day(p, up[0] + 1), "end": day(p, 119)})
    assert v.verdict == V.CONTRADICTED and v.measured["last_before_window"] == day(p, up[0])
    v = check(p, {**claim, "cross": "death", "start": day(p, 0), "end": day(p, 119)})
    assert v.verdict == V.SUPPORTED and v.measured["events_in_window"] == [day(p, down[0])]


def test_price_cross_above_ma() -> None:
    close = np.r_[np.linspace(120, 100, 30), np.linspace(100, 125, 20)]
    p = make_panel({"X": close})
    ma = _sma(close, 10)
    above = [
        t
        for t in range(1, len(close))
        if close[t - 1] <= ma[t - 1] and close[t] > ma[t] and np.isfinite(ma[t - 1])
    ]
    v = check(
        p,
        {
            "kind": "ma_cross",
            "symbol": "X",
            "cross": "price_above",
            "window": 10,
            "start": day(p, 0),
            "end": day(p, 49),
        },
    )
    assert v.verdict == V.SUPPORTED and v.measured["events_in_window"] == [day(p, t) for t in above]


def test_bad_cross_kind() -> None:
    p = make_panel({"X": np.linspace(1, 2, 50)})
    with pytest.raises(
        UsageError,
        match=r"key 'cross': unknown value 'sideways'; valid: golden, death, price_above, price_below",
    ):
        check(
            p, {"kind": "ma_cross", "symbol": "X", "cross": "sideways", "start": day(p, 0), "end": day(p, 49)}
        )


# -- MACD crossovers (reference: TA-Lib) -------------------------------------------------------------------------
def test_macd_cross_zero_qualification() -> None:
    import talib

    rng = np.random.default_rng(11)
    close = 100 * np.exp(np.cumsum(rng.normal(0.0005, 0.015, 400)))
    p = make_panel({"X": close})
    macd, signal, _ = talib.MACD(close, 12, 26, 9)
    d = macd - signal
    bull = [t for t in range(1, len(close)) if np.isfinite(d[t - 1]) and d[t - 1] <= 0 < d[t]]
    above = [t for t in bull if macd[t] > 0]
    below = [t for t in bull if macd[t] < 0]
    assert above and below  # the random walk has both kinds
    claim = {
        "kind": "macd_cross",
        "symbol": "X",
        "direction": "bullish",
        "start": day(p, 0),
        "end": day(p, 399),
    }
    v = check(p, {**claim, "zero": "above"})
    assert v.verdict == V.SUPPORTED
    got = [c["date"] for c in v.measured["crosses_in_window"] if c["above_zero"]]
    assert got == [day(p, t) for t in above]
    assert [c["date"] for c in v.measured["crosses_in_window"]] == [day(p, t) for t in bull]
    # a window holding only below-zero bullish crosses contradicts "above zero"
    t = below[0]
    v = check(p, {**claim, "zero": "above", "start": day(p, t), "end": day(p, t)})
    assert v.verdict == V.CONTRADICTED
    v = check(p, {**claim, "zero": "below", "start": day(p, t), "end": day(p, t)})
    assert v.verdict == V.SUPPORTED


# -- outperformance and lagging ---------------------------------------------------------------------------------
def _pair() -> Panel:
    a = np.r_[100.0, np.linspace(100, 130, 20)]  # +30% over the window
    b = np.r_[100.0, np.linspace(100, 115, 20)]  # +15%
    return make_panel({"A": a, "B": b})


def test_outperformance_ratio_and_difference() -> None:
    p = _pair()
    base = {"kind": "outperformance", "symbol": "A", "versus": "B", "start": day(p, 0), "end": day(p, 20)}
    v = check(p, {**base, "approx_ratio": 2.0, "tolerance": 0.1})
    assert v.verdict == V.SUPPORTED
    assert v.measured["return_ratio"] == 2.0 and v.measured["difference_pp"] == 15.0
    assert v.measured["A_return_percent"] == 30.0
    assert check(p, {**base, "ratio_at_least": 2.5}).verdict == V.CONTRADICTED
    assert check(p, {**base, "difference_at_least": 10}).verdict == V.SUPPORTED
    assert check(p, {**base, "difference_at_most": 10}).verdict == V.CONTRADICTED
    # a negative return makes the ratio undefined
    q = make_panel({"A": np.linspace(100, 110, 10), "B": np.linspace(100, 90, 10)})
    v = check(q, {**base, "start": day(q, 0), "end": day(q, 9), "approx_ratio": 2.0})
    assert v.verdict == V.NOT_DETERMINABLE


def test_lagging_share_of_sessions() -> None:
    # A trails B on sessions 1..6 then leads on 7..10 -> 6 of 10 sessions behind
    a = np.array([100, 100, 100, 100, 100, 100, 100, 120, 120, 120, 120], dtype=float)
    b = np.array([100, 101, 101, 101, 101, 101, 101, 101, 101, 101, 101], dtype=float)
    p = make_panel({"A": a, "B": b})
    base = {"kind": "lagging", "symbol": "A", "versus": "B", "start": day(p, 0), "end": day(p, 10)}
    v = check(p, {**base, "share_at_least": 0.5})
    assert v.verdict == V.SUPPORTED
    assert (v.measured["sessions_behind"], v.measured["sessions"]) == (6, 10)
    assert check(p, {**base, "share_at_least": 0.7}).verdict == V.CONTRADICTED


def test_missing_symbol_is_not_determinable() -> None:
    p = _pair()
    v = check(p, {"kind": "lagging", "symbol": "A", "versus": "ZZZ", "start": day(p, 0), "end": day(p, 5)})
    assert v.verdict == V.NOT_DETERMINABLE and "ZZZ" in v.reason


# -- pattern claims (the detector is H4a's; the claim logic is tested on given records) -----------------------
def test_pattern_claim(monkeypatch: pytest.MonkeyPatch) -> None:
    p = make_panel({"X": np.linspace(100, 120, 60)})
    rec = {
        "kind": "inverse_head_and_shoulders",
        "status": "confirmed",
        "date": day(p, 50),
        "points": [
            {"role": "prior_trend", "date": day(p, 1), "price": 110.0},
            {"role": "left_shoulder", "date": day(p, 10), "price": 100.0},
            {"role": "head", "date": day(p, 20), "price": 95.0},
            {"role": "right_shoulder", "date": day(p, 30), "price": 100.0},
        ],
        "neckline": {"date0": day(p, 15), "price0": 108.0, "date1": day(p, 25), "price1": 110.0},
        "breakout": {"date": day(p, 40), "price": 111.0},
        "target": 125.0,
        "extra": {"neckline_at_breakout": 110.5, "direction": "up"},
    }
    monkeypatch.setattr(V._Checker, "_patterns", lambda self, s, end: [rec])
    base = {
        "kind": "pattern",
        "symbol": "X",
        "pattern": "inverse_head_and_shoulders",
        "start": day(p, 5),
        "end": day(p, 59),
    }
    assert (
        check(p, {**base, "status": ["confirmed"], "neckline_near": 110, "tolerance": 0.01}).verdict
        == V.SUPPORTED
    )
    assert check(p, {**base, "neckline_near": 120, "tolerance": 0.01}).verdict == V.CONTRADICTED
    assert check(p, {**base, "status": "failed"}).verdict == V.CONTRADICTED
    # the window must hold every point (the prior-trend pivot excepted)
    assert check(p, {**base, "start": day(p, 15)}).verdict == V.CONTRADICTED
    assert check(p, {**base, "pattern": "double_bottom"}).verdict == V.CONTRADICTED
    # a breakout claim near the neckline is supported through the pattern too
    lb = {
        "kind": "level_breakout",
        "symbol": "X",
        "level": 110.4,
        "tolerance": 0.01,
        "start": day(p, 35),
        "end": day(p, 45),
    }
    v = check(p, lb)
    assert v.verdict == V.SUPPORTED and v.measured["pattern_breakouts"][0]["neckline"] == 110.5


# -- claims files ------------------------------------------------------------------------------------------------
def test_load_claims_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "claims:\n  - kind: astrology\n    symbol: X\n    start: 2025-01-01\n    end: 2025-02-01\n"
    )
    with pytest.raises(UsageError, match="astrology"):
        C.load_claims(bad)
    bad.write_text("claims:\n  - kind: lagging\n    symbol: X\n")
    with pytest.raises(UsageError, match="missing required key 'start'"):
        C.load_claims(bad)
    bad.write_text("just text")
    with pytest.raises(UsageError, match="claims"):
        C.load_claims(bad)
    with pytest.raises(UsageError, match="no such"):
        C.load_claims(tmp_path / "absent.yaml")


def test_example_claims_file_is_valid() -> None:
    claims, as_of = C.load_claims(REPO / "examples" / "small-cap-rally-2025.yaml")
    assert as_of == "2025-12-31"
    assert {c.kind for c in claims} == set(C.KINDS)  # every kind is exercised
    assert C.claim_symbols(claims) == ["RUT", "IWO", "IWN", "GSPC"]


def _write_csv(folder: Path, symbol: str, dates: np.ndarray, close: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["date,open,high,low,close,adj_close,volume"]
    lines += [f"{d},{c},{c * 1.001},{c * 0.999},{c},,1000" for d, c in zip(dates, close, strict=True)]
    (folder / f"{symbol}.csv").write_text("\n".join(lines) + "\n")


def test_cli_strict_exit_code(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from capscope.cli.app import app

    p = _pair()
    for sym in p.symbols:
        _write_csv(tmp_path / "data" / "prices", sym, p.dates, p.series(sym))
    claims = tmp_path / "claims.yaml"
    claims.write_text(
        f"claims:\n  - id: a-beats-b\n    kind: outperformance\n    symbol: A\n    versus: B\n"
        f"    difference_at_least: 10\n    start: {day(p, 0)}\n    end: {day(p, 20)}\n"
    )
    runner = CliRunner()
    args = ["verify", str(claims), "--data", str(tmp_path / "data")]
    res = runner.invoke(app, [*args, "--strict"])
    assert res.exit_code == 0, res.output
    assert "supported" in res.output
    claims.write_text(claims.read_text().replace("difference_at_least: 10", "difference_at_least: 20"))
    assert runner.invoke(app, args).exit_code == 0
    res = runner.invoke(app, [*args, "--strict", "--json"])
    assert res.exit_code == 1
    assert '"verdict": "contradicted"' in res.output


@pytest.mark.sample
def test_example_claims_against_independent_computations(sample_dir: Path) -> None:
    """Run the shipped story claims on the sample data and recompute what each verdict rests on independently
    (TA-Lib for the averages and MACD, plain NumPy for returns and crossings)."""
    import talib

    from capscope.report.loading import load_from_files

    claims, as_of = C.load_claims(REPO / "examples" / "small-cap-rally-2025.yaml")
    panel = load_from_files(sample_dir, C.claim_symbols(claims), as_of, universe=False).prices
    verdicts = {v.id: v for v in V.verify_claims(panel, claims, as_of)}
    assert set(verdicts) == {c.id for c in claims}
    claim = {c.id: c.model_dump() for c in claims}

    def closes(symbol: str) -> tuple[np.ndarray, np.ndarray]:
        col = panel.close[:, panel.column(symbol)]
        keep = np.isfinite(col)
        return panel.dates[keep], col[keep]

    def window(c: dict[str, Any], dates: np.ndarray) -> np.ndarray:
        return (dates >= np.datetime64(str(c["start"]))) & (dates <= np.datetime64(str(c["end"])))

    dates, close = closes("RUT")
    # golden cross: TA-Lib SMAs
    c = claim["rut-golden-cross"]
    f, s = talib.SMA(close, c["fast"]), talib.SMA(close, c["slow"])
    up = np.flatnonzero((f[:-1] <= s[:-1]) & (f[1:] > s[1:])) + 1
    expected = [str(dates[t]) for t in up if window(c, dates)[t]]
    v = verdicts["rut-golden-cross"]
    assert v.measured["events_in_window"] == expected
    assert v.verdict == (V.SUPPORTED if expected else V.CONTRADICTED)
    # MACD bullish crossovers above zero: TA-Lib MACD
    c = claim["rut-macd-bullish-above-zero"]
    macd, sig, _ = talib.MACD(close, 12, 26, 9)
    d = macd - sig
    bull = np.flatnonzero((d[:-1] <= 0) & (d[1:] > 0)) + 1
    expected = [str(dates[t]) for t in bull if window(c, dates)[t] and macd[t] > 0]
    v = verdicts["rut-macd-bullish-above-zero"]
    assert [x["date"] for x in v.measured["crosses_in_window"] if x["above_zero"]] == expected
    assert v.verdict == (V.SUPPORTED if expected else V.CONTRADICTED)
    # the level: first close crossing above it in the window
    c = claim["rut-neckline-breakout"]
    lvl = float(c["level"])
    cross = np.flatnonzero((close[:-1] <= lvl) & (close[1:] > lvl)) + 1
    first = [t for t in cross if window(c, dates)[t]]
    v = verdicts["rut-neckline-breakout"]
    assert first, "the sample RUT closes cross the claimed level inside the claim's window"
    assert v.measured["level_cross"]["date"] == str(dates[first[0]])
    assert v.verdict == V.SUPPORTED
    # growth vs value: plain returns over the common dates
    c = claim["growth-twice-value"]
    (dg, g), (dv, val) = closes("IWO"), closes("IWN")
    common = np.intersect1d(dg, dv)
    common = common[common <= np.datetime64(str(c["end"]))]
    base = common[common <= np.datetime64(str(c["start"]))][-1]
    end = common[-1]
    rg = g[dg == end][0] / g[dg == base][0] - 1
    rv = val[dv == end][0] / val[dv == base][0] - 1
    v = verdicts["growth-twice-value"]
    assert v.measured["return_ratio"] == pytest.approx(rg / rv, abs=1e-4)
    ok = abs((rg / rv) / c["approx_ratio"] - 1) <= c["tolerance"]
    assert v.verdict == (V.SUPPORTED if ok else V.CONTRADICTED)
    # small caps lagging: share of sessions with RUT's return since the base below GSPC's
    c = claim["small-lagging-large"]
    db, bench = closes("GSPC")
    common = np.intersect1d(dates, db)
    common = common[common <= np.datetime64(str(c["end"]))]
    b0 = common[common <= np.datetime64(str(c["start"]))][-1]
    after = common[common > b0]
    ra = close[np.isin(dates, after)] / close[dates == b0][0]
    rb = bench[np.isin(db, after)] / bench[db == b0][0]
    share = float(np.mean(ra < rb))
    v = verdicts["small-lagging-large"]
    assert v.measured["share_behind"] == pytest.approx(share, abs=1e-4)
    assert v.verdict == (V.SUPPORTED if share >= c["share_at_least"] else V.CONTRADICTED)
