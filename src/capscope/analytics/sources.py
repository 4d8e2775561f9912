"""Several sources of one symbol: cross-check them where they overlap, extend the primary with an agreeing one.

Sources follow the ``SYMBOL__source`` convention (:mod:`capscope.data.alternates`). Each source is compared on
one **price basis** (:mod:`capscope.analytics.basis`): the primary's resolved basis, and for the alternate the field
that carries that same basis (an alternate with ``adj_close`` offers a total-return series through it, its raw
``close`` a price-return one). An alternate that cannot offer the primary's basis is neither compared nor spliced:
raw and adjusted prices are never mixed.

**Cross-check.** On the common dates, ``ratio_t = alternate_t / primary_t``. Two dividend-adjusted series adjusted
as of different days differ by one constant factor (every dividend between the two adjustment days multiplies all
earlier prices by the same number), and two raw or index series have ratio 1, so the reference is the median ratio
``m`` and a date **disagrees** when ``|ratio_t / m - 1| > tolerance`` (default 0.1%: the sample's RUT sources
agree within 0.05% on closes, SOURCES.md).

**Extension.** The primary is extended past its last bar ``L`` by the alternate (same basis) that reaches furthest,
when it holds ``L``, shares at least ``min_overlap`` bars with the primary, and agrees on every one of the last
``min_overlap`` common bars. The appended values are the alternate's, scaled by ``primary_L / alternate_L``, so
returns across the splice are the alternate's own returns (a ratio splice). Provenance lists which source gave
which dates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from capscope.analytics.basis import (
    DEFAULT_CLOSE_KINDS,
    CloseKind,
    Override,
    PriceBasis,
    SeriesBasis,
    declared_kind,
    resolve_basis,
)
from capscope.data.panel import Panel

#: Relative tolerance of the cross-check (0.1%).
DEFAULT_TOLERANCE = 0.001
#: Common bars an extension needs, all agreeing, at the end of the overlap.
DEFAULT_MIN_OVERLAP = 20
PRIMARY = "primary"


def _iso(day: Any) -> str:
    return str(np.datetime64(day, "D"))


@dataclass(frozen=True)
class SourceSeries:
    """One source's values of a symbol on one basis.

    Attributes
    ----------
    symbol
        The symbol the source belongs to (``IWO``).
    source
        ``primary`` or the source name (``dsturdy_close_only``).
    name
        The column/file name it was read under (``IWO`` / ``IWO__dsturdy_close_only``).
    dates, values
        Dates with a value, and the values of ``basis.field``.
    basis
        The resolved basis.
    """

    symbol: str
    source: str
    name: str
    dates: np.ndarray
    values: np.ndarray
    basis: SeriesBasis

    @property
    def first(self) -> str | None:
        """First date, ISO."""
        return _iso(self.dates[0]) if len(self.dates) else None

    @property
    def last(self) -> str | None:
        """Last date, ISO."""
        return _iso(self.dates[-1]) if len(self.dates) else None


def _column(panel: Panel, name: str, fld: str) -> tuple[np.ndarray, np.ndarray]:
    if fld not in panel.fields:
        return panel.dates[:0], np.empty(0)
    col = panel[fld][:, panel.column(name)]
    keep = np.isfinite(col) & (col > 0)
    return panel.dates[keep], np.ascontiguousarray(col[keep], dtype=float)


def series_on_basis(
    panel: Panel,
    name: str,
    symbol: str,
    source: str,
    *,
    want: PriceBasis | None = None,
    overrides: Mapping[str, Override] | None = None,
    declarations: Mapping[str, CloseKind] = DEFAULT_CLOSE_KINDS,
) -> SourceSeries | None:
    """The values of column ``name`` of ``panel`` on basis ``want`` (its own resolved basis when ``None``).

    Parameters
    ----------
    panel
        Panel holding ``name``.
    name
        Column (``IWO`` or ``IWO__dsturdy_close_only``).
    symbol, source
        What the column is (``IWO``, ``dsturdy_close_only``).
    want
        Basis required; ``None`` for the column's own resolved basis.
    overrides, declarations
        As in :func:`capscope.analytics.basis.resolve_basis` (an alternate inherits its symbol's declaration).

    Returns
    -------
    SourceSeries or None
        ``None`` when the column cannot offer ``want`` (raw prices cannot stand for adjusted ones, nor the reverse).
    """
    adj = panel["adj_close"][:, panel.column(name)] if "adj_close" in panel.fields else None
    own = resolve_basis(name, adj, overrides=overrides, declarations=declarations)
    chosen: SeriesBasis | None = own
    if want is not None and own.basis != want:
        kind = overrides.get(name) if overrides and name in overrides else declared_kind(name, declarations)
        kind = kind if not isinstance(kind, SeriesBasis) else None
        has_adj = adj is not None and bool(np.any(np.isfinite(adj)))
        if want == PriceBasis.PRICE_RETURN and kind in (CloseKind.RAW, CloseKind.PRICE_INDEX):
            chosen = SeriesBasis(name, "close", PriceBasis.PRICE_RETURN, "raw close (beside its adj_close)")
        elif want == PriceBasis.TOTAL_RETURN and has_adj:
            chosen = SeriesBasis(name, "adj_close", PriceBasis.TOTAL_RETURN, "adj_close column")
        else:
            chosen = None
    if chosen is None:
        return None
    dates, values = _column(panel, name, chosen.field)
    return SourceSeries(symbol, source, name, dates, values, chosen)


@dataclass
class CrossCheck:
    """How an alternate source agrees with the primary on their common dates."""

    symbol: str
    source: str
    compared: bool
    reason: str = ""
    common_bars: int = 0
    first_common: str | None = None
    last_common: str | None = None
    scale: float | None = None
    tolerance: float = DEFAULT_TOLERANCE
    disagreements: list[dict[str, Any]] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        """Compared, overlapping, and no date beyond the tolerance."""
        return self.compared and self.common_bars > 0 and not self.disagreements

    def warning(self, limit: int = 5) -> str | None:
        """A one-paragraph warning naming both sources and the first dates that disagree (``None`` if none)."""
        if not self.disagreements:
            return None
        n = len(self.disagreements)
        shown = ", ".join(f"{d['date']} ({d['difference']:+.2%})" for d in self.disagreements[:limit])
        more = f" and {n - limit} more" if n > limit else ""
        return (
            f"{self.symbol}: sources 'primary' and '{self.source}' disagree by more than {self.tolerance:.2%} on "
            f"{n} of {self.common_bars} common dates: {shown}{more}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "symbol": self.symbol,
            "source": self.source,
            "compared": self.compared,
            "reason": self.reason,
            "common_bars": self.common_bars,
            "first_common": self.first_common,
            "last_common": self.last_common,
            "scale": None if self.scale is None else round(self.scale, 8),
            "tolerance": self.tolerance,
            "disagreements": self.disagreements,
        }


def cross_check(
    primary: SourceSeries,
    alternate: SourceSeries | None,
    *,
    source: str,
    tolerance: float = DEFAULT_TOLERANCE,
) -> CrossCheck:
    """Compare an alternate with the primary on their common dates (module docstring).

    Parameters
    ----------
    primary
        The primary series.
    alternate
        The alternate on the primary's basis, or ``None`` when it cannot offer that basis.
    source
        The alternate's source name (for the report).
    tolerance
        Relative tolerance on ``ratio_t / median ratio - 1``.

    Returns
    -------
    CrossCheck
    """
    if alternate is None:
        return CrossCheck(
            primary.symbol,
            source,
            False,
            f"no {primary.basis.basis} series in this source: raw and adjusted prices are not compared",
            tolerance=tolerance,
        )
    common, ia, ib = np.intersect1d(primary.dates, alternate.dates, assume_unique=True, return_indices=True)
    if len(common) == 0:
        return CrossCheck(primary.symbol, source, True, "no common dates", tolerance=tolerance)
    ratio = alternate.values[ib] / primary.values[ia]
    scale = float(np.median(ratio))
    dev = ratio / scale - 1.0
    bad = np.flatnonzero(np.abs(dev) > tolerance)
    return CrossCheck(
        primary.symbol,
        source,
        True,
        "",
        len(common),
        _iso(common[0]),
        _iso(common[-1]),
        scale,
        tolerance,
        [
            {
                "date": _iso(common[k]),
                "primary": float(primary.values[ia[k]]),
                "alternate": float(alternate.values[ib[k]]),
                "difference": float(dev[k]),
            }
            for k in bad
        ],
    )


@dataclass
class Extended:
    """A primary series extended by alternates, with provenance."""

    symbol: str
    basis: SeriesBasis
    dates: np.ndarray
    values: np.ndarray
    segments: list[dict[str, Any]]
    checks: list[CrossCheck]
    refused: list[dict[str, str]]

    @property
    def warnings(self) -> list[str]:
        """The cross-check warnings (sources disagreeing beyond the tolerance)."""
        return [w for c in self.checks if (w := c.warning()) is not None]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (no values; provenance, checks and refusals)."""
        return {
            "symbol": self.symbol,
            "basis": self.basis.to_dict(),
            "first_date": _iso(self.dates[0]) if len(self.dates) else None,
            "last_date": _iso(self.dates[-1]) if len(self.dates) else None,
            "segments": self.segments,
            "checks": [c.to_dict() for c in self.checks],
            "refused": self.refused,
            "warnings": self.warnings,
        }


def extend(
    primary: SourceSeries,
    alternates: Mapping[str, SourceSeries | None],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    min_overlap: int = DEFAULT_MIN_OVERLAP,
) -> Extended:
    """Cross-check every alternate and extend the primary past its last bar (module docstring).

    Parameters
    ----------
    primary
        The primary series.
    alternates
        Source name -> the alternate on the primary's basis (``None``: it has no such series).
    tolerance
        Cross-check tolerance.
    min_overlap
        Common bars (all agreeing, at the end of the overlap) an extension needs.

    Returns
    -------
    Extended
        The series (primary dates, then the spliced ones), its segments ``{source, first, last, bars}``, the
        cross-checks, and the alternates refused for extension with the reason.
    """
    checks = {
        name: cross_check(primary, alt, source=name, tolerance=tolerance) for name, alt in alternates.items()
    }
    dates, values = primary.dates, primary.values
    segments: list[dict[str, Any]] = []
    if len(dates):
        segments.append(
            {
                "source": PRIMARY,
                "name": primary.name,
                "first": primary.first,
                "last": primary.last,
                "bars": len(dates),
            }
        )
    refused: list[dict[str, str]] = []
    usable = sorted(
        ((n, a) for n, a in alternates.items() if a is not None and len(a.dates)), key=lambda x: x[0]
    )
    usable.sort(key=lambda x: x[1].dates[-1], reverse=True)  # the one reaching furthest first
    for name, alt in alternates.items():
        if alt is None:
            refused.append({"source": name, "reason": checks[name].reason})
    for name, alt in usable:
        if len(dates) == 0 or alt.dates[-1] <= dates[-1]:
            continue
        last = dates[-1]
        at = np.searchsorted(alt.dates, last)
        if at >= len(alt.dates) or alt.dates[at] != last:
            refused.append({"source": name, "reason": f"has no bar on the primary's last date {_iso(last)}"})
            continue
        common, ia, ib = np.intersect1d(dates, alt.dates, assume_unique=True, return_indices=True)
        if len(common) < min_overlap:
            refused.append(
                {"source": name, "reason": f"only {len(common)} common bars (needs {min_overlap})"}
            )
            continue
        tail_ratio = alt.values[ib[-min_overlap:]] / values[ia[-min_overlap:]]
        ref = tail_ratio[-1]
        off = np.flatnonzero(np.abs(tail_ratio / ref - 1.0) > tolerance)
        if len(off):
            bad = ", ".join(_iso(common[-min_overlap:][k]) for k in off[:5])
            refused.append(
                {
                    "source": name,
                    "reason": f"disagrees beyond {tolerance:.2%} on {len(off)} of the last {min_overlap} common bars "
                    f"({bad})",
                }
            )
            continue
        scale = values[-1] / alt.values[at]
        new_dates = alt.dates[at + 1 :]
        new_values = alt.values[at + 1 :] * scale
        segments.append(
            {
                "source": name,
                "name": alt.name,
                "first": _iso(new_dates[0]),
                "last": _iso(new_dates[-1]),
                "bars": len(new_dates),
                "scale": round(float(scale), 8),
                "spliced_after": _iso(last),
            }
        )
        dates = np.concatenate([dates, new_dates])
        values = np.concatenate([values, new_values])
    return Extended(primary.symbol, primary.basis, dates, values, segments, list(checks.values()), refused)


def extend_in_panel(
    panel: Panel,
    symbol: str,
    sources: Sequence[tuple[str, str]],
    *,
    overrides: Mapping[str, Override] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    min_overlap: int = DEFAULT_MIN_OVERLAP,
) -> Extended:
    """:func:`extend` on columns of one panel.

    Parameters
    ----------
    panel
        Holds ``symbol`` (the primary) and the alternates' columns.
    symbol
        The primary column.
    sources
        ``(source name, column)`` of each alternate.
    overrides, tolerance, min_overlap
        As in :func:`series_on_basis` and :func:`extend`.

    Returns
    -------
    Extended
    """
    primary = series_on_basis(panel, symbol, symbol, PRIMARY, overrides=overrides)
    assert primary is not None
    alts = {
        source: series_on_basis(panel, column, symbol, source, want=primary.basis.basis, overrides=overrides)
        for source, column in sources
    }
    return extend(primary, alts, tolerance=tolerance, min_overlap=min_overlap)


def extend_panel(
    panel: Panel,
    symbols: Sequence[str],
    alternates: Mapping[str, Sequence[tuple[str, str]]],
    *,
    overrides: Mapping[str, Override] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    min_overlap: int = DEFAULT_MIN_OVERLAP,
) -> tuple[Panel, dict[str, Extended]]:
    """A panel of ``symbols`` in which each symbol with alternates is extended (:func:`extend`).

    Parameters
    ----------
    panel
        Holds ``symbols`` and the alternates' columns.
    symbols
        The symbols of the result (alternate columns are dropped).
    alternates
        Symbol -> ``(source name, column)`` pairs.
    overrides, tolerance, min_overlap
        As in :func:`extend_in_panel`.

    Returns
    -------
    (Panel, dict)
        The panel on the union of the dates (an extended symbol has a value only in its basis field on the spliced
        dates; its other fields are NaN there) and the :class:`Extended` record of every symbol that had alternates.
    """
    done = {
        sym: extend_in_panel(
            panel, sym, list(alts), overrides=overrides, tolerance=tolerance, min_overlap=min_overlap
        )
        for sym, alts in alternates.items()
        if sym in symbols and alts
    }
    extra = [e.dates for e in done.values() if len(e.segments) > 1]
    dates = np.unique(np.concatenate([panel.dates, *extra])) if extra else panel.dates
    rows = np.searchsorted(dates, panel.dates)
    fields: dict[str, np.ndarray] = {}
    cols = [panel.column(s) for s in symbols]
    for name in panel.fields:
        out = np.full((len(dates), len(symbols)), np.nan)
        out[rows, :] = panel[name][:, cols]
        for j, sym in enumerate(symbols):
            ext = done.get(sym)
            if ext is not None and len(ext.segments) > 1 and name == ext.basis.field:
                out[np.searchsorted(dates, ext.dates), j] = ext.values
        fields[name] = np.ascontiguousarray(out)
    return Panel(dates, tuple(symbols), fields), done
