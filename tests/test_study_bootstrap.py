"""The study's resampling and test machinery against plain twins and against arch / scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from capscope.analytics import bootstrap as bs
from capscope.analytics.study import forward_returns, forward_returns_reference, ks_two_sample


def test_block_sums_equal_the_materialised_resamples() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((257, 5))
    blocks = bs.draw_blocks(257, 9.5, 60, np.random.default_rng(4))
    np.testing.assert_allclose(
        bs.block_sums(x, blocks), bs.block_sums_reference(x, blocks), rtol=0, atol=1e-10
    )


@pytest.mark.parametrize(("n_obs", "length"), [(1, 1.0), (7, 30.0), (500, 1.0), (500, 40.0)])
def test_blocks_cover_exactly_n_obs_dates(n_obs: int, length: float) -> None:
    blocks = bs.draw_blocks(n_obs, length, 200, np.random.default_rng(0))
    per = np.add.reduceat(blocks.lengths, blocks.offsets[:-1])
    assert (per == n_obs).all()
    assert blocks.starts.min() >= 0 and blocks.starts.max() < n_obs
    for b in (0, 57, 199):
        assert len(blocks.indices(b)) == n_obs


def test_mean_block_length_is_geometric() -> None:
    # long series: the cut last block hardly matters, so the mean length is close to the requested one
    blocks = bs.draw_blocks(200_000, 25.0, 3, np.random.default_rng(1))
    inner = np.concatenate(
        [blocks.lengths[blocks.offsets[b] : blocks.offsets[b + 1] - 1] for b in range(blocks.draws)]
    )
    assert inner.mean() == pytest.approx(25.0, rel=0.03)


def test_standard_error_matches_arch_stationary_bootstrap() -> None:
    """Same scheme as arch.bootstrap.StationaryBootstrap: the bootstrap s.e. of an AR(1) mean agrees."""
    from arch.bootstrap import StationaryBootstrap

    rng = np.random.default_rng(11)
    n = 2000
    e = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = e[0]
    for t in range(1, n):
        x[t] = 0.6 * x[t - 1] + e[t]
    ours = bs.block_sums(x, bs.draw_blocks(n, 20.0, 2000, np.random.default_rng(5)))[:, 0] / n
    sb = StationaryBootstrap(20.0, x, seed=7)
    theirs = np.array([d[0].mean() for d, _ in sb.bootstrap(2000)])
    assert ours.std() == pytest.approx(theirs.std(), rel=0.08)
    assert ours.mean() == pytest.approx(x.mean(), abs=0.02)


def test_percentile_pvalue_matches_the_interval() -> None:
    rng = np.random.default_rng(2)
    draws = rng.standard_normal((999, 40)) * 0.1 + np.linspace(-0.4, 0.4, 40)
    lo, hi = bs.percentile_interval(draws, 0.95)
    p = bs.percentile_pvalue(draws)
    excludes = (lo > 0) | (hi < 0)
    # exclusion of zero and p < 0.05 agree except within one draw of the boundary
    border = np.abs(p - 0.05) < 0.005
    assert (excludes[~border] == (p[~border] < 0.05)).all()


def _losses(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n, k = 600, 6
    shift = np.array([0.0, 0.0, 0.0, 0.0, 0.25, 0.3])
    noise = rng.standard_normal((n, k))
    # some dependence over time, so the block length matters
    for t in range(1, n):
        noise[t] += 0.3 * noise[t - 1]
    models = 1.0 - shift - noise * 0.8  # lower loss = better
    benchmark = np.ones(n) + rng.standard_normal(n) * 0.1
    return benchmark, models


def test_spa_and_stepm_agree_with_arch() -> None:
    from arch.bootstrap import SPA, StepM

    benchmark, models = _losses(8)
    n = len(benchmark)
    d = benchmark[:, None] - models  # performance: positive = model beats the benchmark
    blocks = bs.draw_blocks(n, 10.0, 2000, np.random.default_rng(3))
    boot = bs.block_sums(d, blocks) / n
    ours = bs.spa_test(d.mean(axis=0), boot, n)
    spa = SPA(benchmark, models, block_size=10, reps=2000, seed=4)
    spa.compute()
    assert ours.pvalue_consistent == pytest.approx(float(spa.pvalues["consistent"]), abs=0.03)
    assert ours.pvalue_upper == pytest.approx(float(spa.pvalues["upper"]), abs=0.03)
    step = StepM(benchmark, models, size=0.05, block_size=10, reps=2000, seed=4)
    step.compute()
    assert sorted(bs.stepm(d.mean(axis=0), boot, 0.05)) == sorted(int(c) for c in step.superior_models)


def test_spa_null_and_alternative() -> None:
    rng = np.random.default_rng(0)
    theta = np.zeros(4)
    boot = rng.standard_normal((999, 4)) * 0.1
    assert bs.spa_test(theta, boot, 1000).pvalue_consistent == 1.0
    far = np.array([0.0, 0.0, 0.0, 0.5])
    res = bs.spa_test(far, boot + far, 1000)
    assert res.pvalue_consistent < 0.01
    assert bs.stepm(far, boot + far) == [3]


def test_forward_returns_twin_with_gaps_and_next_open() -> None:
    rng = np.random.default_rng(1)
    close = 50 * np.exp(np.cumsum(rng.standard_normal((300, 7)) * 0.02, axis=0))
    open_ = close * (1 + rng.standard_normal(close.shape) * 0.003)
    close[:40, 2] = np.nan  # listed later
    close[100:105, 3] = np.nan  # a halt
    close[250:, 4] = np.nan  # delisted
    for h in (1, 5, 63):
        np.testing.assert_array_equal(forward_returns(close, h), forward_returns_reference(close, h))
        np.testing.assert_array_equal(
            forward_returns(close, h, open_=open_), forward_returns_reference(close, h, open_=open_)
        )
    r = forward_returns(close, 5)
    assert r[99, 3] == pytest.approx(close[109, 3] / close[99, 3] - 1)  # 5 bars of the symbol, not rows
    assert np.isnan(r[295:, 0]).all()


@pytest.mark.parametrize("n", [50, 3000, 20_000])
def test_ks_matches_scipy(n: int) -> None:
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n) * 1.1 + 0.05
    base = np.round(rng.standard_normal(60_000), 2)  # ties between and within samples
    x[:10] = base[:10]
    ours = ks_two_sample(x, np.sort(base))
    ref = stats.ks_2samp(x, base)
    assert ours[0] == pytest.approx(float(ref.statistic), abs=1e-12)
    assert ours[1] == pytest.approx(float(ref.pvalue), rel=1e-9, abs=1e-300)
