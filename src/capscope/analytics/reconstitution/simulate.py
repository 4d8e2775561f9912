"""Russell US reconstitution simulator: eligibility, ranks, breakpoints with banding, adds, deletes, migrations,
growth/value moves, float-adjusted weights and the passive trade.

Rules (sources as gathered in ``shared/research/reconstitution.md``; "assumption" marks what no source fixes):

* **Eligibility** on the rank day: price >= $1 and total market cap >= $30 M (investmentexecutive.com 2025,
  citing FTSE Russell); more than 5 % of voting rights in unrestricted hands (LSEG "2023 Russell Reconstitution
  recap"); float above 5 % (secondary source); country US (the country column holds the country the index
  rules assign); security types ``common`` and ``reit`` (ADRs, MLPs, BDCs and preferreds are excluded; REITs are
  eligible — secondary source; the other types of :data:`capscope.data.universe.SECURITY_TYPES` are assumed
  excluded).
* **Ranking** by total market cap (price x total shares) on the rank day, largest first; ties by symbol.
  Russell 3000E = the largest 4,000 eligible, Russell 1000 = the top 1,000, Russell 2000 = the next 2,000
  (russell.com legacy pages). One row is one company: share classes are not grouped (the published 2024 count
  of 3,023 securities for 3,000 companies includes extra share classes, which this table does not model).
* **Banding** (since 2007; marketsmedia.com on the Dec 2023 consultation, russelletfs.com). How it is read here:
  the *cumulative market-cap percentile* of a company is 100 x (total cap of every eligible company ranked at or
  above it) / (total cap of the Russell 3000E). The breakpoint percentile ``B`` is that of the company ranked
  1,000. A current **R1000** member stays in the R1000 while its percentile is <= ``B + 2.5``; above it, it moves
  to the R2000 (or out, below rank 3,000). A current **R2000** member ranked within the top 1,000 stays in the
  R2000 while its percentile is >= ``B - 2.5``; below that it moves to the R1000. Companies that are in neither
  index are placed by rank alone. The R2000/microcap boundary (rank 3,000) has no band (other breakpoints'
  bands are not confirmed by the sources): the R3000 is exactly the top 3,000 companies.
* **Styles**: :mod:`capscope.analytics.reconstitution.style`, per index over the new members. **December**
  (LSEG, 16 Feb 2026): style changes only for additions and size-driven moves (migrations); every other member
  keeps its ``current_style`` (without one, it gets the probability its position gives). In June the style
  band decides.
* **Weights**: float-adjusted cap (total cap x float fraction) over the index's float-adjusted cap. Weights before
  are those of the current members at rank-day prices (an assumption: the simulator has no other prices).
* **Passive trade**: shares = sum over indexes of (weight after - weight before) x assets indexed to that index /
  price; value = shares x price; days of volume = |shares| / average daily volume. Largest |value| first. Style
  indexes' own passive flows are not modelled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import polars as pl

from capscope.analytics.reconstitution.style import StyleParams, style_probabilities
from capscope.errors import UsageError

R1000: Final = "R1000"
R2000: Final = "R2000"
INDEXES: Final = (R1000, R2000)


@dataclass(frozen=True)
class ReconParams:
    """Rules of a simulated reconstitution (defaults: the Russell US rules in the module docstring).

    Attributes
    ----------
    reconstitution
        ``june`` or ``december`` (December: styles change only for additions and migrations).
    r1000_size, r2000_size, r3000e_size
        1,000, 2,000 and 4,000 companies.
    banding
        Apply the band around the R1000/R2000 breakpoint.
    band_pp
        Half-width of the band in percentage points of cumulative market-cap percentile (2.5).
    min_price, min_total_cap
        $1 and $30 M.
    min_voting, min_float
        Fractions that voting rights and float must exceed (0.05 each).
    countries
        Eligible countries (``US``).
    eligible_types
        Eligible security types (``common``, ``reit``).
    style
        Parameters of the style function.
    """

    reconstitution: str = "june"
    r1000_size: int = 1000
    r2000_size: int = 2000
    r3000e_size: int = 4000
    banding: bool = True
    band_pp: float = 2.5
    min_price: float = 1.0
    min_total_cap: float = 30e6
    min_voting: float = 0.05
    min_float: float = 0.05
    countries: tuple[str, ...] = ("US",)
    eligible_types: tuple[str, ...] = ("common", "reit")
    style: StyleParams = field(default_factory=StyleParams)

    def __post_init__(self) -> None:
        if self.reconstitution not in ("june", "december"):
            raise UsageError(f"reconstitution {self.reconstitution!r}: choose one of june, december")
        if not (
            self.r1000_size > 0
            and self.r2000_size > 0
            and self.r1000_size + self.r2000_size <= self.r3000e_size
        ):
            raise UsageError("index sizes must be positive with R1000 + R2000 <= R3000E")
        if self.band_pp < 0:
            raise UsageError(f"band {self.band_pp} must be >= 0 percentage points")


@dataclass(frozen=True)
class IndexedAssets:
    """USD passively indexed to each index (0 where unknown)."""

    r1000: float = 0.0
    r2000: float = 0.0

    def of(self, index: str) -> float:
        """Assets indexed to ``index``."""
        return self.r1000 if index == R1000 else self.r2000


def eligibility_reasons(frame: pl.DataFrame, params: ReconParams) -> list[str | None]:
    """Why each row is not eligible (``None`` where it is), first failing rule only."""
    cap = frame["price"].to_numpy() * frame["shares_total"].to_numpy()
    out: list[str | None] = []
    for price, c, voting, flt, country, kind in zip(
        frame["price"].to_list(),
        cap.tolist(),
        frame["voting_fraction"].to_list(),
        frame["float_fraction"].to_list(),
        frame["country"].to_list(),
        frame["security_type"].to_list(),
        strict=True,
    ):
        if kind not in params.eligible_types:
            out.append(f"security type {kind} is excluded")
        elif country not in params.countries:
            out.append(f"country {country} is not {'/'.join(params.countries)}")
        elif price < params.min_price:
            out.append(f"price {price:.2f} below ${params.min_price:g}")
        elif c < params.min_total_cap:
            out.append(f"total cap ${c / 1e6:.1f} M below ${params.min_total_cap / 1e6:g} M")
        elif not voting > params.min_voting:
            out.append(f"voting rights {voting:.1%} not above {params.min_voting:.0%}")
        elif not flt > params.min_float:
            out.append(f"float {flt:.1%} not above {params.min_float:.0%}")
        else:
            out.append(None)
    return out


def assign_indexes(
    total_cap: np.ndarray,
    eligible: np.ndarray,
    current: np.ndarray,
    symbols: np.ndarray,
    params: ReconParams,
) -> dict[str, np.ndarray]:
    """Ranks, cumulative percentiles and index membership with and without banding.

    Parameters
    ----------
    total_cap
        Total market cap of each row.
    eligible
        Boolean eligibility of each row.
    current
        Current index of each row (``"R1000"``, ``"R2000"`` or ``""``).
    symbols
        Symbols (ties in cap are ranked by symbol).
    params
        Rules.

    Returns
    -------
    dict of numpy.ndarray
        ``rank`` (1-based, 0 where ineligible), ``cum_pct`` (NaN where ineligible or outside the R3000E),
        ``index`` and ``index_rank_only`` (``"R1000"``, ``"R2000"`` or ``""``), and the scalar arrays
        ``breakpoint_pct`` and ``breakpoint_rank``.
    """
    n = total_cap.size
    idx = np.flatnonzero(eligible)
    # largest first, ties by symbol: lexsort keys are applied last-first
    order = idx[np.lexsort((symbols[idx], -total_cap[idx]))]
    rank = np.zeros(n, dtype=np.int64)
    rank[order] = np.arange(1, order.size + 1)
    in_3000e = order[: params.r3000e_size]
    cum_pct = np.full(n, np.nan)
    total = total_cap[in_3000e].sum()
    if total > 0:
        cum_pct[in_3000e] = 100.0 * np.cumsum(total_cap[in_3000e]) / total
    r3000 = params.r1000_size + params.r2000_size
    by_rank = np.full(n, "", dtype=object)
    by_rank[(rank >= 1) & (rank <= params.r1000_size)] = R1000
    by_rank[(rank > params.r1000_size) & (rank <= r3000)] = R2000
    k = min(params.r1000_size, order.size)
    breakpoint_pct = float(cum_pct[order[k - 1]]) if k else float("nan")
    index = by_rank.copy()
    if params.banding and k:
        in_r3000 = (rank >= 1) & (rank <= r3000)
        stay_1000 = (current == R1000) & in_r3000 & (cum_pct <= breakpoint_pct + params.band_pp)
        stay_2000 = (current == R2000) & in_r3000 & (cum_pct >= breakpoint_pct - params.band_pp)
        index[stay_1000] = R1000
        index[stay_2000] = R2000
    return {
        "rank": rank,
        "cum_pct": cum_pct,
        "index": index,
        "index_rank_only": by_rank,
        "breakpoint_pct": np.array(breakpoint_pct),
        "breakpoint_rank": np.array(k),
    }


def float_weights(float_cap: np.ndarray, index: np.ndarray) -> dict[str, np.ndarray]:
    """Weight of each row in each index (0 outside it): float cap over the index's float cap."""
    out = {}
    for name in INDEXES:
        member = index == name
        total = float_cap[member].sum()
        w = np.zeros(float_cap.size)
        if total > 0:
            w[member] = float_cap[member] / total
        out[name] = w
    return out


