"""The bounded baseline sketch of the study's KS test against scipy's exact two-sample KS on raw values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from capscope.analytics.ks_sketch import (
    KS_BINS,
    KS_EXACT_MAX,
    BaselineSketch,
    ks_against_sketch,
    ks_bins,
)
from capscope.analytics.study import StudyFold, StudyParams, forward_returns, parse_signals, study_block
from capscope.data.panel import Panel
from capscope.events.scan import scan_panel


def _returns(rng: np.random.Generator, n: int, scale: float, zeros: float, shift: float = 0.0) -> np.ndarray:
    """Fat-tailed simple returns (Student t log returns) with a share of exact zeros (unchanged prices)."""
    r = np.expm1(shift + scale * rng.standard_t(3, n))
    r[rng.random(n) < zeros] = 0.0
    return r


@pytest.mark.parametrize(
    ("n_events", "n_base", "scale", "zeros", "shift"),
    [
        (5_000, 300_000, 0.05, 0.03, 0.004),  # 5-day-like returns, a small shift
        (40_000, 150_000, 0.12, 0.0, 0.0),  # 63-day-like returns, same distribution
        (300, 50_000, 0.02, 0.10, -0.01),  # few events, many unchanged prices
        (2_000, 20_000, 0.6, 0.0, 0.5),  # wide returns: under/overflow bins used
    ],
)
def test_statistic_within_its_bound_of_scipy(
    n_events: int, n_base: int, scale: float, zeros: float, shift: float
) -> None:
    rng = np.random.default_rng(n_events + n_base)
    base = _returns(rng, n_base, scale, zeros)
    events = _returns(rng, n_events, scale, zeros, shift)
    events[:20] = base[:20]  # ties between the samples
    # the baseline arrives in blocks, as from a market's symbol blocks
    cuts = np.sort(rng.choice(n_base, 7, replace=False))
    sketch = BaselineSketch.of(base[: cuts[0]])
    for a, b in zip(cuts, [*cuts[1:], n_base], strict=True):
        sketch = sketch.merge(BaselineSketch.of(base[a:b]))
    assert not sketch.exact and sketch.n == n_base
    d_hat, p_hat, bound = ks_against_sketch(events, sketch)
    exact = stats.ks_2samp(events, base)
    d = float(exact.statistic)
    assert abs(d_hat - d) <= bound + 1e-12
    # the bound is data-dependent but small: a 0.01 % log-return bin holds little of a continuous baseline
    assert bound < 0.01 * max(1.0, 0.05 / scale)
    # p-value: scipy's asymptotic distribution at D_hat, so it lies between its values at D -/+ bound
    en = round(n_events * n_base / (n_events + n_base))
    assert stats.kstwo.sf(d + bound, en) - 1e-12 <= p_hat <= stats.kstwo.sf(max(d - bound, 0.0), en) + 1e-12
    # scipy also uses the asymptotic distribution here (a sample above 10,000 values)
    assert stats.kstwo.sf(d, en) == pytest.approx(float(exact.pvalue), rel=1e-9, abs=1e-300)


def test_atom_at_zero_is_exact() -> None:
    """Unchanged prices (return exactly 0) are an atom: both ECDF limits at 0 are known, no error there."""
    rng = np.random.default_rng(3)
    base = _returns(rng, 60_000, 0.03, 0.4)
    events = np.concatenate([np.zeros(500), _returns(rng, 500, 0.03, 0.0)])
    d_hat, _, bound = ks_against_sketch(events, BaselineSketch.of(base))
    d = float(stats.ks_2samp(events, base).statistic)
    assert abs(d_hat - d) <= bound + 1e-12
    # the atom holds 40 % of the baseline; were it an ordinary bin, the bound would be that large
    assert bound < 0.01


def test_small_baselines_stay_exact_and_match_scipy() -> None:
    rng = np.random.default_rng(5)
    base = _returns(rng, KS_EXACT_MAX, 0.05, 0.02)
    events = _returns(rng, 700, 0.05, 0.02, 0.01)
    sketch = BaselineSketch.of(base[:4000]).merge(BaselineSketch.of(base[4000:]))
    assert sketch.exact
    d, p, bound = ks_against_sketch(events, sketch)
    ref = stats.ks_2samp(events, base)
    assert (d, p, bound) == (
        pytest.approx(float(ref.statistic), abs=1e-15),
        pytest.approx(float(ref.pvalue)),
        0.0,
    )
    assert not sketch.merge(BaselineSketch.of(base[:1])).exact  # one value more: counts


def test_merging_does_not_depend_on_blocks_or_order() -> None:
    rng = np.random.default_rng(7)
    base = _returns(rng, 120_000, 0.08, 0.05)
    whole = BaselineSketch.of(base)
    pieces = np.array_split(base, 13)
    forward = BaselineSketch.of(pieces[0])
    for piece in pieces[1:]:
        forward = forward.merge(BaselineSketch.of(piece))
    backward = BaselineSketch.of(pieces[-1])
    for piece in reversed(pieces[:-1]):
        backward = BaselineSketch.of(piece).merge(backward)
    for s in (forward, backward):
        assert s.n == whole.n
        np.testing.assert_array_equal(s.bins, whole.bins)
        np.testing.assert_array_equal(s.counts, whole.counts)
    assert whole.bins is not None and whole.bins.size <= KS_BINS  # bounded by the grid, not the data


def test_bins_are_monotone_with_atom_and_tails() -> None:
    x = np.sort(
        np.concatenate(
            [[-0.9999, -0.99, 0.0, 0.0, 1e-300, -1e-300, 60.0, 1e6], np.linspace(-0.9, 20, 50_001)]
        )
    )
    k = ks_bins(x)
    assert np.all(np.diff(k) >= 0)
    assert k[0] == 0 and k[-1] == KS_BINS - 1
    zero = ks_bins(np.zeros(1))[0]
    assert ks_bins(np.array([-1e-300]))[0] == zero - 1 and ks_bins(np.array([1e-300]))[0] == zero + 1


def _walks(seed: int, n: int, m: int) -> Panel:
    rng = np.random.default_rng(seed)
    close = 30 * np.exp(np.cumsum(rng.standard_normal((n, m)) * 0.02, axis=0))
    close[: n // 5, 2] = np.nan  # a later listing
    dates = np.arange(np.datetime64("2010-01-04"), np.datetime64("2010-01-04") + n)
    fields = {"close": close, "high": close * 1.01, "low": close * 0.99, "open": close.copy()}
    return Panel(dates, tuple(f"S{j:02d}" for j in range(m)), fields)


def test_study_ks_within_its_bound_of_scipy_on_the_study_returns() -> None:
    """The study's KS cell (a baseline far above 10,000 values, folded over blocks in any order) is within its
    reported ``ks_bound`` of ``scipy.stats.ks_2samp`` on the raw event and baseline returns."""
    panel = _walks(11, 1500, 24)
    signals = parse_signals(["rsi_oversold", "macd_bullish_cross"])
    params = StudyParams(horizons=(5, 21), draws=199)
    blocks = [
        study_block(panel.select(list(panel.symbols[i : i + 5])), signals, params) for i in range(0, 24, 5)
    ]
    forward, backward = StudyFold(), StudyFold()
    for part in blocks:
        forward.add(part)
    for part in reversed(blocks):
        backward.add(part)
    a, b = forward.result(), backward.result()
    events = scan_panel(panel, kinds=["rsi_oversold", "macd_bullish_cross"])
    checked = 0
    for cell, other in zip(a.results, b.results, strict=True):
        # counts, the KS cell and the event statistics do not depend on the order of the blocks
        assert (cell.n_events, cell.n_dates, cell.n_symbols, cell.n_baseline) == (
            other.n_events,
            other.n_dates,
            other.n_symbols,
            other.n_baseline,
        )
        assert (cell.ks_stat, cell.ks_p, cell.ks_bound, cell.median) == (
            other.ks_stat,
            other.ks_p,
            other.ks_bound,
            other.median,
        )
        fwd = forward_returns(panel.close, cell.horizon)
        ev = events[events["kind"] == cell.kind]
        rows = np.searchsorted(panel.dates, ev["date"].to_numpy().astype("datetime64[D]"))
        cols = np.asarray([panel.symbols.index(s) for s in ev["symbol"]])
        ret = fwd[rows, cols]
        ret = ret[np.isfinite(ret)]
        base = fwd[:, np.unique(cols)]
        base = base[np.isfinite(base)]
        assert ret.size == cell.n_events and base.size == cell.n_baseline > KS_EXACT_MAX
        exact = stats.ks_2samp(ret, base)
        assert cell.ks_stat is not None and cell.ks_bound is not None and cell.ks_p is not None
        assert 0.0 < cell.ks_bound < 0.01
        assert abs(cell.ks_stat - float(exact.statistic)) <= cell.ks_bound + 1e-12
        assert cell.median == pytest.approx(float(np.median(ret)), abs=1e-15)
        checked += 1
    assert checked == 4
