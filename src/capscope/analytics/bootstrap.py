"""Stationary block bootstrap of many per-date series at once, and the run-level tests built on it.

The event study resamples *dates*, never events: every event and every baseline bar of a date travel
together, so same-date clustering is kept, and blocks of consecutive dates keep the dependence that
overlapping ``h``-bar windows create.

Resampling scheme (Politis and Romano 1994, "The stationary bootstrap", JASA 89(428)): a resample of ``n``
dates is a concatenation of blocks; each block starts at a uniformly drawn date and has a geometric length
with mean ``block_length`` (success probability ``1 / block_length``); blocks wrap around the end circularly
and the last one is cut so that the resample has exactly ``n`` dates. This is the scheme of
``arch.bootstrap.StationaryBootstrap``. What differs is the arithmetic: the study only needs *sums* of each
series over a resample, and the sum over a block is a difference of two cumulative sums, so a resample costs
one operation per block (about ``n / block_length``) instead of one per date. On the sample universe
(24,700 dates, 51 cells, 1,000 draws) ``arch.bootstrap.SPA`` alone took 77 s; this takes well under a second
(``benchmarks/bench_study.py``). :func:`block_sums_reference` materialises the index array the plain way and
the tests hold the two equal; the tests also compare the bootstrap standard error with arch's.

The block length comes from ``arch.bootstrap.optimal_block_length`` (Politis and White 2004, with the
correction of Patton, Politis and White 2009).

Run-level tests on the bootstrap draws of the statistics (one joint resample for every cell, so their
dependence is kept):

* Hansen (2005), "A test for superior predictive ability", JBES 23(4): :func:`spa_test`;
* Romano and Wolf (2005), "Stepwise multiple testing as formalized data snooping", Econometrica 73(4):
  :func:`stepm`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from numba import njit

__all__ = [
    "Blocks",
    "SpaResult",
    "auto_block_length",
    "block_sums",
    "block_sums_reference",
    "draw_blocks",
    "percentile_interval",
    "spa_test",
    "stepm",
]


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence numpy's warnings about all-NaN columns (cells without events have NaN draws by design)."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@dataclass(frozen=True)
class Blocks:
    """The blocks of ``draws`` stationary-bootstrap resamples of ``n_obs`` dates.

    Attributes
    ----------
    starts, lengths
        Start position and length of every block, resample after resample.
    offsets
        Resample ``b`` is blocks ``offsets[b]:offsets[b + 1]``; each resample's lengths sum to ``n_obs``.
    n_obs
        Dates per resample.
    """

    starts: np.ndarray
    lengths: np.ndarray
    offsets: np.ndarray
    n_obs: int

    @property
    def draws(self) -> int:
        """Number of resamples."""
        return len(self.offsets) - 1

    def indices(self, draw: int) -> np.ndarray:
        """The date positions of one resample (for checks; the study never materialises them)."""
        lo, hi = self.offsets[draw], self.offsets[draw + 1]
        parts = [
            (s + np.arange(n)) % self.n_obs
            for s, n in zip(self.starts[lo:hi], self.lengths[lo:hi], strict=True)
        ]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def draw_blocks(n_obs: int, block_length: float, draws: int, rng: np.random.Generator) -> Blocks:
    """Draw the blocks of ``draws`` stationary-bootstrap resamples.

    Parameters
    ----------
    n_obs
        Dates in the sample (and in each resample).
    block_length
        Mean block length (>= 1); lengths are geometric with success probability ``1 / block_length``.
    draws
        Number of resamples.
    rng
        Random generator (the caller seeds it, so a run repeats exactly).
    """
    if n_obs < 1:
        raise ValueError(f"n_obs must be positive, got {n_obs}")
    if block_length < 1:
        raise ValueError(f"block_length must be >= 1, got {block_length}")
    p = 1.0 / block_length
    per = max(4, math.ceil(1.5 * n_obs / block_length) + 8)
    lengths = rng.geometric(p, size=(draws, per)).astype(np.int64)
    while True:  # rare: a row whose blocks do not yet cover n_obs gets more blocks
        short = lengths.sum(axis=1) < n_obs
        if not short.any():
            break
        extra = rng.geometric(p, size=(draws, per)).astype(np.int64)
        extra[~short] = 0
        lengths = np.concatenate([lengths, extra], axis=1)
    np.minimum(lengths, n_obs, out=lengths)
    cum = np.cumsum(lengths, axis=1)
    used = (cum < n_obs).sum(axis=1) + 1  # blocks needed to reach n_obs
    before = np.where(used > 1, cum[np.arange(draws), used - 2], 0)
    keep = np.arange(lengths.shape[1])[None, :] < used[:, None]
    lengths = np.where(
        np.arange(lengths.shape[1])[None, :] == (used - 1)[:, None], n_obs - before[:, None], lengths
    )
    flat_lengths = lengths[keep]
    starts = rng.integers(0, n_obs, size=flat_lengths.size).astype(np.int64)
    offsets = np.zeros(draws + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(used)
    return Blocks(starts, flat_lengths, offsets, n_obs)


@njit(cache=True)
def _block_sums_kernel(
    cum: np.ndarray, starts: np.ndarray, lengths: np.ndarray, offsets: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    n = cum.shape[0] - 1
    k = cum.shape[1]
    for b in range(offsets.shape[0] - 1):
        for i in range(offsets[b], offsets[b + 1]):
            s = starts[i]
            e = s + lengths[i]
            if e <= n:
                for c in range(k):
                    out[b, c] += cum[e, c] - cum[s, c]
            else:
                e -= n
                for c in range(k):
                    out[b, c] += cum[n, c] - cum[s, c] + cum[e, c]


def block_sums(series: np.ndarray, blocks: Blocks) -> np.ndarray:
    """Sum of each column of ``series`` over each resample.

    Parameters
    ----------
    series
        ``(n_obs, k)`` per-date values (e.g. the sum of event returns dated that day).
    blocks
        Resamples from :func:`draw_blocks` with the same ``n_obs``.

    Returns
    -------
    numpy.ndarray
        ``(draws, k)``: ``out[b, c] = series[indices(b), c].sum()``.
    """
    x = np.asarray(series, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[0] != blocks.n_obs:
        raise ValueError(f"series has {x.shape[0]} dates, the blocks {blocks.n_obs}")
    cum = np.zeros((x.shape[0] + 1, x.shape[1]))
    np.cumsum(x, axis=0, out=cum[1:])
    out = np.zeros((blocks.draws, x.shape[1]))
    _block_sums_kernel(cum, blocks.starts, blocks.lengths, blocks.offsets, out)
    return out


def block_sums_reference(series: np.ndarray, blocks: Blocks) -> np.ndarray:
    """Plain twin of :func:`block_sums`: materialise each resample's date positions and sum."""
    x = np.asarray(series, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    return np.stack([x[blocks.indices(b)].sum(axis=0) for b in range(blocks.draws)])


def auto_block_length(columns: np.ndarray, floor: float = 1.0) -> float:
    """Politis-White automatic mean block length of the stationary bootstrap (the largest over ``columns``).

    ``arch.bootstrap.optimal_block_length`` on each column of ``columns`` (``(n_obs, k)``); constant columns
    are skipped. The result is at least ``floor``.
    """
    from arch.bootstrap import optimal_block_length

    x = np.asarray(columns, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    varying = [c for c in range(x.shape[1]) if np.nanstd(x[:, c]) > 0]
    best = floor
    if varying and x.shape[0] >= 10:
        est = optimal_block_length(x[:, varying])["stationary"].to_numpy()
        est = est[np.isfinite(est)]
        if est.size:
            best = max(best, float(est.max()))
    return best


def percentile_interval(draws: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of bootstrap draws, per column (NaN draws ignored)."""
    a = (1.0 - level) / 2.0
    with _quiet():
        lo = np.nanquantile(draws, a, axis=0)
        hi = np.nanquantile(draws, 1.0 - a, axis=0)
    return lo, hi


def percentile_pvalue(draws: np.ndarray) -> np.ndarray:
    """Two-sided p-value of "the statistic is zero" matching the percentile interval.

    ``p = 2 min(#(draw <= 0) + 1, #(draw >= 0) + 1) / (B + 1)``, capped at 1: the 95 % percentile interval
    excludes zero exactly when ``p < 0.05`` (up to the +1 of the finite-sample correction of Davison and
    Hinkley 1997, section 4.4).
    """
    draws = np.asarray(draws)
    ok = np.isfinite(draws)
    b = ok.sum(axis=0)
    le = ((draws <= 0) & ok).sum(axis=0)
    ge = ((draws >= 0) & ok).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = 2.0 * (np.minimum(le, ge) + 1.0) / (b + 1.0)
    return np.where(b > 0, np.minimum(p, 1.0), np.nan)


@dataclass(frozen=True)
class SpaResult:
    """Hansen's SPA test: statistic and the three p-values (lower <= consistent <= upper)."""

    statistic: float
    pvalue_lower: float
    pvalue_consistent: float
    pvalue_upper: float


def _scale(theta: np.ndarray, boot: np.ndarray) -> np.ndarray:
    with _quiet():
        sd = np.nanstd(boot, axis=0)
    return np.where(sd > 0, sd, np.nan)


def spa_test(theta: np.ndarray, boot: np.ndarray, n_obs: int) -> SpaResult:
    """Hansen's (2005) test of superior predictive ability on bootstrap draws of the statistics.

    Null: no statistic exceeds zero (no signal beats its baseline). ``theta[k]`` plays the role of the mean
    performance ``d_k`` and ``boot[b, k]`` of its bootstrap mean; ``omega_k`` is the bootstrap standard
    deviation. ``T = max(0, max_k theta_k / omega_k)``; the bootstrap statistic is
    ``max(0, max_k (boot_bk - g(theta_k)) / omega_k)`` with ``g`` = ``max(x, 0)`` (lower),
    ``x 1{x >= -omega sqrt(2 log log n)}`` (consistent) or ``x`` (upper), Hansen's eq. (7)-(9).

    Parameters
    ----------
    theta
        ``(k,)`` statistics (NaN: left out).
    boot
        ``(B, k)`` joint bootstrap draws of the statistics.
    n_obs
        Dates in the sample (for the ``log log n`` threshold).
    """
    omega = _scale(theta, boot)
    ok = np.isfinite(theta) & np.isfinite(omega)
    if not ok.any():
        return SpaResult(float("nan"), float("nan"), float("nan"), float("nan"))
    th, om, bt = theta[ok], omega[ok], boot[:, ok]
    stat = max(0.0, float(np.max(th / om)))
    thresh = om * math.sqrt(2.0 * math.log(math.log(max(n_obs, 16))))
    centres = {
        "lower": np.maximum(th, 0.0),
        "consistent": np.where(th >= -thresh, th, 0.0),
        "upper": th,
    }
    p = {}
    for name, g in centres.items():
        with _quiet():
            z = np.nanmax((bt - g) / om, axis=1)
        tb = np.maximum(z, 0.0)
        p[name] = float(np.mean(tb > stat)) if stat > 0 else 1.0
    return SpaResult(stat, p["lower"], p["consistent"], p["upper"])


def stepm(theta: np.ndarray, boot: np.ndarray, size: float = 0.05) -> list[int]:
    """Romano-Wolf (2005) StepM: the statistics significantly above zero, controlling the FWE at ``size``.

    Studentized stepdown (their Algorithm 4.1 with the bootstrap standard deviation): among the models not
    yet rejected, the critical value is the ``1 - size`` quantile of ``max_k (boot_bk - theta_k) / omega_k``;
    every model with ``theta_k / omega_k`` above it is rejected (declared superior); repeat until none is.

    Returns
    -------
    list[int]
        Positions (into ``theta``) of the superior statistics, in the order they were rejected.
    """
    omega = _scale(theta, boot)
    active = [k for k in range(len(theta)) if np.isfinite(theta[k]) and np.isfinite(omega[k])]
    t = np.where(np.isfinite(omega), theta / omega, np.nan)
    superior: list[int] = []
    while active:
        a = np.asarray(active)
        with _quiet():
            z = np.nanmax((boot[:, a] - theta[a]) / omega[a], axis=1)
            crit = float(np.nanquantile(z, 1.0 - size))
        new = [k for k in active if t[k] > crit]
        if not new:
            break
        new.sort(key=lambda k: -t[k])
        superior.extend(new)
        active = [k for k in active if k not in new]
    return superior
