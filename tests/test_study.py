"""capscope.analytics.study: numbers by hand, filters, no look-ahead, blocks, reproducibility, real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from capscope.analytics.outcomes import breakout_outcome, summarize_outcomes
from capscope.analytics.study import StudyParams, combine, parse_signals, study_block, study_panel
from capscope.data.panel import Panel
from capscope.errors import UsageError
from capscope.events.records import make_events


def _panel(close: np.ndarray, start: str = "2020-01-01", open_: np.ndarray | None = None) -> Panel:
    close = np.ascontiguousarray(close, dtype=np.float64)
    if close.ndim == 1:
        close = close[:, None]
    n, m = close.shape
    dates = np.arange(np.datetime64(start), np.datetime64(start) + n)
    fields = {"close": close, "high": close * 1.01, "low": close * 0.99}
    fields["open"] = np.ascontiguousarray(close if open_ is None else open_.reshape(close.shape))
    return Panel(dates, tuple(f"S{j}" for j in range(m)), fields)


def _events(panel: Panel, kind: str, rows: list[int], cols: list[int], **fields: object) -> pd.DataFrame:
    r, c = np.asarray(rows), np.asarray(cols)
    cols_ = {"price": panel.close[r, c], **fields}
    return make_events(
        kind,
        cols_,
        symbol=np.asarray(panel.symbols, dtype=object)[c],
        date=panel.dates[r],
        symbols=panel.symbols,
    )


def test_numbers_by_hand() -> None:
    close = np.array([100, 110, 121, 110, 99, 108.9, 119.79, 119.79, 131.769, 120.0])
    panel = _panel(close)
    ev = _events(panel, "golden_cross", [0, 1, 4, 8], [0, 0, 0, 0], ma="sma", fast=50, slow=200)
    res = study_panel(panel, ["golden_cross"], StudyParams(horizons=(2,), draws=199), events=ev)
    cell = res.cell("golden_cross", 2)
    fwd = close[2:] / close[:-2] - 1  # every bar's 2-bar forward return
    events = [fwd[0], fwd[1], fwd[4]]  # the event on bar 8 has no bar 2 ahead: dropped
    assert cell.n_events == 3 and cell.n_dates == 3
    assert cell.n_independent == 2  # bars 0 and 4 (bar 1 overlaps bar 0's window)
    assert cell.mean == pytest.approx(np.mean(events))
    assert cell.median == pytest.approx(np.median(events))
    assert cell.hit_rate == pytest.approx(np.mean(np.array(events) > 0))
    assert cell.baseline_mean == pytest.approx(fwd.mean())
    assert cell.excess == pytest.approx(np.mean(events) - fwd.mean())
    assert res.to_dict()["results"][0]["horizon"] == 2


def test_next_open_entry() -> None:
    close = np.array([10.0, 11, 12, 13, 14, 15])
    open_ = np.array([9.5, 10.5, 11.5, 12.5, 13.5, 14.5])
    panel = _panel(close, open_=open_)
    ev = _events(panel, "golden_cross", [1], [0])
    res = study_panel(
        panel, ["golden_cross"], StudyParams(horizons=(3,), draws=199, entry="next_open"), events=ev
    )
    assert res.cell("golden_cross", 3).mean == pytest.approx(14 / 11.5 - 1)


def test_filters_select_event_fields() -> None:
    rng = np.random.default_rng(0)
    close = 50 * np.exp(np.cumsum(rng.standard_normal((400, 2)) * 0.01, axis=0))
    panel = _panel(close)
    ev = pd.concat(
        [
            _events(panel, "macd_bullish_cross", [10, 50], [0, 1], above_zero=True),
            _events(panel, "macd_bullish_cross", [90, 130, 170], [0, 1, 0], above_zero=False),
        ],
        ignore_index=True,
    )
    res = study_panel(
        panel,
        ["macd_bullish_cross", "macd_bullish_cross:above_zero=true", "macd_bullish_cross:above_zero=false"],
        StudyParams(horizons=(5,), draws=199, ks=False),
        events=ev,
    )
    assert [r.n_events for r in res.results] == [5, 2, 3]
    assert [r.filter for r in res.results] == ["", "above_zero=true", "above_zero=false"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("golden_crosss", "did you mean golden_cross"),
        ("golden_cross:mma=sma", "fields of golden_cross: ma, fast, slow"),
        ("golden_cross:ma=smaa", "values: ema, sma"),
        ("macd_bullish_cross:above_zero=yes", "true or false"),
        ("golden_cross:fast=fifty", "whole number"),
        ("golden_cross:ma>sma", "use = or !="),
        ("golden_cross:ma", "FIELD=VALUE"),
        ("double_bottom:direction=sideways", "values: down, up"),
        ("double_bottom:quality>=abc", "is a number"),
    ],
)
def test_filter_errors_list_the_valid_choices(spec: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_signals([spec])


def test_groups_and_all_expand() -> None:
    assert [s.label for s in parse_signals(["ma_cross:ma=ema"])] == [
        "golden_cross:ma=ema",
        "death_cross:ma=ema",
    ]
    assert len(parse_signals(["all"])) == 17
    assert parse_signals(["double_bottom:quality>=0.7"])[0].source == "pattern"


def _random_panel(seed: int, n: int = 700, m: int = 12) -> Panel:
    rng = np.random.default_rng(seed)
    close = 30 * np.exp(np.cumsum(rng.standard_normal((n, m)) * 0.02, axis=0))
    close[:120, 3] = np.nan  # a later listing
    return _panel(close, start="2018-01-01")


def test_no_look_ahead_as_of_equals_cut_data() -> None:
    panel = _random_panel(1)
    day = panel.dates[520]
    params = StudyParams(horizons=(5, 21), draws=199, baseline="regime")
    signals = ["golden_cross", "macd_bullish_cross:above_zero=true", "rsi_oversold", "double_bottom"]
    full = study_panel(panel, signals, params, as_of=day).to_dict()
    cut = study_panel(panel.truncate(day), signals, params).to_dict()
    assert full == cut
    assert full["as_of"] == str(day)
    later = study_panel(panel, signals, params).to_dict()
    assert later["results"] != full["results"]  # the data after the as-of date does change the study


def test_blocks_combine_to_the_whole_panel() -> None:
    panel = _random_panel(2)
    signals = parse_signals(["golden_cross", "macd_bearish_cross", "double_top"])
    params = StudyParams(horizons=(5, 21), draws=199)
    whole = combine([study_block(panel, signals, params)])
    parts = [study_block(panel.select(list(panel.symbols[i : i + 5])), signals, params) for i in (0, 5, 10)]
    split = combine(parts)
    for a, b in zip(whole.results, split.results, strict=True):
        assert (a.n_events, a.n_dates, a.n_independent, a.n_baseline) == (
            b.n_events,
            b.n_dates,
            b.n_independent,
            b.n_baseline,
        )
        for f in ("mean", "baseline_mean", "excess", "ci_low", "ci_high", "ks_stat"):
            assert getattr(a, f) == pytest.approx(getattr(b, f), rel=1e-9, abs=1e-12), f
    assert whole.outcomes == split.outcomes


def test_runs_repeat_exactly_and_the_seed_matters() -> None:
    panel = _random_panel(3)
    a = study_panel(panel, ["golden_cross"], StudyParams(horizons=(21,), draws=199, seed=5)).to_dict()
    b = study_panel(panel, ["golden_cross"], StudyParams(horizons=(21,), draws=199, seed=5)).to_dict()
    c = study_panel(panel, ["golden_cross"], StudyParams(horizons=(21,), draws=199, seed=6)).to_dict()
    assert a == b
    assert a["results"][0]["ci_low"] != c["results"][0]["ci_low"]
    assert a["params"]["seed"] == 5 and a["params"]["draws"] == 199 and a["params"]["inference"] == "placebo"
    boot = StudyParams(horizons=(21,), draws=199, seed=5, inference="bootstrap")
    x = study_panel(panel, ["golden_cross"], boot).to_dict()
    assert x == study_panel(panel, ["golden_cross"], boot).to_dict()
    assert x["params"]["block_length"]["21"] >= 63  # at least 3 x the horizon
    assert x["results"][0]["ci_low"] != a["results"][0]["ci_low"]


def test_json_has_the_issue_layout() -> None:
    panel = _random_panel(4)
    d = study_panel(panel, ["golden_cross", "double_bottom"], StudyParams(horizons=(5,), draws=199)).to_dict()
    assert {"as_of", "params", "results", "outcomes", "run_tests"} <= set(d)
    need = {
        "kind", "filter", "horizon", "n_events", "n_dates", "n_independent", "mean", "median", "hit_rate",
        "baseline_mean", "excess", "ci_low", "ci_high", "p_value", "q_value", "ks_stat", "ks_p",
    }  # fmt: skip
    assert all(need <= set(r) for r in d["results"])
    for key in ("bootstrap", "block_length", "draws", "seed"):
        assert key in d["params"]
    assert {"spa", "stepm"} <= set(d["run_tests"])


def test_regime_baseline_uses_bars_where_the_signal_can_fire() -> None:
    from capscope.indicators import api as ind

    panel = _random_panel(5, n=900, m=6)
    params = StudyParams(horizons=(10,), draws=199, baseline="regime", ks=False)
    res = study_panel(panel, ["golden_cross:ma=sma"], params)
    cell = res.cell("golden_cross:ma=sma", 10)
    assert cell.n_events > 0
    close = panel.close
    regime = np.asarray(ind.sma(close, 50)) < np.asarray(ind.sma(close, 200))
    fwd = np.full(close.shape, np.nan)
    fwd[:-10] = close[10:] / close[:-10] - 1
    fwd[:, 3][np.isfinite(close[:, 3])] = _own_bars_fwd(close[:, 3], 10)
    syms = sorted({panel.symbols.index(s) for s in _event_symbols(panel)})
    vals = fwd[:, syms][regime[:, syms] & np.isfinite(fwd[:, syms])]
    assert cell.n_baseline == vals.size
    assert cell.baseline_mean == pytest.approx(vals.mean())


def _own_bars_fwd(x: np.ndarray, h: int) -> np.ndarray:
    v = x[np.isfinite(x)]
    out = np.full(v.size, np.nan)
    out[:-h] = v[h:] / v[:-h] - 1
    return out


def _event_symbols(panel: Panel) -> list[str]:
    from capscope.events import scan_panel

    ev = scan_panel(panel, kinds=["golden_cross"])
    return sorted(set(ev.loc[ev["ma"] == "sma", "symbol"].astype(str)))


# -- Bulkowski outcomes on hand-made paths --------------------------------------------------------------------
def _outcome(close: list[float], **kw: object):  # type: ignore[no-untyped-def]
    c = np.asarray(close, dtype=float)
    dates = np.arange(np.datetime64("2021-01-01"), np.datetime64("2021-01-01") + len(c))
    args = {"symbol": "X", "kind": "inverse_head_and_shoulders", "direction": 1, "breakout_row": 0,
            "knowable_row": 0, "breakout_price": 100.0, "target": 120.0, "bottom": 90.0, "horizon": 3}  # fmt: skip
    args.update(kw)
    return breakout_outcome(c, c, c, dates, **args)  # type: ignore[arg-type]


def test_outcome_rise_target_and_trend_end() -> None:
    # up 30 %, then a 20 % drop from the high ends the trend
    o = _outcome([101, 105, 115, 125, 130, 120, 104, 103])
    assert o.resolved and o.move == pytest.approx(0.30)
    assert o.failure is False and o.busted is False
    assert o.target_reached is True and o.bars_to_target == 3
    assert o.mfe == pytest.approx(125 / 101 - 1) and o.mae == pytest.approx(105 / 101 - 1)
    assert o.throwback is None  # fewer than 30 bars after the breakout and no return yet


def test_outcome_failure_busted_and_throwback() -> None:
    # rises 3 %, falls back to the breakout price (throwback) and closes below the pattern's bottom: busted
    o = _outcome([101, 103, 100, 95, 89, 88])
    assert o.resolved and o.move == pytest.approx(0.03)
    assert o.failure is True and o.busted is True and o.throwback is True
    assert o.target_reached is False
    path = [101.0] + [104.0] * 30  # never returns, never resolves
    o2 = _outcome(path, target=None, bottom=None)
    assert o2.throwback is False and o2.failure is None and o2.resolved is False and o2.target_reached is None
    s = summarize_outcomes([o, o2])
    assert s["n_breakouts"] == 2 and s["failure_rate"] == 1.0 and s["n_failure"] == 1


def test_outcome_downward_breakout_is_mirrored() -> None:
    o = _outcome([99, 90, 80, 70, 85, 90], direction=-1, breakout_price=100.0, target=80.0, bottom=110.0)
    assert o.move == pytest.approx(0.30) and o.resolved  # 70 -> 85 is a 21 % rise: the downtrend ended
    assert o.target_reached is True and o.failure is False


# -- real data: the study against a plain pandas computation --------------------------------------------------
@pytest.mark.sample
def test_cross_check_with_pandas_on_real_data(prices_panel: Panel) -> None:
    from capscope.events import scan_panel

    panel = prices_panel.select(["RUT", "IWM", "GSPC"]).truncate("2025-12-31")
    events = scan_panel(panel, kinds=["golden_cross", "macd_bullish_cross"])
    params = StudyParams(horizons=(5, 21, 63), draws=199, since=np.datetime64("2000-01-01"))
    res = study_panel(
        panel, ["golden_cross:ma=sma", "macd_bullish_cross:above_zero=true"], params, events=events
    )
    frames = {s: panel.frame("close")[s].dropna() for s in panel.symbols}
    for sig, mask in (
        ("golden_cross:ma=sma", (events["kind"] == "golden_cross") & (events["ma"] == "sma")),
        (
            "macd_bullish_cross:above_zero=true",
            (events["kind"] == "macd_bullish_cross") & events["above_zero"].fillna(False),
        ),
    ):
        ev = events[mask & (events["date"] >= "2000-01-01")]
        for h in params.horizons:
            rets, base = [], []
            for s in sorted(set(ev["symbol"].astype(str))):
                c = frames[s]
                fwd = (c.shift(-h) / c - 1).loc["2000-01-01":].dropna()
                base.append(fwd)
                got = fwd.reindex(pd.DatetimeIndex(ev.loc[ev["symbol"] == s, "date"])).dropna()
                rets.append(got)
            r = pd.concat(rets)
            b = pd.concat(base)
            cell = res.cell(sig, h)
            assert cell.n_events == len(r)
            assert cell.n_dates == r.index.nunique()
            assert cell.mean == pytest.approx(r.mean(), rel=1e-12)
            assert cell.hit_rate == pytest.approx((r > 0).mean(), rel=1e-12)
            assert cell.baseline_mean == pytest.approx(b.mean(), rel=1e-12)
            assert cell.n_baseline == len(b)
