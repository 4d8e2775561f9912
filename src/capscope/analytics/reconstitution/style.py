"""Growth/value probabilities of the members of one index (Russell US style methodology, with documented assumptions).

What the sources state (research notes, ``shared/research/reconstitution.md``): a **composite value score** (CVS)
from book-to-price (value, 50 %) and the I/B/E/S medium-term (2-year) growth forecast plus the 5-year
sales-per-share growth (growth, 50 % together), computed separately per index; a **style band** of 0.10 so
that small changes do not move a stock; about **70 %** of stocks pure growth or pure value, 30 % split between
the two (russell.com legacy pages; methodology section 6 via a copy). The exact probability function is not
public. The assumption implemented here, with every parameter exposed in :class:`StyleParams`:

1. Each variable is turned into a normal score inside the index: rank it (ties averaged), take the percentile
   ``(rank - 0.5) / n`` and map it through the standard normal quantile function. Ranks make the score immune to
   outliers (a book-to-price of 40 counts as "highest", not as 40).
2. Growth score ``G = w_f * z(growth_forecast) + (1 - w_f) * z(sales_growth_5y)``; where a stock has no
   forecast, ``G = z(sales_growth_5y)`` (the forecast's scores are ranked among the stocks that have one).
3. ``CVS = w_v * z(book_to_price) - (1 - w_v) * G`` (high = value).
4. Stocks are sorted by CVS and each gets its **position**: the middle of its slice of the index's cumulative
   float-adjusted cap, in [0, 1] (0 = most growth). Style indexes each hold about half the cap.
5. Value probability = ``clip((position - (0.5 - s / 2)) / s, 0, 1)`` with split width ``s``: positions in the
   middle ``s`` of the cap are split linearly, the rest pure. With ``s = 0.30`` about 70 % of the stocks are pure
   when caps are unrelated to style (tested on generated universes).
6. Style band: a stock with a current value probability keeps it when its new position lies within ``band``
   of the positions that give that probability (the whole pure-value or pure-growth stretch for 1 or 0).

Growth probability = 1 - value probability, so the two always sum to 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri
from scipy.stats import rankdata


@dataclass(frozen=True)
class StyleParams:
    """Parameters of the assumed style function (see the module docstring).

    Attributes
    ----------
    value_weight
        Weight of book-to-price in the CVS (0.5 per the methodology).
    forecast_weight
        Share of the growth weight on the growth forecast (the rest on 5-year sales growth); 0.5 assumed.
    split_width
        Share of the index cap (by position) split between growth and value; 0.30 gives about 70 % pure.
    band
        Style band on the position (0.10 per the methodology's band on the score).
    """

    value_weight: float = 0.5
    forecast_weight: float = 0.5
    split_width: float = 0.30
    band: float = 0.10

    def __post_init__(self) -> None:
        for name in ("value_weight", "forecast_weight", "band"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} {v} must lie in [0, 1]")
        if not 0.0 < self.split_width <= 1.0:
            raise ValueError(f"split_width {self.split_width} must lie in (0, 1]")


def normal_scores(values: np.ndarray) -> np.ndarray:
    """Rank-based normal scores of the finite entries of ``values`` (NaN stays NaN).

    Parameters
    ----------
    values
        1-D float array.

    Returns
    -------
    numpy.ndarray
        ``Phi^-1((rank - 0.5) / n)`` over the finite entries (ties share their average rank).
    """
    out = np.full(values.shape, np.nan)
    ok = np.isfinite(values)
    n = int(ok.sum())
    if n:
        out[ok] = ndtri((rankdata(values[ok]) - 0.5) / n)
    return out


def composite_value_score(
    book_to_price: np.ndarray, sales_growth_5y: np.ndarray, growth_forecast: np.ndarray, params: StyleParams
) -> np.ndarray:
    """CVS of the members of one index (high = value); steps 1-3 of the module docstring."""
    z_bp = normal_scores(book_to_price)
    z_sg = normal_scores(sales_growth_5y)
    z_gf = normal_scores(growth_forecast)
    growth = np.where(
        np.isfinite(z_gf), params.forecast_weight * z_gf + (1.0 - params.forecast_weight) * z_sg, z_sg
    )
    return params.value_weight * z_bp - (1.0 - params.value_weight) * growth


def cap_positions(score: np.ndarray, float_cap: np.ndarray) -> np.ndarray:
    """Each stock's position in [0, 1]: the middle of its slice of cumulative cap, stocks sorted by ``score``.

    Ties in ``score`` are broken by the input order (stable sort), so the result is deterministic.
    """
    if score.size == 0:
        return np.empty(0)
    order = np.argsort(score, kind="stable")
    cap = float_cap[order]
    total = cap.sum()
    before = np.concatenate(([0.0], np.cumsum(cap)[:-1]))
    pos = np.empty(score.size)
    pos[order] = (before + cap / 2.0) / total if total > 0 else (np.arange(score.size) + 0.5) / score.size
    return pos


def value_probability(position: np.ndarray, params: StyleParams) -> np.ndarray:
    """Step 5: ``clip((position - (0.5 - s/2)) / s, 0, 1)``."""
    s = params.split_width
    return np.clip((position - (0.5 - s / 2.0)) / s, 0.0, 1.0)


def band_distance(position: np.ndarray, current: np.ndarray, params: StyleParams) -> np.ndarray:
    """Distance from ``position`` to the positions that give the ``current`` value probability (step 6)."""
    s = params.split_width
    lo_pure, hi_pure = 0.5 - s / 2.0, 0.5 + s / 2.0
    point = lo_pure + current * s
    lo = np.where(current >= 1.0, hi_pure, np.where(current <= 0.0, 0.0, point))
    hi = np.where(current >= 1.0, 1.0, np.where(current <= 0.0, lo_pure, point))
    return np.maximum(0.0, np.maximum(lo - position, position - hi))


def style_probabilities(
    book_to_price: np.ndarray,
    sales_growth_5y: np.ndarray,
    growth_forecast: np.ndarray,
    float_cap: np.ndarray,
    current: np.ndarray,
    params: StyleParams,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value probabilities of the members of one index, with the style band applied.

    Parameters
    ----------
    book_to_price, sales_growth_5y, growth_forecast, float_cap
        Per-member inputs (``growth_forecast`` NaN where absent).
    current
        Current value probability of each member, NaN where it has none or the band must not apply (a new
        member, a migration).
    params
        The function's parameters.

    Returns
    -------
    tuple of numpy.ndarray
        ``(value_probability, position, fresh)``: the probability after the band, the CVS cap position, and the
        probability the position alone gives (before the band).
    """
    cvs = composite_value_score(book_to_price, sales_growth_5y, growth_forecast, params)
    position = cap_positions(cvs, float_cap)
    fresh = value_probability(position, params)
    has = np.isfinite(current)
    keep = np.zeros(current.shape, dtype=bool)
    keep[has] = band_distance(position[has], current[has], params) <= params.band
    return np.where(keep, current, fresh), position, fresh
