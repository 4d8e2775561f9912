"""A bounded, mergeable summary of a study's baseline returns for the two-sample Kolmogorov-Smirnov test.

The event study compares each cell's event returns with the returns of every baseline bar of the symbols that
produced the signal. Over a market (20,000 symbols x 5,000 bars x 3 horizons) the baseline alone is ~2.4 GB of
float64; block by block it has to be summarised in a way that merges exactly, whatever the blocks.

:class:`BaselineSketch` keeps the values themselves while there are at most :data:`KS_EXACT_MAX` of them
(scipy's own limit for the exact KS distribution, ``MAX_AUTO_N`` in ``scipy.stats.ks_2samp``), so small studies
get exactly ``scipy.stats.ks_2samp``. Beyond that it keeps exact integer counts on a fixed grid of
``z = log1p(r)`` (continuously compounded return): bins of width :data:`KS_BIN_WIDTH` on
``[-KS_LOG_RANGE, KS_LOG_RANGE)``, one under- and one overflow bin, and one bin holding only returns exactly
zero (a price unchanged over the horizon is common in thin small caps; it is an atom of the distribution and is
kept exact). Counts add, so any split of the symbols into blocks, in any order, gives the same sketch: the
state is bounded by the grid (at most ``KS_BINS`` pairs), not by the number of symbols or bars.

:func:`ks_against_sketch` computes the KS statistic of the (exact) event returns against the sketch, with an
error bound. ``D = sup_x |F1(x) - F2(x)|`` with ``F1`` the events' ECDF; ``F1`` is a step function, so the
supremum is reached at an event value ``x`` from the left or at it (between two event values ``|c - F2|`` is
largest at an end). The grid index is non-decreasing in the return, so every baseline value in a lower bin is
below ``x`` and every value in a higher bin above it: ``F2(x-)`` and ``F2(x)`` both lie in
``[C_k / m, (C_k + c_k) / m]`` (``C_k`` values below ``x``'s bin ``k``, ``c_k`` in it, ``m`` in all). The
estimate takes ``F2`` inside the bin by linear interpolation in ``z`` (exact at the zero atom, where both
limits are known), so ``|D_hat - D| <= max_k c_k / m`` over the (non-atom) bins that hold an event value.
That bound is computed for every cell and reported with it (``ks_bound``; 0 when the values are exact).

The p-value is scipy's asymptotic two-sided one, the one ``ks_2samp(method="auto")`` uses when a sample has
more than ``MAX_AUTO_N`` values: ``scipy.stats.kstwo.sf(D, round(n m / (n + m)))`` (the exact distribution of
the one-sample statistic at the effective sample size; Hodges 1958, as in scipy's ``_compute_prob_outside``
notes), evaluated at ``D_hat``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "KS_BINS",
    "KS_BIN_WIDTH",
    "KS_EXACT_MAX",
    "KS_LOG_RANGE",
    "BaselineSketch",
    "ks_against_sketch",
    "ks_bins",
    "ks_two_sample",
]

#: Values kept exactly up to this many (scipy's ``MAX_AUTO_N``: its exact KS distribution up to 10,000).
KS_EXACT_MAX = 10_000
#: Width of a grid bin in log return ``log1p(r)`` (0.01 %).
KS_BIN_WIDTH = 1e-4
#: The grid covers log returns in ``[-KS_LOG_RANGE, KS_LOG_RANGE)``: returns from -98.2 % to +5,360 %.
KS_LOG_RANGE = 4.0
_HALF = round(KS_LOG_RANGE / KS_BIN_WIDTH)  # bins on each side of zero
_ZERO = _HALF + 1  # the bin of returns exactly zero
#: Number of bins: underflow, negative bins, the zero atom, positive bins, overflow.
KS_BINS = 2 * _HALF + 3


def ks_bins(values: np.ndarray) -> np.ndarray:
    """Grid bin (``int64``) of each return; non-decreasing in the return.

    ``0``: ``log1p(r) < -KS_LOG_RANGE``; ``1 .. H``: negative log returns, ``floor(z / w)`` from ``-H`` to
    ``-1``; ``H + 1``: exactly zero; ``H + 2 .. 2H + 1``: positive, ``floor(z / w)`` from 0 to ``H - 1``;
    ``2H + 2``: ``z >= KS_LOG_RANGE`` (``H = KS_LOG_RANGE / KS_BIN_WIDTH``, ``w = KS_BIN_WIDTH``).
    """
    with np.errstate(divide="ignore"):  # a return of -100 % is -inf: the underflow bin
        z = np.log1p(np.asarray(values, dtype=np.float64))
    cell = np.floor(z / KS_BIN_WIDTH)
    out = np.where(z < 0.0, _HALF + 1 + cell, _HALF + 2 + cell)
    out = np.clip(out, 0, KS_BINS - 1)
    out[z == 0.0] = _ZERO
    # the edges by comparison, not by the division's rounding
    out[z < -KS_LOG_RANGE] = 0
    out[z >= KS_LOG_RANGE] = KS_BINS - 1
    return out.astype(np.int64)


def _bin_low(bins: np.ndarray) -> np.ndarray:
    """Lower edge (log return) of interior bins."""
    return np.where(bins <= _HALF, (bins - 1 - _HALF) * KS_BIN_WIDTH, (bins - _HALF - 2) * KS_BIN_WIDTH)


@dataclass(frozen=True)
class BaselineSketch:
    """Baseline returns of one study cell: the values (at most :data:`KS_EXACT_MAX`) or grid counts.

    Attributes
    ----------
    n
        Number of values summarised.
    values
        The values themselves (``None`` once there are more than :data:`KS_EXACT_MAX`).
    bins, counts
        Occupied grid bins (sorted, :func:`ks_bins`) and their counts (``None`` while ``values`` is kept).
    """

    n: int
    values: np.ndarray | None = None
    bins: np.ndarray | None = None
    counts: np.ndarray | None = None

    @classmethod
    def of(cls, values: np.ndarray) -> BaselineSketch:
        """Sketch of ``values`` (finite returns > -1).

        Parameters
        ----------
        values
            Baseline returns.

        Returns
        -------
        BaselineSketch
            Exact below :data:`KS_EXACT_MAX` values, grid counts above.
        """
        v = np.asarray(values, dtype=np.float64).ravel()
        if v.size <= KS_EXACT_MAX:
            return cls(n=int(v.size), values=v.copy())
        return cls._from_bins(ks_bins(v), None)

    @classmethod
    def _from_bins(cls, bins: np.ndarray, weights: np.ndarray | None) -> BaselineSketch:
        dense = np.bincount(bins, weights=weights, minlength=KS_BINS)
        occupied = np.flatnonzero(dense)
        counts = np.rint(dense[occupied]).astype(np.int64)  # integer sums: float64 is exact below 2**53
        return cls(n=int(counts.sum()), bins=occupied.astype(np.int64), counts=counts)

    @property
    def exact(self) -> bool:
        """Whether the values themselves are kept."""
        return self.values is not None

    def merge(self, other: BaselineSketch) -> BaselineSketch:
        """The sketch of both samples together (exact integer counts: the order of merging does not matter).

        Parameters
        ----------
        other
            Another sketch.

        Returns
        -------
        BaselineSketch
            Exact while the two hold at most :data:`KS_EXACT_MAX` values, grid counts otherwise.
        """
        if self.values is not None and other.values is not None and self.n + other.n <= KS_EXACT_MAX:
            return BaselineSketch(n=self.n + other.n, values=np.concatenate([self.values, other.values]))
        bins, weights = [], []
        for s in (self, other):
            if s.values is not None:
                bins.append(ks_bins(s.values))
                weights.append(np.ones(s.n))
            elif s.bins is not None and s.counts is not None:
                bins.append(s.bins)
                weights.append(s.counts.astype(np.float64))
        return BaselineSketch._from_bins(np.concatenate(bins), np.concatenate(weights))


def ks_two_sample(sample: np.ndarray, base_sorted: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov test of ``sample`` against an already sorted ``base_sorted``.

    Same statistic and p-value as ``scipy.stats.ks_2samp(sample, base)`` (two-sided, ``method="auto"``):
    when both samples have at most 10,000 values scipy is called; otherwise the statistic is computed from
    the sorted samples (``D = sup |F1 - F2|`` is attained just before or at a point of ``sample``, since
    ``F1`` only moves there) and the p-value is scipy's asymptotic one, ``kstwo.sf(D, round(n m / (n + m)))``.

    Parameters
    ----------
    sample
        Event returns.
    base_sorted
        Baseline returns, sorted.

    Returns
    -------
    tuple of float
        Statistic and p-value.
    """
    from scipy import stats

    n, m = sample.size, base_sorted.size
    if max(n, m) <= KS_EXACT_MAX:
        res = stats.ks_2samp(sample, base_sorted)
        return float(res.statistic), float(res.pvalue)
    x = np.sort(sample)
    f1_right = np.searchsorted(x, x, side="right") / n
    f1_left = np.searchsorted(x, x, side="left") / n
    f2_right = np.searchsorted(base_sorted, x, side="right") / m
    f2_left = np.searchsorted(base_sorted, x, side="left") / m
    d = float(max(np.max(np.abs(f1_right - f2_right)), np.max(np.abs(f1_left - f2_left))))
    en = n * m / (n + m)
    return d, float(np.clip(stats.kstwo.sf(d, np.round(en)), 0.0, 1.0))


