"""Generated universe tables calibrated to published Russell figures (for tests, the docs' worked example and
what-if studies; never real company data).

Calibration targets (LSEG press releases on the 2024 reconstitution, via ``shared/research/reconstitution.md``):
R1000/R2000 breakpoint $4.6 B, smallest Russell 3000 company $150.4 M, Russell 3000 total cap $53.0 T, breakpoint
up 9.5 % on the year.

Construction:

1. A rank curve of total cap: a power law ``cap(r) = breakpoint * (r / 1000) ** -a`` between ranks 1,000 and
   3,000 with ``a`` fixed by the breakpoint and the smallest R3000 cap, continued to the bottom of the universe,
   and ``cap(r) = breakpoint * (r / 1000) ** -b`` above rank 1,000 with ``b`` solved so that the top 3,000 sum to
   the R3000 total.
2. This year's caps are the curve at each rank times ``exp(N(0, cap_noise))``, so the figures come out with
   noise (and companies change places), not exactly by construction.
3. Last year's caps are this year's divided by ``exp(return)``, ``return ~ N(log(1 + growth), sigma)``. Last
   year's universe (with slightly different style inputs) is run through the simulator with no members; its
   indexes and value probabilities become this year's ``current_index`` and ``current_style``.
4. A share of extra rows is ineligible (ADRs, foreign companies, penny stocks, tiny caps, low float or votes).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from scipy.optimize import brentq

from capscope.analytics.reconstitution.simulate import ReconParams, simulate
from capscope.data.universe import COLUMNS

#: 2024 figures (LSEG press release "begins 36th annual reconstitution").
BREAKPOINT_2024 = 4.6e9
SMALLEST_R3000_2024 = 150.4e6
R3000_TOTAL_2024 = 53.0e12
BREAKPOINT_GROWTH_2024 = 0.095


def cap_curve(
    n: int,
    *,
    breakpoint: float = BREAKPOINT_2024,
    smallest_r3000: float = SMALLEST_R3000_2024,
    r3000_total: float = R3000_TOTAL_2024,
) -> tuple[float, float]:
    """Exponents ``(b, a)`` of the rank curve above and below rank 1,000 (see the module docstring)."""
    a = float(np.log(breakpoint / smallest_r3000) / np.log(3.0))
    ranks = np.arange(1, 3001, dtype=np.float64)
    lower = breakpoint * (ranks[1000:] / 1000.0) ** -a
    target_top = r3000_total - lower.sum()

    def excess(b: float) -> float:
        return float((breakpoint * (ranks[:1000] / 1000.0) ** -b).sum() - target_top)

    b = float(brentq(excess, 0.1, 3.0))
    return b, a


def _caps_at(position: np.ndarray, b: float, a: float, breakpoint: float) -> np.ndarray:
    x = position / 1000.0
    return np.where(x <= 1.0, breakpoint * x**-b, breakpoint * x**-a)


def _style_inputs(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    gf = rng.normal(0.10, 0.10, n)
    gf[rng.random(n) < 0.15] = np.nan  # no analyst forecast
    return {
        "book_to_price": np.exp(rng.normal(np.log(0.45), 0.7, n)),
        "sales_growth_5y": rng.normal(0.06, 0.10, n),
        "growth_forecast": gf,
    }


def synthetic_universe(
    n_eligible: int = 4600,
    *,
    seed: int = 0,
    breakpoint: float = BREAKPOINT_2024,
    smallest_r3000: float = SMALLEST_R3000_2024,
    r3000_total: float = R3000_TOTAL_2024,
    growth: float = BREAKPOINT_GROWTH_2024,
    return_sigma: float = 0.35,
    style_drift: float = 0.15,
    ineligible_share: float = 0.08,
    cap_noise: float = 0.05,
) -> pl.DataFrame:
    """A universe table (the columns of :func:`capscope.data.universe.read_universe`) calibrated as described.

    Parameters
    ----------
    n_eligible
        Eligible companies (>= 3,000 so the R3000 fills).
    seed
        Random seed; the same seed gives the same table.
    breakpoint, smallest_r3000, r3000_total
        Calibration targets (2024 figures by default).
    growth
        Market growth over the year (breakpoint +9.5 % in 2024).
    return_sigma
        Dispersion of one-year log returns across companies (drives migrations and banding).
    style_drift
        Dispersion of the year's change in the style inputs (in units of their own spread).
    ineligible_share
        Extra ineligible rows, as a share of ``n_eligible``.
    cap_noise
        Dispersion of the log caps around the rank curve.

    Returns
    -------
    polars.DataFrame
    """
    if n_eligible < 3000:
        raise ValueError("n_eligible must be >= 3000 so that the R3000 fills")
    rng = np.random.default_rng(seed)
    b, a = cap_curve(
        n_eligible, breakpoint=breakpoint, smallest_r3000=smallest_r3000, r3000_total=r3000_total
    )
    cap = _caps_at(np.arange(1, n_eligible + 1, dtype=np.float64), b, a, breakpoint)
    cap = cap * np.exp(rng.normal(0.0, cap_noise, n_eligible))
    rng.shuffle(cap)
    n_bad = round(ineligible_share * n_eligible)
    n = n_eligible + n_bad
    symbols = [f"X{i:05d}" for i in range(n)]
    price = np.exp(rng.normal(np.log(30.0), 0.9, n)).clip(1.5, 2000.0)
    kind = np.full(n, "common", dtype=object)
    kind[rng.random(n) < 0.12] = "reit"
    country = np.full(n, "US", dtype=object)
    float_fraction = rng.beta(8, 2, n).clip(0.06, 1.0)
    voting = np.where(rng.random(n) < 0.9, 1.0, rng.uniform(0.06, 1.0, n))
    # ineligible rows: caps drawn from the same curve, one failing rule each
    bad_cap = _caps_at(rng.uniform(0.5, n_eligible + 0.5, n_bad), b, a, breakpoint)
    cap = np.concatenate((cap, bad_cap))
    rules = rng.integers(0, 6, n_bad)
    for j, rule in enumerate(rules):
        i = n_eligible + j
        if rule == 0:
            kind[i] = ("adr", "mlp", "bdc", "preferred")[j % 4]
        elif rule == 1:
            country[i] = ("CA", "GB", "IL", "BM")[j % 4]
        elif rule == 2:
            price[i] = rng.uniform(0.1, 0.99)
        elif rule == 3:
            cap[i] = rng.uniform(5e6, 29e6)
        elif rule == 4:
            float_fraction[i] = rng.uniform(0.0, 0.05)
        else:
            voting[i] = rng.uniform(0.0, 0.05)
    shares = cap / price
    style_now = _style_inputs(rng, n)
    # last year: caps before this year's returns, style inputs before this year's drift
    returns = rng.normal(np.log1p(growth), return_sigma, n)
    last_cap = cap / np.exp(returns)
    style_then = {
        k: v + style_drift * np.nanstd(v) * rng.standard_normal(n)
        if k != "book_to_price"
        else v * np.exp(style_drift * rng.standard_normal(n))
        for k, v in style_now.items()
    }
    turnover = np.exp(rng.normal(np.log(0.008), 0.5, n))  # daily volume / float shares
    base = {
        "symbol": symbols,
        "shares_total": shares,
        "float_fraction": float_fraction,
        "voting_fraction": voting,
        "country": country.tolist(),
        "security_type": kind.tolist(),
    }
    last_year = pl.DataFrame(
        {
            **base,
            "price": last_cap / shares,
            **style_then,
            "current_index": [None] * n,
            "current_style": np.full(n, np.nan),
            "adv": np.full(n, np.nan),
        }
    ).with_columns(pl.col("current_index").cast(pl.String), pl.col("current_style").fill_nan(None))
    before = simulate(last_year, dt.date(2000, 1, 1), params=ReconParams()).frame
    current_index = [x or None for x in before["index"].to_list()]
    current_style = before["value_probability"].to_numpy()
    table = pl.DataFrame(
        {
            **base,
            "price": price,
            **style_now,
            "current_index": current_index,
            "current_style": current_style,
            "adv": shares * float_fraction * turnover,
        }
    ).with_columns(pl.col(c).fill_nan(None) for c in ("growth_forecast", "current_style"))
    return table.select(COLUMNS)  # the universe-table layout of capscope.data.universe