def adv_from_bars(bars: pl.DataFrame, rank_date: dt.date, window: int) -> dict[str, float]:
    """Average daily volume (shares) over the last ``window`` bars strictly before ``rank_date``, per symbol.

    Only bars dated before the rank day are used (no look-ahead); symbols with no volume there are left out.
    """
    if window < 1:
        raise UsageError(f"--adv-window {window}: must be >= 1")
    recent = (
        bars.filter((pl.col("date") < rank_date) & pl.col("volume").is_not_null())
        .sort(["symbol", "date"])
        .group_by("symbol", maintain_order=True)
        .tail(window)
        .group_by("symbol")
        .agg(pl.col("volume").mean().alias("adv"))
    )
    return {str(s): float(v) for s, v in recent.iter_rows()}


@dataclass(frozen=True)
class ReconResult:
    """A simulated reconstitution.

    Attributes
    ----------
    rank_date
        Rank day.
    params
        Rules used.
    frame
        One row per security: inputs plus ``total_cap``, ``float_cap``, ``eligible``, ``reason``, ``rank``,
        ``cum_pct``, ``index_before``, ``index`` (after, with banding), ``index_rank_only``, ``weight_before``,
        ``weight``, ``value_probability`` (after), ``style_position``, ``style_fresh``, ``shares``,
        ``trade_value``, ``adv``, ``days_of_adv``.
    breakpoints
        Breakpoints, band and counts (JSON-ready).
    """

    rank_date: dt.date
    params: ReconParams
    frame: pl.DataFrame
    breakpoints: dict[str, Any]

    def _rows(
        self, mask: pl.Expr, columns: dict[str, str], sort: str | None = None, descending: bool = False
    ) -> list[dict[str, Any]]:
        part = self.frame.filter(mask)
        if sort is not None:
            part = part.sort(sort, descending=descending, nulls_last=True)
        return [{out: _clean(row[src]) for out, src in columns.items()} for row in part.iter_rows(named=True)]

    def adds(self) -> list[dict[str, Any]]:
        """Companies joining the R1000 or R2000 that are in neither today, largest first."""
        return self._rows(
            (pl.col("index_before") == "") & (pl.col("index") != ""),
            {"symbol": "symbol", "index": "index", "rank": "rank", "total_cap": "total_cap"},
            "rank",
        )

    def deletes(self) -> list[dict[str, Any]]:
        """Current members leaving both indexes, with the reason."""
        return self._rows(
            (pl.col("index_before") != "") & (pl.col("index") == ""),
            {
                "symbol": "symbol",
                "from": "index_before",
                "rank": "rank",
                "total_cap": "total_cap",
                "reason": "reason",
            },
            "total_cap",
            descending=True,
        )

    def migrations(self) -> dict[str, list[dict[str, Any]]]:
        """R1000 <-> R2000 moves with banding, by rank alone, and the members the band held."""
        cols = {
            "symbol": "symbol",
            "from": "index_before",
            "to": "index",
            "rank": "rank",
            "cum_pct": "cum_pct",
        }
        moved = (
            (pl.col("index_before") != "")
            & (pl.col("index") != "")
            & (pl.col("index_before") != pl.col("index"))
        )
        rank_cols = dict(cols, to="index_rank_only")
        moved_rank_only = (
            (pl.col("index_before") != "")
            & (pl.col("index_rank_only") != "")
            & (pl.col("index_before") != pl.col("index_rank_only"))
        )
        held = moved_rank_only & (pl.col("index") == pl.col("index_before"))
        return {
            "with_banding": self._rows(moved, cols, "rank"),
            "without_banding": self._rows(moved_rank_only, rank_cols, "rank"),
            "held_by_band": self._rows(
                held,
                {
                    "symbol": "symbol",
                    "index": "index",
                    "rank": "rank",
                    "cum_pct": "cum_pct",
                    "without_band": "index_rank_only",
                },
                "rank",
            ),
        }

    def style_moves(self) -> list[dict[str, Any]]:
        """Members whose value probability differs from their ``current_style``."""
        part = self.frame.filter(
            (pl.col("index") != "")
            & pl.col("current_style").is_not_null()
            & ((pl.col("value_probability") - pl.col("current_style")).abs() > 1e-9)
        ).sort("rank")
        out = []
        for r in part.iter_rows(named=True):
            if r["index_before"] == "":
                why = "addition"
            elif r["index_before"] != r["index"]:
                why = f"migration {r['index_before']} -> {r['index']}"
            else:
                why = "style score moved beyond the band"
            out.append(
                {
                    "symbol": r["symbol"],
                    "index": r["index"],
                    "from_value_probability": _clean(r["current_style"]),
                    "to_value_probability": _clean(r["value_probability"]),
                    "reason": why,
                }
            )
        return out

    def demand(self) -> list[dict[str, Any]]:
        """Passive trade per security with a weight change, largest |value| first (|weight change| without assets).

        With assets, securities whose trade is zero (a change only in an index with no assets given) are left out.
        """
        # with assets, a weight change in an index nobody tracks here trades nothing and is left out
        moves = (pl.col("weight") - pl.col("weight_before")).abs() > 0
        traded = pl.col("trade_value").is_null() | (pl.col("trade_value") != 0)
        part = self.frame.filter(moves & traded).with_columns(
            (pl.col("weight") - pl.col("weight_before")).alias("weight_change"),
            pl.col("trade_value").abs().alias("__abs_value"),
            (pl.col("weight") - pl.col("weight_before")).abs().alias("__abs_w"),
        )
        part = part.sort(["__abs_value", "__abs_w"], descending=True, nulls_last=True)
        cols = {
            "symbol": "symbol",
            "index_before": "index_before",
            "index_after": "index",
            "weight_before": "weight_before",
            "weight_after": "weight",
            "weight_change": "weight_change",
            "price": "price",
            "shares": "shares",
            "value": "trade_value",
            "adv": "adv",
            "days_of_adv": "days_of_adv",
        }
        return [{o: _clean(r[s]) for o, s in cols.items()} for r in part.iter_rows(named=True)]

    def members(self) -> list[dict[str, Any]]:
        """Every security: index after (``None`` outside), rank, total cap, weight, value probability."""
        part = self.frame.with_columns(
            pl.when(pl.col("rank") > 0).then(pl.col("rank")).otherwise(None).alias("__rank")
        )
        part = part.sort(["__rank", "symbol"], nulls_last=True)
        return [
            {
                "symbol": r["symbol"],
                "index": r["index"] or None,
                "rank": r["__rank"],
                "total_cap": _clean(r["total_cap"]),
                "weight": _clean(r["weight"]) if r["index"] else None,
                "value_probability": _clean(r["value_probability"]) if r["index"] else None,
            }
            for r in part.iter_rows(named=True)
        ]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``capscope recon run``: rank_date, breakpoints, members, adds, deletes, migrations,
        style_moves, demand."""
        return {
            "rank_date": self.rank_date.isoformat(),
            "breakpoints": self.breakpoints,
            "members": self.members(),
            "adds": self.adds(),
            "deletes": self.deletes(),
            "migrations": self.migrations(),
            "style_moves": self.style_moves(),
            "demand": self.demand(),
        }


def _clean(x: Any) -> Any:
    """JSON-safe scalar: NaN -> None, numpy -> Python."""
    if isinstance(x, float) and x != x:
        return None
    if isinstance(x, np.generic):
        return _clean(x.item())
    return x


def simulate(
    universe: pl.DataFrame,
    rank_date: dt.date,
    *,
    params: ReconParams | None = None,
    assets: IndexedAssets | None = None,
    adv: dict[str, float] | None = None,
) -> ReconResult:
    """Simulate one reconstitution of ``universe`` (a table checked by :func:`capscope.data.universe.read_universe`).

    Parameters
    ----------
    universe
        One row per security with the columns of :data:`capscope.data.universe.COLUMNS`.
    rank_date
        Rank day (reported; used by the caller to pick volume before it).
    params
        Rules (default: :class:`ReconParams`).
    assets
        USD indexed to each index; without it shares, values and days are null.
    adv
        Average daily volume by symbol for rows whose ``adv`` is empty.

    Returns
    -------
    ReconResult
    """
    p = params or ReconParams()
    n = universe.height
    symbols = np.asarray(universe["symbol"].to_list(), dtype=object)
    price = universe["price"].to_numpy().astype(np.float64)
    total_cap = price * universe["shares_total"].to_numpy()
    float_cap = total_cap * universe["float_fraction"].to_numpy()
    reasons = eligibility_reasons(universe, p)
    eligible = np.array([r is None for r in reasons], dtype=bool)
    current = np.asarray(universe["current_index"].fill_null("").to_list(), dtype=object)
    placed = assign_indexes(total_cap, eligible, current, symbols, p)
    rank, index, by_rank = placed["rank"], placed["index"], placed["index_rank_only"]
    r3000 = p.r1000_size + p.r2000_size
    reason = np.array(reasons, dtype=object)
    out_by_rank = eligible & (index == "")
    reason[out_by_rank] = [f"rank {r} below the R3000 cutoff (rank {r3000})" for r in rank[out_by_rank]]

    # styles, per index over the new members
    cur_style = universe["current_style"].to_numpy().astype(np.float64)
    value_prob = np.full(n, np.nan)
    position = np.full(n, np.nan)
    fresh = np.full(n, np.nan)
    bp = universe["book_to_price"].to_numpy().astype(np.float64)
    sg = universe["sales_growth_5y"].to_numpy().astype(np.float64)
    gf = universe["growth_forecast"].to_numpy().astype(np.float64)
    stays = (current == index) & (index != "")
    for name in INDEXES:
        m = np.flatnonzero(index == name)
        if m.size == 0:
            continue
        # the band applies to members staying in the same index; additions and migrations start afresh
        cur = np.where(stays[m], cur_style[m], np.nan)
        v, pos, fr = style_probabilities(bp[m], sg[m], gf[m], float_cap[m], cur, p.style)
        if p.reconstitution == "december":
            # LSEG 16 Feb 2026: December style changes only for additions and size-driven moves
            v = np.where(stays[m] & np.isfinite(cur_style[m]), cur_style[m], v)
        value_prob[m], position[m], fresh[m] = v, pos, fr

    before = float_weights(float_cap, current)
    after = float_weights(float_cap, index)
    weight_before = np.select([current == R1000, current == R2000], [before[R1000], before[R2000]], 0.0)
    weight_after = np.select([index == R1000, index == R2000], [after[R1000], after[R2000]], 0.0)

    adv_col = universe["adv"].to_numpy().astype(np.float64)
    if adv:
        fill = np.array([adv.get(s, np.nan) for s in symbols])
        adv_col = np.where(np.isfinite(adv_col), adv_col, fill)
    if assets is not None:
        delta = sum((after[i] - before[i]) * assets.of(i) for i in INDEXES)
        shares = np.asarray(delta, dtype=np.float64) / price
        trade_value = shares * price
        days = np.full(n, np.nan)
        with np.errstate(over="ignore"):  # a vanishing adv gives an infinite number of days, not a warning
            np.divide(np.abs(shares), adv_col, out=days, where=adv_col > 0)
    else:
        shares = trade_value = days = np.full(n, np.nan)

    frame = universe.drop("__line", strict=False).with_columns(
        pl.Series("total_cap", total_cap),
        pl.Series("float_cap", float_cap),
        pl.Series("eligible", eligible),
        pl.Series("reason", reason.tolist(), dtype=pl.String),
        pl.Series("rank", rank),
        pl.Series("cum_pct", placed["cum_pct"]),
        pl.Series("index_before", current.tolist(), dtype=pl.String),
        pl.Series("index", index.tolist(), dtype=pl.String),
        pl.Series("index_rank_only", by_rank.tolist(), dtype=pl.String),
        pl.Series("weight_before", weight_before),
        pl.Series("weight", weight_after),
        pl.Series("value_probability", value_prob),
        pl.Series("style_position", position),
        pl.Series("style_fresh", fresh),
        pl.Series("shares", shares),
        pl.Series("trade_value", trade_value),
        pl.Series("adv", adv_col),
        pl.Series("days_of_adv", days),
    )
    frame = frame.with_columns(
        pl.col(c).fill_nan(None)
        for c in (
            "cum_pct",
            "value_probability",
            "style_position",
            "style_fresh",
            "shares",
            "trade_value",
            "adv",
            "days_of_adv",
        )
    )
    breakpoints = _breakpoints(frame, placed, p)
    return ReconResult(rank_date, p, frame, breakpoints)


def _cap_at_rank(frame: pl.DataFrame, r: int) -> float | None:
    hit = frame.filter(pl.col("rank") == r)["total_cap"]
    return float(hit[0]) if hit.len() else None


def _breakpoints(frame: pl.DataFrame, placed: dict[str, np.ndarray], p: ReconParams) -> dict[str, Any]:
    k = int(placed["breakpoint_rank"])
    bpct = float(placed["breakpoint_pct"])
    r3000 = p.r1000_size + p.r2000_size

    def count(col: str, name: str) -> int:
        return int((frame[col] == name).sum())

    members = frame.filter(pl.col("index") != "")
    in_1000 = frame.filter(pl.col("index") == R1000)["total_cap"]
    in_3000 = members["total_cap"]
    return {
        "reconstitution": p.reconstitution,
        "r1000_r2000": {
            "rank": k,
            "total_cap": _cap_at_rank(frame, k) if k else None,
            "cum_pct": None if bpct != bpct else bpct,
            "banding": p.banding,
            "band_pp": p.band_pp,
            "band_low_pct": None if bpct != bpct else max(bpct - p.band_pp, 0.0),
            "band_high_pct": None if bpct != bpct else min(bpct + p.band_pp, 100.0),
        },
        "r2000_lower": {"rank": r3000, "total_cap": _cap_at_rank(frame, r3000)},
        "r3000e_lower": {"rank": p.r3000e_size, "total_cap": _cap_at_rank(frame, p.r3000e_size)},
        "smallest_r1000_cap": float(in_1000.min()) if in_1000.len() else None,  # type: ignore[arg-type]
        "smallest_r3000_cap": float(in_3000.min()) if in_3000.len() else None,  # type: ignore[arg-type]
        "r3000_total_cap": float(in_3000.sum()),
        "counts": {
            "securities": frame.height,
            "eligible": int(frame["eligible"].sum()),
            "R1000": count("index", R1000),
            "R2000": count("index", R2000),
            "R1000_without_banding": count("index_rank_only", R1000),
            "R2000_without_banding": count("index_rank_only", R2000),
            "R1000_before": count("index_before", R1000),
            "R2000_before": count("index_before", R2000),
        },
    }
