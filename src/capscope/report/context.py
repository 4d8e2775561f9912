"""What every brief section receives (:class:`SectionContext`) and returns (:class:`SectionResult`).

A section module (``capscope.report.sections.<name>``) is a function ``build(ctx) -> SectionResult``: it reads
analytics results for the context's data and words them as facts. It never computes a statistic itself
(DESIGN.md, "Trust rules": one computation, one place).

A fact is ``{id, section, text, value, unit, inputs}``; ``inputs["last_bar"]`` is the last bar the fact used
(ISO date, or ``None`` for a fact that uses no bars, such as a calendar date computed from rules).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from capscope.analytics.series import Series1
from capscope.analytics.staleness import FRESH_SESSIONS, sessions_behind
from capscope.analytics.technical import TechnicalParams, TechnicalState, signal_events, technical_state
from capscope.data.panel import Panel

if TYPE_CHECKING:
    import pandas as pd


def iso(day: Any) -> str:
    """``YYYY-MM-DD`` of a date-like value."""
    return str(np.datetime64(day, "D"))


@dataclass(frozen=True)
class BriefParams:
    """What the brief is about and the analysis parameters; every key of :meth:`to_dict` is read by a section
    (brief.json ``params``; tested by changing each one)."""

    symbol: str = "RUT"
    benchmark: str = "GSPC"
    growth: str = "IWO"
    value: str = "IWN"
    fast: int = 50
    slow: int = 200
    macd_fast: int = 12
    macd_slow: int = 26
    macd_signal: int = 9
    rsi_window: int = 14
    rs_window: int = 50
    ytd: bool = True
    period_months: tuple[int, ...] = (1, 3, 6, 12)
    low_window: int = 252
    leadership_windows: tuple[int, ...] = (21, 63, 126)
    fresh_sessions: int = FRESH_SESSIONS
    chart_bars: int = 504
    pattern_bars: int = 1260
    max_patterns: int = 3
    event_bars: int = 252
    horizons: tuple[int, ...] = (20, 60)

    def technical(self) -> TechnicalParams:
        """The technical windows."""
        return TechnicalParams(
            self.fast, self.slow, self.macd_fast, self.macd_slow, self.macd_signal, self.rsi_window
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (brief.json ``params``)."""
        return {
            "symbol": self.symbol,
            "benchmark": self.benchmark,
            "growth": self.growth,
            "value": self.value,
            "sma_fast": self.fast,
            "sma_slow": self.slow,
            "macd": {"fast": self.macd_fast, "slow": self.macd_slow, "signal": self.macd_signal},
            "rsi_window": self.rsi_window,
            "rs_window": self.rs_window,
            "periods": {"ytd": self.ytd, "months": list(self.period_months), "low_window": self.low_window},
            "leadership_windows": list(self.leadership_windows),
            "fresh_sessions": self.fresh_sessions,
            "chart_bars": self.chart_bars,
            "pattern_bars": self.pattern_bars,
            "max_patterns": self.max_patterns,
            "event_bars": self.event_bars,
            "horizons": list(self.horizons),
        }


@dataclass
class BriefInputs:
    """Everything a brief is computed from.

    Attributes
    ----------
    prices
        Panel of the index/ETF symbols (symbol, benchmark, growth, value, ...).
    universe
        Panel of the breadth universe (small-cap stocks), or ``None``.
    universe_name
        Name of the universe for the text (e.g. ``stocks``).
    provenance
        Symbol -> ``{first_date, last_date, rows, source}`` as found in the store or files.
    origin
        Where the data was read from (``store <path>`` / ``files <dir>``).
    """

    prices: Panel
    universe: Panel | None = None
    universe_name: str = "stocks"
    provenance: dict[str, dict[str, Any]] = field(default_factory=dict)
    origin: str = "files"


@dataclass(eq=False)
class SectionContext:
    """The data of one brief, cut at its as-of date, and the analytics results several sections share.

    Attributes
    ----------
    params
        The brief's parameters.
    as_of
        The brief date: the main symbol's last bar on or before the requested date.
    prices, universe
        Panels truncated at ``as_of``.
    universe_name
        Name of the breadth universe.
    main
        The main symbol's bars; its dates are the sessions staleness is counted in.
    """

    params: BriefParams
    as_of: np.datetime64
    prices: Panel
    universe: Panel | None
    universe_name: str
    main: Series1

    @cached_property
    def technical(self) -> TechnicalState:
        """SMAs, MACD and RSI of the main symbol."""
        return technical_state(self.main, self.params.technical())

    @cached_property
    def events(self) -> pd.DataFrame:
        """Signal events of the main symbol (the events ``capscope scan`` finds with these windows)."""
        return signal_events(self.main, self.params.technical())

    def sessions_behind(self, last: Any) -> int:
        """Sessions of the main symbol between ``last`` and the brief date."""
        return sessions_behind(self.main.dates, np.datetime64(last, "D"), self.as_of)

    def is_fresh(self, last: Any) -> bool:
        """True when data ending on ``last`` reaches the brief date (within ``params.fresh_sessions``)."""
        return self.sessions_behind(last) <= self.params.fresh_sessions


@dataclass
class SectionResult:
    """The facts, table and brief.json parts one section produced."""

    section: str
    facts: list[dict[str, Any]] = field(default_factory=list)
    table: dict[str, Any] | None = None
    parts: dict[str, Any] = field(default_factory=dict)
    series: dict[str, Any] = field(default_factory=dict)

    def add(
        self,
        key: str,
        text: str,
        value: Any,
        unit: str,
        inputs: dict[str, Any],
        last_bar: Any,
        *,
        first: bool = False,
    ) -> dict[str, Any]:
        """Add the fact ``<section>.<key>``; ``last_bar`` is the last bar it used (``None``: no bars)."""
        fid = f"{self.section}.{key}"
        if any(f["id"] == fid for f in self.facts):
            raise ValueError(f"duplicate fact id {fid!r}")
        fact = {
            "id": fid,
            "section": self.section,
            "text": text,
            "value": value,
            "unit": unit,
            "inputs": {**inputs, "last_bar": None if last_bar is None else iso(last_bar)},
        }
        if first:
            self.facts.insert(0, fact)
        else:
            self.facts.append(fact)
        return fact

    def not_available(self, what: str, reason: str, part: str = "") -> dict[str, Any]:
        """Record that the section (or ``part`` of it) could not be computed, and why."""
        key = f"{part + '_' if part else ''}not_available"
        return self.add(
            key, f"{what} is not available: {reason}.", None, "not_available", {"reason": reason}, None
        )
