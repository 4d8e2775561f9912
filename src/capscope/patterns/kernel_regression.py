"""Nadaraya-Watson kernel regression on an equally spaced time grid, with leave-one-out bandwidth choice.

This is the smoother of Lo, Mamaysky and Wang (2000), "Foundations of Technical Analysis: Computational
Algorithms, Statistical Inference, and Empirical Implementation", *Journal of Finance* 55(4), 1705-1765,
Section I (eqs. 10-14 as printed there).  Prices ``y_1 .. y_n`` observed at times ``t = 1 .. n`` are
smoothed by

.. math::

    \\hat m_h(t) = \\frac{\\sum_s K_h(t - s)\\, y_s}{\\sum_s K_h(t - s)}, \\qquad
    K_h(x) = \\frac{1}{h\\sqrt{2\\pi}} e^{-x^2 / (2h^2)}

(the Gaussian kernel; its constant ``1 / (h sqrt(2 pi))`` cancels in the ratio and is dropped here).
The bandwidth is chosen by leave-one-out cross-validation (LMW eq. 12-13):

.. math::

    CV(h) = \\frac{1}{n} \\sum_t \\big(y_t - \\hat m_{h,-t}(t)\\big)^2, \\qquad
    \\hat m_{h,-t}(t) = \\frac{\\sum_{s \\ne t} K_h(t - s)\\, y_s}{\\sum_{s \\ne t} K_h(t - s)}

and LMW smooth with ``0.3 h*`` where ``h*`` minimises ``CV``.

Because the time grid is the same for every window of a given length, every weight matrix here depends only
on ``(n, h)``: :func:`nw_weight_matrix` and :func:`loo_weight_matrix` are computed once and each fit is a
matrix-vector product.  Prices enter linearly.  :mod:`capscope.patterns.lmw` builds its fast panel kernel on
that observation.

Functions come in twins: a plain NumPy reference (``*_reference``) and a numba kernel; tests check they agree.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DEFAULT_BANDWIDTHS",
    "cv_bandwidth",
    "cv_bandwidth_reference",
    "gaussian_kernel_matrix",
    "loo_cv_scores",
    "loo_cv_scores_reference",
    "loo_weight_matrix",
    "noise_floor",
    "nw_smooth",
    "nw_smooth_reference",
    "nw_weight_matrix",
    "select_min_index",
]

#: Candidate bandwidths (in bars) for the leave-one-out search: 8 values, geometric from 1 to 10 bars.
DEFAULT_BANDWIDTHS: tuple[float, ...] = tuple(float(v) for v in np.geomspace(1.0, 10.0, 8))

#: Two CV scores closer than this (relative) count as a tie; ties go to the smaller bandwidth so that the
#: choice does not hinge on rounding.
CV_TIE_RTOL = 1e-9
#: Mean squared LOO residuals below ``CV_NOISE_RTOL * level^2`` are rounding noise (see select_min_index).
CV_NOISE_RTOL = 1e-24


def _check_bandwidth(h: float) -> float:
    h = float(h)
    if not np.isfinite(h) or h <= 0:
        raise ValueError(f"bandwidth must be a positive finite number of bars, got {h!r}")
    return h


def gaussian_kernel_matrix(n: int, h: float) -> NDArray[np.float64]:
    """Unnormalised Gaussian kernel matrix ``K[i, j] = exp(-(i - j)^2 / (2 h^2))`` on the grid ``0 .. n-1``.

    Parameters
    ----------
    n : int
        Number of grid points (bars in the window).
    h : float
        Bandwidth in bars.

    Returns
    -------
    ndarray, shape (n, n)
        Symmetric Toeplitz matrix with ones on the diagonal.
    """
    h = _check_bandwidth(h)
    lag = np.arange(n, dtype=np.float64)
    diff = lag[:, None] - lag[None, :]
    return np.exp(-(diff * diff) / (2.0 * h * h))


def nw_weight_matrix(n: int, h: float) -> NDArray[np.float64]:
    """Nadaraya-Watson weights: ``m_hat = W @ y`` with ``W = diag(1 / K.sum(1)) K`` (rows sum to one).

    Parameters
    ----------
    n : int
        Window length in bars.
    h : float
        Bandwidth in bars.

    Returns
    -------
    ndarray, shape (n, n)
    """
    k = gaussian_kernel_matrix(n, h)
    return k / k.sum(axis=1, keepdims=True)


def loo_weight_matrix(n: int, h: float) -> NDArray[np.float64]:
    """Leave-one-out weights: the kernel with its diagonal removed, rows renormalised to one.

    ``(W_loo @ y)[t]`` is the fit at ``t`` from every point but ``t`` (LMW eq. 13).
    """
    k = gaussian_kernel_matrix(n, h)
    np.fill_diagonal(k, 0.0)
    return k / k.sum(axis=1, keepdims=True)


def nw_smooth_reference(y: ArrayLike, h: float) -> NDArray[np.float64]:
    """Plain NumPy Nadaraya-Watson smoother of ``y`` on the grid ``0 .. n-1`` (reference twin)."""
    values = np.asarray(y, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {values.shape}")
    return nw_weight_matrix(values.size, h) @ values


def loo_cv_scores_reference(y: ArrayLike, bandwidths: ArrayLike = DEFAULT_BANDWIDTHS) -> NDArray[np.float64]:
    """``CV(h)`` of LMW eq. 12 for each candidate bandwidth (plain NumPy reference twin)."""
    values = np.asarray(y, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {values.shape}")
    hs = np.asarray(bandwidths, dtype=np.float64)
    out = np.empty(hs.size)
    for c, h in enumerate(hs):
        resid = values - loo_weight_matrix(values.size, float(h)) @ values
        out[c] = float(resid @ resid) / values.size
    return out


@njit(cache=True)
def select_min_index(scores: NDArray[np.float64], floor: float = 0.0) -> int:
    """Index of the smallest score; scores within ``CV_TIE_RTOL`` (relative) plus ``floor`` (absolute) of the
    minimum count as ties and go to the first index.

    ``floor`` absorbs rounding noise: in a window of equal prices every candidate fits perfectly and the
    scores are pure rounding, so without it the choice would be arbitrary.
    """
    best = scores[0]
    for c in range(1, scores.size):
        if scores[c] < best:
            best = scores[c]
    limit = best + 1e-9 * abs(best) + floor
    for c in range(scores.size):
        if scores[c] <= limit:
            return c
    return 0


def noise_floor(y: NDArray[np.float64]) -> float:
    """CV scores below ``(1e-12 * y[-1])^2`` are rounding noise (residuals under 1e-12 of the price level)."""
    return float(CV_NOISE_RTOL * y[-1] * y[-1])


def cv_bandwidth_reference(
    y: ArrayLike, bandwidths: ArrayLike = DEFAULT_BANDWIDTHS
) -> tuple[float, NDArray[np.float64]]:
    """Cross-validated bandwidth ``h*`` and the CV scores (reference twin of :func:`cv_bandwidth`)."""
    hs = np.asarray(bandwidths, dtype=np.float64)
    values = np.asarray(y, dtype=np.float64)
    scores = loo_cv_scores_reference(values, hs)
    return float(hs[select_min_index(scores, noise_floor(values))]), scores


@njit(cache=True)
def _kernel_row_sums(kern: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    out = np.empty(n)
    for i in range(n):
        acc = 0.0
        for j in range(n):
            acc += kern[abs(i - j)]
        out[i] = acc
    return out


@njit(cache=True)
def _kernel_vector(n: int, h: float) -> NDArray[np.float64]:
    kern = np.empty(n)
    for m in range(n):
        kern[m] = np.exp(-(m * m) / (2.0 * h * h))
    return kern


@njit(cache=True)
def _nw_smooth_nb(y: NDArray[np.float64], h: float) -> NDArray[np.float64]:
    n = y.size
    kern = _kernel_vector(n, h)
    rows = _kernel_row_sums(kern, n)
    out = np.empty(n)
    for i in range(n):
        acc = 0.0
        for j in range(n):
            acc += kern[abs(i - j)] * y[j]
        out[i] = acc / rows[i]
    return out


@njit(cache=True)
def _loo_cv_nb(y: NDArray[np.float64], bandwidths: NDArray[np.float64]) -> NDArray[np.float64]:
    n = y.size
    out = np.empty(bandwidths.size)
    for c in range(bandwidths.size):
        kern = _kernel_vector(n, bandwidths[c])
        rows = _kernel_row_sums(kern, n)
        acc = 0.0
        for i in range(n):
            fit = 0.0
            for j in range(n):
                fit += kern[abs(i - j)] * y[j]
            # leave-one-out: drop the diagonal term (kernel value 1) from numerator and denominator
            resid = y[i] - (fit - y[i]) / (rows[i] - 1.0)
            acc += resid * resid
        out[c] = acc / n
    return out


def nw_smooth(y: ArrayLike, h: float) -> NDArray[np.float64]:
    """Nadaraya-Watson smoother of ``y`` on the grid ``0 .. n-1`` with a Gaussian kernel of bandwidth ``h``.

    Parameters
    ----------
    y : array_like, shape (n,)
        Values (prices) at equally spaced times.
    h : float
        Bandwidth in bars.

    Returns
    -------
    ndarray, shape (n,)
        The fitted curve ``m_hat_h(t)``, ``t = 0 .. n-1`` (LMW eq. 14).
    """
    values = np.ascontiguousarray(y, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {values.shape}")
    return _nw_smooth_nb(values, _check_bandwidth(h))


def loo_cv_scores(y: ArrayLike, bandwidths: ArrayLike = DEFAULT_BANDWIDTHS) -> NDArray[np.float64]:
    """Leave-one-out ``CV(h)`` (LMW eq. 12) for each candidate bandwidth (numba kernel)."""
    values = np.ascontiguousarray(y, dtype=np.float64)
    if values.ndim != 1 or values.size < 2:
        raise ValueError(f"y must be 1-D with at least 2 values, got shape {values.shape}")
    hs = np.ascontiguousarray(bandwidths, dtype=np.float64)
    for h in hs:
        _check_bandwidth(h)
    return _loo_cv_nb(values, hs)


def cv_bandwidth(
    y: ArrayLike, bandwidths: ArrayLike = DEFAULT_BANDWIDTHS
) -> tuple[float, NDArray[np.float64]]:
    """Cross-validated bandwidth ``h*`` (minimiser of ``CV(h)`` over the candidates) and all scores.

    Parameters
    ----------
    y : array_like, shape (n,)
        Values at equally spaced times.
    bandwidths : array_like
        Candidate bandwidths in bars (default :data:`DEFAULT_BANDWIDTHS`).

    Returns
    -------
    (float, ndarray)
        ``h*`` and the CV score of every candidate.  Near-ties (within ``1e-9`` relative) go to the
        smaller index, i.e. the first listed candidate, and so do scores that are rounding noise
        (:func:`noise_floor`).
    """
    hs = np.ascontiguousarray(bandwidths, dtype=np.float64)
    values = np.ascontiguousarray(y, dtype=np.float64)
    scores = loo_cv_scores(values, hs)
    return float(hs[select_min_index(scores, noise_floor(values))]), scores
