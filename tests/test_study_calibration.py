"""Calibration of the study's intervals on random walks, a planted effect, and a naive i.i.d. negative control.

Simulated universe (each simulation): 500 symbols x 300 bars, log
returns = a market factor shared by every symbol (1 %/day) + idiosyncratic noise (2 %/day), centred so that
prices are martingales (no effect by construction: the expected forward return after any marker equals that of
any bar). Two marker kinds per simulation, independent of prices:

* ``clustered``: on 2 % of dates a quarter of the symbols fire together (signals that cluster in market-wide
  moves, the case that breaks i.i.d. statistics), plus a sparse background;
* ``sparse``: each symbol fires on 0.4 % of its bars, independently.

Horizons 5, 21 and 63 bars overlap heavily (the 63-bar windows of one symbol's events overlap). The planted-effect
test multiplies prices by ``1 + delta`` on the bar after every marker; the exact expected excess is then
``(1 + delta)(1 + delta p)^(h-1) - (1 + delta p)^h`` for a marker rate ``p`` (the event's own jump, plus other
markers inside its window, minus the same for an average bar).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from capscope.analytics.study import StudyParams, combine, parse_signals, study_block
from capscope.data.panel import Panel
from capscope.events.records import make_events

N_SYMBOLS = 500
N_BARS = 300
HORIZONS = (5, 21, 63)
SIGNALS = parse_signals(["golden_cross", "death_cross"])  # stand-ins: "clustered" and "sparse" marker kinds


def _simulate(seed: int, delta: float = 0.0) -> tuple[Panel, pd.DataFrame, dict[str, float]]:
    rng = np.random.default_rng(seed)
    n, m = N_BARS, N_SYMBOLS
    cluster_days = rng.random(n) < 0.02
    clustered = (cluster_days[:, None] & (rng.random((n, m)) < 0.25)) | (rng.random((n, m)) < 0.001)
    sparse = rng.random((n, m)) < 0.004
    beta, sigma = 0.01, 0.02
    log_ret = beta * rng.standard_normal(n)[:, None] + sigma * rng.standard_normal((n, m))
    log_ret -= 0.5 * (beta**2 + sigma**2)
    markers = clustered | sparse
    jumps = np.zeros((n, m))
    jumps[1:] = markers[:-1] * np.log1p(delta)
    close = 50.0 * np.exp(np.cumsum(log_ret + jumps, axis=0))
    dates = np.arange(np.datetime64("2001-01-01"), np.datetime64("2001-01-01") + n)
    panel = Panel(dates, tuple(f"R{j:03d}" for j in range(m)), {"close": close, "open": close.copy()})
    frames = []
    for kind, mask in (("golden_cross", clustered), ("death_cross", sparse)):
        r, c = np.nonzero(mask)
        frames.append(
            make_events(
                kind,
                {"price": close[r, c]},
                symbol=np.asarray(panel.symbols, dtype=object)[c],
                date=dates[r],
                symbols=panel.symbols,
            )
        )
    return panel, pd.concat(frames, ignore_index=True), {"rate": float(markers.mean())}


def _true_excess(delta: float, rate: float, h: int) -> float:
    return (1 + delta) * (1 + delta * rate) ** (h - 1) - (1 + delta * rate) ** h


def _naive_interval(panel: Panel, events: pd.DataFrame, kind: str, h: int) -> tuple[float, float]:
    """The textbook mistake: every event and every bar an independent observation (normal interval)."""
    close = panel.close
    fwd = close[h:] / close[:-h] - 1
    ev = events[events["kind"] == kind]
    rows = np.searchsorted(panel.dates, ev["date"].to_numpy().astype("datetime64[D]"))
    cols = np.searchsorted(np.asarray(panel.symbols), ev["symbol"].astype(str).to_numpy())
    ok = rows < fwd.shape[0]
    r = fwd[rows[ok], cols[ok]]
    base = fwd.ravel()
    ex = r.mean() - base.mean()
    se = np.sqrt(r.var(ddof=1) / r.size + base.var(ddof=1) / base.size)
    return ex - 1.96 * se, ex + 1.96 * se


def _run(seed: int, delta: float = 0.0):  # type: ignore[no-untyped-def]
    panel, events, info = _simulate(seed, delta)
    params = StudyParams(horizons=HORIZONS, draws=199, seed=seed, ks=False)
    return panel, events, info, combine([study_block(panel, SIGNALS, params, events=events)])


def test_no_effect_intervals_cover_zero_and_q_values_stay_quiet() -> None:
    covered = {h: [] for h in HORIZONS}
    naive = []
    flagged = []
    for seed in range(120):
        panel, events, _, res = _run(seed)
        for r in res.results:
            assert r.n_events > 0
            covered[r.horizon].append(r.ci_low <= 0.0 <= r.ci_high)
            flagged.append(r.q_value < 0.05)
            lo, hi = _naive_interval(panel, events, r.kind, r.horizon)
            naive.append(lo <= 0.0 <= hi)
    pooled = np.mean([c for h in HORIZONS for c in covered[h]])
    by_h = {h: float(np.mean(covered[h])) for h in HORIZONS}
    assert 0.93 <= pooled <= 0.97, (pooled, by_h)
    assert all(v >= 0.88 for v in by_h.values()), by_h
    assert np.mean(flagged) <= 0.05
    # negative control: the i.i.d. interval on the same simulations is far from its nominal 95 %
    assert np.mean(naive) < 0.85, np.mean(naive)


def test_planted_effect_is_recovered_inside_its_interval() -> None:
    delta = 0.02
    inside = []
    seen = []
    for seed in range(100, 130):
        _, _, info, res = _run(seed, delta)
        for r in res.results:
            true = _true_excess(delta, info["rate"], r.horizon)
            inside.append(r.ci_low <= true <= r.ci_high)
        seen.append(res.cell("death_cross", 5).ci_low > 0)
    assert np.mean(inside) >= 0.90, np.mean(inside)
    # and the intervals are narrow enough to see it: the sparse markers' 5-bar excess is detected
    assert np.mean(seen) >= 0.8, np.mean(seen)


def test_naive_interval_is_what_we_think() -> None:
    """The negative control's arithmetic on a case small enough to check with scipy."""
    panel, events, _ = _simulate(7)
    lo, hi = _naive_interval(panel, events, "death_cross", 5)
    close = panel.close
    fwd = close[5:] / close[:-5] - 1
    ev = events[events["kind"] == "death_cross"]
    rows = np.searchsorted(panel.dates, ev["date"].to_numpy().astype("datetime64[D]"))
    cols = np.searchsorted(np.asarray(panel.symbols), ev["symbol"].astype(str).to_numpy())
    r = fwd[rows[rows < fwd.shape[0]], cols[rows < fwd.shape[0]]]
    t = stats.ttest_ind(r, fwd.ravel(), equal_var=False)
    mid = (lo + hi) / 2
    assert mid == pytest.approx(r.mean() - fwd.mean(), rel=1e-12)
    assert abs(mid / ((hi - lo) / (2 * 1.96)) - t.statistic) < 1e-9