def ks_against_sketch(sample: np.ndarray, base: BaselineSketch) -> tuple[float, float, float]:
    """Two-sample KS test of exact ``sample`` values against a baseline sketch, with the statistic's error bound.

    Parameters
    ----------
    sample
        Event returns (finite).
    base
        The baseline (:class:`BaselineSketch`, non-empty).

    Returns
    -------
    tuple of float
        ``(D_hat, p_value, bound)``: ``|D_hat - D| <= bound`` where ``D`` is ``scipy.stats.ks_2samp``'s
        statistic on the raw values (module docstring); ``bound`` is 0 when the sketch holds the values.
    """
    from scipy import stats

    x = np.sort(np.asarray(sample, dtype=np.float64))
    n, m = x.size, base.n
    if n == 0 or m == 0:
        return float("nan"), float("nan"), float("nan")
    if base.values is not None:
        d, p = ks_two_sample(x, np.sort(base.values))
        return d, p, 0.0
    assert base.bins is not None and base.counts is not None
    k = ks_bins(x)
    pos = np.searchsorted(base.bins, k)
    cum = np.concatenate([[0], np.cumsum(base.counts)])
    below = cum[pos].astype(np.float64)
    hit = (pos < base.bins.size) & (base.bins[np.minimum(pos, base.bins.size - 1)] == k)
    inside = np.where(hit, base.counts[np.minimum(pos, base.bins.size - 1)], 0).astype(np.float64)
    interior = (k > 0) & (k < KS_BINS - 1) & (k != _ZERO)
    frac = np.full(n, 0.5)
    z = np.log1p(x[interior])
    frac[interior] = np.clip((z - _bin_low(k[interior])) / KS_BIN_WIDTH, 0.0, 1.0)
    f2_left = (below + frac * inside) / m
    f2_right = f2_left.copy()
    atom = k == _ZERO  # returns exactly zero: both limits known
    f2_left[atom] = below[atom] / m
    f2_right[atom] = (below[atom] + inside[atom]) / m
    f1_right = np.searchsorted(x, x, side="right") / n
    f1_left = np.searchsorted(x, x, side="left") / n
    d = float(max(np.max(np.abs(f1_right - f2_right)), np.max(np.abs(f1_left - f2_left))))
    bound = float(np.max(np.where(atom, 0.0, inside)) / m)
    en = n * m / (n + m)
    return d, float(np.clip(stats.kstwo.sf(d, np.round(en)), 0.0, 1.0)), bound
