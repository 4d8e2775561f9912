"""brief.json: every statement of the brief as a fact with its inputs (DESIGN.md, "Brief").

:func:`build_brief` turns a :class:`BriefInputs` (panels + provenance) into the brief dict; the Markdown and HTML
are rendered from that dict only. Layout::

    as_of, requested_as_of, params, data, sections, facts, events, patterns, rotation, breadth,
    reconstitution, studies, series

* ``facts``: ``{id, section, text, value, unit, inputs}``; ``inputs`` names the series (symbol, field), dates
  and parameters used. Numbers printed in ``text`` are the rounded ``value`` (or numbers in ``inputs``), so
  every number of brief.md is a number of brief.json.
* ``series``: the chart data (last :attr:`BriefParams.chart_bars` bars) the HTML charts are drawn from.
* ``data``: provenance (where each symbol came from, its first/last date in the source). It is the only part
  that may differ between a brief built from full data and one built from data truncated at ``as_of``.

No look-ahead: the panels are truncated at ``as_of`` before anything is computed, and every statistic ends at
that bar. Rounding precision: prices and levels 2 decimals, percentages 2 decimals, ratios 4 decimals
(:data:`DECIMALS`); everything else is rounded to :data:`capscope.report.jsonio.FLOAT_DIGITS` places when written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from capscope.analytics.rounding import DECIMALS, fmt, rnd  # noqa: F401
from capscope.analytics.series import Series1, series_of
from capscope.data.panel import Panel, to_datetime64
from capscope.errors import UsageError

#: Sections in page order.
SECTIONS = (
    ("headline", "Headline"),
    ("small_vs_large", "Small vs large caps"),
    ("technical", "Technical picture"),
    ("growth_value", "Growth vs value"),
    ("breadth", "Breadth"),
    ("reconstitution", "Reconstitution calendar"),
    ("studies", "Event study: how these signals did before"),
    ("provenance", "Data provenance and caveats"),
)


@dataclass(frozen=True)
class BriefParams:
    """What the brief is about and the analysis parameters (all recorded in brief.json)."""

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
    periods: tuple[tuple[str, int], ...] = (("1M", 21), ("3M", 63), ("6M", 126), ("1Y", 252))
    chart_bars: int = 504
    pattern_bars: int = 1260
    max_patterns: int = 3
    event_bars: int = 252
    horizons: tuple[int, ...] = (20, 60)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
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
            "periods": [{"label": k, "bars": n} for k, n in self.periods],
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


def _iso(day: Any) -> str:
    return str(np.datetime64(day, "D"))


class FactBook:
    """Collects facts and remembers which section each belongs to."""

    def __init__(self) -> None:
        self.facts: list[dict[str, Any]] = []
        self._ids: set[str] = set()

    def add(
        self, section: str, fid: str, text: str, value: Any, unit: str, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        """Add one fact; ``fid`` must be unique."""
        if fid in self._ids:
            raise ValueError(f"duplicate fact id {fid!r}")
        self._ids.add(fid)
        fact = {"id": fid, "section": section, "text": text, "value": value, "unit": unit, "inputs": inputs}
        self.facts.append(fact)
        return fact

    def not_available(self, section: str, what: str, reason: str, part: str = "") -> None:
        """Record that a section (or part of it) could not be computed, and why."""
        fid = f"{section}.{part + '_' if part else ''}not_available"
        self.add(
            section, fid, f"{what} is not available: {reason}.", None, "not_available", {"reason": reason}
        )

    def by_section(self, section: str) -> list[str]:
        """Ids of the facts of ``section`` in insertion order."""
        return [f["id"] for f in self.facts if f["section"] == section]


def _aligned(
    a: Series1, b: Series1, field_a: str = "close", field_b: str = "close"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dates both symbols trade on and their values there."""
    common, ia, ib = np.intersect1d(a.dates, b.dates, assume_unique=True, return_indices=True)
    va = getattr(a, field_a)[ia]
    vb = getattr(b, field_b)[ib]
    ok = np.isfinite(va) & np.isfinite(vb)
    return common[ok], va[ok], vb[ok]


def _ytd_start(dates: np.ndarray) -> int | None:
    """Index of the last bar of the previous calendar year (the year-to-date base), or None."""
    year = dates[-1].astype("datetime64[Y]")
    idx = int(np.searchsorted(dates, year.astype("datetime64[D]"), side="left")) - 1
    return idx if idx >= 0 else None


def _pct(a: float, b: float) -> float:
    return (a / b - 1.0) * 100.0


def _values(x: np.ndarray, unit: str) -> list[float | None]:
    return [rnd(v, unit) for v in x.tolist()]


@dataclass
class _PairStrength:
    """Relative strength of a pair as :func:`capscope.analytics.rotation.relative_strength` computes it, without
    its RS-line turning points (not used by the brief, and the costliest part)."""

    pair: str
    numerator: Any
    denominator: Any
    dates: np.ndarray
    ratio: np.ndarray
    sma_fast: np.ndarray
    returns: list[Any]
    leadership: list[Any]
    warnings: list[str]

    @property
    def end_date(self) -> np.datetime64:
        return self.dates[-1]


def _pair_strength(panel: Panel, num: str, den: str, as_of: np.datetime64) -> _PairStrength | None:
    """Pair returns, RS line and leadership from :mod:`capscope.analytics.rotation`'s building blocks."""
    from capscope.analytics import rotation as rot
    from capscope.indicators import api as ind

    a, b = rot.load_series(panel, num), rot.load_series(panel, den)
    dates, va, vb = rot.align(a, b, as_of)
    if len(dates) == 0:
        return None
    ratio = va / vb
    window = rot.RS_SMA_FAST
    sma = np.asarray(ind.sma(ratio, window=window)) if len(ratio) >= window else np.full(len(ratio), np.nan)
    end = len(dates) - 1
    returns = []
    for spec in rot.default_periods():
        bi = rot.base_index(dates, va, end, as_of, spec)
        if bi < 0:
            returns.append(rot.PairReturn(spec.label, None, dates[end], np.nan, np.nan))
        else:
            returns.append(
                rot.PairReturn(
                    spec.label, dates[bi], dates[end], va[end] / va[bi] - 1.0, vb[end] / vb[bi] - 1.0
                )
            )
    lead = [rot.leadership(ratio, dates, int(w)) for w in rot.DEFAULT_LEADERSHIP_WINDOWS]
    warnings = rot.basis_warnings(a.basis, b.basis)
    return _PairStrength(f"{num}:{den}", a.basis, b.basis, dates, ratio, sma, returns, lead, warnings)


# -- the builder ---------------------------------------------------------------------------------------------
class _Builder:
    def __init__(self, inputs: BriefInputs, params: BriefParams, as_of: np.datetime64) -> None:
        self.inputs = inputs
        self.params = params
        self.prices = inputs.prices.truncate(as_of)
        self.universe = inputs.universe.truncate(as_of) if inputs.universe is not None else None
        self.book = FactBook()
        self.brief: dict[str, Any] = {
            "events": [],
            "patterns": [],
            "rotation": {},
            "breadth": {},
            "reconstitution": {},
            "studies": [],
            "series": {},
        }
        self.tables: dict[str, dict[str, Any]] = {}
        if params.symbol not in self.prices.symbols:
            raise UsageError(
                f"symbol {params.symbol!r} is not in the data; symbols: {', '.join(self.prices.symbols)}"
            )
        self.main = series_of(self.prices, params.symbol)
        if len(self.main.dates) == 0:
            raise UsageError(f"{params.symbol} has no bars on or before {as_of}")
        self.as_of = self.main.dates[-1]
        self.events_df: Any = None
        self.primary_pattern: dict[str, Any] | None = None

    # each section is independent: a missing optional module becomes an explicit "not available" fact
    def _guard(self, section: str, what: str, func: Callable[[], None]) -> None:
        try:
            func()
        except ImportError as exc:  # a stage of the pipeline is not installed/built
            self.book.not_available(section, what, f"module missing ({exc.name or exc})")

    def build(self) -> dict[str, Any]:
        self._guard("technical", "The technical picture", self.technical)
        self._guard("small_vs_large", "The small- vs large-cap comparison", self.small_vs_large)
        self._guard("growth_value", "The growth vs value comparison", self.growth_value)
        self._guard("breadth", "Breadth", self.breadth)
        self._guard("reconstitution", "The reconstitution calendar", self.reconstitution)
        self._guard("studies", "The event study", self.studies)
        self.provenance()
        self.headline()
        sections = []
        for sid, title in SECTIONS:
            entry: dict[str, Any] = {"id": sid, "title": title, "facts": self.book.by_section(sid)}
            if sid in self.tables:
                entry["table"] = self.tables[sid]
            sections.append(entry)
        self.brief.update(
            {
                "schema": "capscope.brief/1",
                "as_of": _iso(self.as_of),
                "params": self.params.to_dict(),
                "sections": sections,
                "facts": self.book.facts,
            }
        )
        return self.brief

    # -- technical -------------------------------------------------------------------------------------------
    def technical(self) -> None:
        from capscope.indicators import api as ind

        p, s, book = self.params, self.main, self.book
        sym, last = s.symbol, s.last
        close = s.close
        sma_f = np.asarray(ind.sma(close, window=p.fast))
        sma_s = np.asarray(ind.sma(close, window=p.slow))
        m = ind.macd(close, fast=p.macd_fast, slow=p.macd_slow, signal=p.macd_signal)
        macd, signal, hist = np.asarray(m.macd), np.asarray(m.signal), np.asarray(m.hist)
        rsi = np.asarray(ind.rsi(close, window=p.rsi_window))
        day = _iso(s.dates[last])
        c = rnd(close[last], "level")
        self.close_fact = book.add(
            "technical",
            "technical.close",
            f"{sym} closed at {fmt(c, 'level')} on {day}.",
            c,
            "level",
            {"symbol": sym, "field": "close", "date": day},
        )
        self.trend: dict[Any, Any] = {}
        for window, values in ((p.fast, sma_f), (p.slow, sma_s)):
            v = values[last]
            if not np.isfinite(v):
                book.add(
                    "technical",
                    f"technical.sma{window}",
                    f"The {window}-day SMA needs {window} bars; {sym} has {last + 1}.",
                    None,
                    "level",
                    {"symbol": sym, "window": window, "bars": last + 1},
                )
                continue
            dist = rnd(_pct(close[last], v), "percent")
            side = "above" if close[last] > v else "below" if close[last] < v else "at"
            self.trend[window] = side
            book.add(
                "technical",
                f"technical.sma{window}",
                f"The close is {fmt(abs(dist or 0.0), 'percent')} {side} the {window}-day SMA "
                f"({fmt(rnd(v, 'level'), 'level')}).",
                dist,
                "percent",
                {"symbol": sym, "field": "close", "date": day, "window": window, "sma": rnd(v, "level")},
            )
        # events of the main symbol (crosses), from capscope.events
        from capscope.events import crosses as ev
        from capscope.events.records import concat_events, events_to_records

        sp = s.panel()
        cache = ev.IndicatorCache(sp)
        frames = [
            ev.ma_crosses(sp, (("sma", p.fast, p.slow),), cache=cache),
            ev.price_crosses(sp, (p.fast, p.slow), cache=cache),
            ev.macd_crosses(sp, p.macd_fast, p.macd_slow, p.macd_signal, cache=cache),
            ev.rsi_crosses(sp, p.rsi_window, cache=cache),
        ]
        frames += self._level_events(sp)
        events = concat_events(frames)
        self.events_df = events
        for kinds, fid, label in (
            (("golden_cross", "death_cross"), "technical.last_ma_cross", f"{p.fast}/{p.slow}-day SMA cross"),
        ):
            self._last_event_fact(events, kinds, fid, label)
        self._last_price_cross(events)
        # MACD state
        if np.isfinite(macd[last]):
            mv, sv, hv = rnd(macd[last], "macd"), rnd(signal[last], "macd"), rnd(hist[last], "macd")
            zero = "above" if macd[last] > 0 else "below" if macd[last] < 0 else "at"
            book.add(
                "technical",
                "technical.macd",
                f"MACD({p.macd_fast}, {p.macd_slow}, {p.macd_signal}) is {fmt(mv, 'macd')} with signal "
                f"{fmt(sv, 'macd')} (histogram {fmt(hv, 'macd', sign=True)}), {zero} the zero line.",
                mv,
                "macd",
                {
                    "symbol": sym,
                    "field": "close",
                    "date": day,
                    "fast": p.macd_fast,
                    "slow": p.macd_slow,
                    "signal": p.macd_signal,
                    "signal_value": sv,
                    "hist": hv,
                },
            )
            self.trend["macd_zero"] = zero
        self._last_macd_cross(events)
        if np.isfinite(rsi[last]):
            rv = rnd(rsi[last], "rsi")
            zone = (
                "overbought (above 70)"
                if rsi[last] > 70
                else "oversold (below 30)"
                if rsi[last] < 30
                else "between 30 and 70"
            )
            book.add(
                "technical",
                "technical.rsi",
                f"RSI({p.rsi_window}) is {fmt(rv, 'rsi')}, {zone}.",
                rv,
                "rsi",
                {
                    "symbol": sym,
                    "field": "close",
                    "date": day,
                    "window": p.rsi_window,
                    "upper": 70,
                    "lower": 30,
                },
            )
        self._levels(events)
        try:
            self._patterns()
        except ImportError as exc:
            self.primary_pattern = None
            self.book.not_available(
                "technical", "Chart-pattern detection", f"module missing ({exc.name or exc})", "pattern"
            )
        # events table (recent ones) and brief["events"]
        recent_from = s.dates[max(0, last - p.event_bars + 1)]
        recent = events[events["date"] >= recent_from] if len(events) else events
        records = events_to_records(recent)
        records.sort(key=lambda r: (r["date"], r["kind"], str(r.get("fast", "")), str(r.get("window", ""))))
        self.brief["events"] = records
        self.tables["technical"] = {
            "columns": ["date", "event", "close"],
            "rows": [[r["date"], r["kind"], rnd(r["price"], "level")] for r in records[-15:]],
        }
        # chart series
        lo = max(0, last - p.chart_bars + 1)
        dates = [_iso(d) for d in s.dates[lo:]]
        self.brief["series"]["price"] = {
            "symbol": sym,
            "dates": dates,
            "open": _values(s.open[lo:], "level"),
            "high": _values(s.high[lo:], "level"),
            "low": _values(s.low[lo:], "level"),
            "close": _values(close[lo:], "level"),
            "sma_fast": _values(sma_f[lo:], "level"),
            "sma_slow": _values(sma_s[lo:], "level"),
            "fast": p.fast,
            "slow": p.slow,
            "patterns": self._chart_patterns(dates[0] if dates else None),
        }
        self.brief["series"]["macd"] = {
            "symbol": sym,
            "dates": dates,
            "macd": _values(macd[lo:], "macd"),
            "signal": _values(signal[lo:], "macd"),
            "hist": _values(hist[lo:], "macd"),
            "params": {"fast": p.macd_fast, "slow": p.macd_slow, "signal": p.macd_signal},
        }

    def _level_events(self, sp: Panel) -> list[Any]:
        from capscope.events import breakouts, levels

        self.level_panel = sp
        return [levels.level_events(sp), breakouts.breakout_events(sp)]

    def _last_event_fact(self, events: Any, kinds: tuple[str, ...], fid: str, label: str) -> None:
        sub = events[events["kind"].isin(kinds)] if len(events) else events
        sym = self.main.symbol
        if len(sub) == 0:
            self.book.add(
                "technical",
                fid,
                f"No {label} in the data.",
                None,
                "event",
                {"symbol": sym, "kinds": list(kinds)},
            )
            return
        row = sub.iloc[-1]
        day = _iso(row["date"])
        name = str(row["kind"]).replace("_", " ")
        fast, slow = rnd(row["fast_value"], "level"), rnd(row["slow_value"], "level")
        self.book.add(
            "technical",
            fid,
            f"The latest {label} was a {name} on {day} ({int(row['fast'])}-day SMA {fmt(fast, 'level')}, "
            f"{int(row['slow'])}-day SMA {fmt(slow, 'level')}).",
            str(row["kind"]),
            "event",
            {
                "symbol": sym,
                "date": day,
                "kind": str(row["kind"]),
                "fast": int(row["fast"]),
                "slow": int(row["slow"]),
                "fast_value": fast,
                "slow_value": slow,
            },
        )

    def _last_price_cross(self, events: Any) -> None:
        p, sym = self.params, self.main.symbol
        for window in (p.fast, p.slow):
            sub = (
                events[events["kind"].isin(("price_cross_above", "price_cross_below"))]
                if len(events)
                else events
            )
            if len(sub):
                sub = sub[sub["window"] == window]
            fid = f"technical.last_price_cross{window}"
            if len(sub) == 0:
                self.book.add(
                    "technical",
                    fid,
                    f"The close has not crossed its {window}-day SMA in the data.",
                    None,
                    "event",
                    {"symbol": sym, "window": window},
                )
                continue
            row = sub.iloc[-1]
            day = _iso(row["date"])
            direction = "above" if row["kind"] == "price_cross_above" else "below"
            sessions = int(
                self.main.last - int(np.searchsorted(self.main.dates, np.datetime64(row["date"], "D")))
            )
            self.book.add(
                "technical",
                fid,
                f"The close last crossed {direction} its {window}-day SMA on {day}, {sessions} sessions ago.",
                str(row["kind"]),
                "event",
                {
                    "symbol": sym,
                    "date": day,
                    "window": window,
                    "sessions_ago": sessions,
                    "ma_value": rnd(row["ma_value"], "level"),
                },
            )

    def _last_macd_cross(self, events: Any) -> None:
        sym = self.main.symbol
        sub = (
            events[events["kind"].isin(("macd_bullish_cross", "macd_bearish_cross"))]
            if len(events)
            else events
        )
        if len(sub) == 0:
            self.book.add(
                "technical",
                "technical.last_macd_cross",
                "No MACD signal-line crossover in the data.",
                None,
                "event",
                {"symbol": sym},
            )
            return
        row = sub.iloc[-1]
        day = _iso(row["date"])
        bull = row["kind"] == "macd_bullish_cross"
        zero = "above" if bool(row["above_zero"]) else "at or below"
        mv = rnd(row["macd"], "macd")
        self.book.add(
            "technical",
            "technical.last_macd_cross",
            f"The last MACD crossover was {'bullish' if bull else 'bearish'} on {day}, with MACD at "
            f"{fmt(mv, 'macd')} ({zero} zero).",
            str(row["kind"]),
            "event",
            {
                "symbol": sym,
                "date": day,
                "kind": str(row["kind"]),
                "macd": mv,
                "above_zero": bool(row["above_zero"]),
            },
        )

    def _levels(self, events: Any) -> None:
        """Nearest active support below and resistance above the close (:func:`capscope.events.levels.levels_as_of`)."""
        from capscope.events import levels

        sym = self.main.symbol
        table = levels.levels_as_of(self.main.panel())
        close = float(self.main.close[-1])
        above = table[table["level"] > close].sort_values("level")
        below = table[table["level"] < close].sort_values("level", ascending=False)
        for frame, role in ((above, "resistance"), (below, "support")):
            fid = f"technical.nearest_{role}"
            if len(frame) == 0:
                where = "above" if role == "resistance" else "below"
                self.book.add(
                    "technical",
                    fid,
                    f"No active {role} level {where} the close.",
                    None,
                    "level",
                    {"symbol": sym},
                )
                continue
            row = frame.iloc[0]
            level = rnd(row["level"], "level")
            dist = rnd(_pct(float(row["level"]), close), "percent")
            last_touch = _iso(row["last_touch"])
            self.book.add(
                "technical",
                fid,
                f"Nearest {role}: {fmt(level, 'level')} ({fmt(dist, 'percent', sign=True)} from the close), "
                f"{int(row['touches'])} touches, last on {last_touch}.",
                level,
                "level",
                {
                    "symbol": sym,
                    "date": _iso(self.as_of),
                    "touches": int(row["touches"]),
                    "last_touch": last_touch,
                    "distance_percent": dist,
                },
            )

    def _patterns(self) -> None:
        from capscope.patterns import find_patterns

        # detection runs on the last pattern_bars bars ending at as_of (a fixed window, so full and truncated
        # data give the same result); records are the patterns' states as of the last bar
        sp = self.main.panel()
        lo = max(0, sp.n_bars - self.params.pattern_bars)
        window = Panel(
            sp.dates[lo:], sp.symbols, {k: np.ascontiguousarray(v[lo:]) for k, v in sp.fields.items()}
        )
        records = find_patterns(window)
        self._pattern_facts([r.to_dict() for r in records])

    def _pattern_facts(self, records: list[dict[str, Any]]) -> None:
        sym = self.main.symbol
        recent_from = _iso(self.main.dates[max(0, self.main.last - self.params.chart_bars + 1)])
        records = sorted(
            (r for r in records if r["date"] >= recent_from), key=lambda r: (r["date"], r["kind"])
        )
        self.brief["patterns"] = records
        if not records:
            self.book.add(
                "technical",
                "technical.pattern",
                f"No chart pattern of {sym} became knowable in the last {self.params.chart_bars} bars.",
                None,
                "pattern",
                {"symbol": sym, "since": recent_from},
            )
            self.primary_pattern = None
            self.shown_patterns = []
            return
        # shown: the most recent confirmed / target-reached patterns (by the date their status became knowable),
        # then forming ones; the first is the primary one (headline, facts with their own ids)
        strong = [r for r in records if r["status"] in ("confirmed", "target_reached")]
        rest = [r for r in records if r not in strong]
        shown = (strong[::-1] + rest[::-1])[: self.params.max_patterns]
        self.shown_patterns = shown
        self.primary_pattern = shown[0]
        for i, rec in enumerate(shown):
            self._one_pattern_facts(rec, "" if i == 0 else f"_{i + 1}")

    def _one_pattern_facts(self, rec: dict[str, Any], suffix: str) -> None:
        sym = self.main.symbol
        name = rec["kind"].replace("_", " ")
        pts = ", ".join(
            f"{pt['role'].replace('_', ' ')} {pt['date']} at {fmt(rnd(pt['price'], 'level'), 'level')}"
            for pt in rec["points"]
        )
        neck = rec.get("neckline")
        text = f"Chart pattern: {name} ({pts})"
        if neck:
            text += (
                f"; neckline from {fmt(rnd(neck['price0'], 'level'), 'level')} ({neck['date0']}) to "
                f"{fmt(rnd(neck['price1'], 'level'), 'level')} ({neck['date1']})"
            )
        text += f"; status {rec['status'].replace('_', ' ')} as of {rec['date']}."
        inputs: dict[str, Any] = {
            "symbol": sym,
            "kind": rec["kind"],
            "status": rec["status"],
            "date": rec["date"],
            "points": rec["points"],
            "neckline": neck,
            "quality": rec.get("quality"),
        }
        self.book.add("technical", f"technical.pattern{suffix}", text, rec["kind"], "pattern", inputs)
        if rec.get("breakout"):
            b = rec["breakout"]
            self.book.add(
                "technical",
                f"technical.pattern{suffix}_breakout",
                f"It broke out on {b['date']} with a close of {fmt(rnd(b['price'], 'level'), 'level')}.",
                rnd(b["price"], "level"),
                "level",
                {"symbol": sym, "date": b["date"]},
            )
        if rec.get("target") is not None:
            t = rnd(rec["target"], "level")
            dist = rnd(_pct(float(rec["target"]), float(self.main.close[-1])), "percent")
            self.book.add(
                "technical",
                f"technical.pattern{suffix}_target",
                f"Measured-move target {fmt(t, 'level')} ({fmt(dist, 'percent', sign=True)} from the close).",
                t,
                "level",
                {"symbol": sym, "distance_percent": dist},
            )
        if rec.get("invalidation") is not None:
            iv = rnd(rec["invalidation"], "level")
            self.book.add(
                "technical",
                f"technical.pattern{suffix}_invalidation",
                f"The pattern is invalidated by a close beyond {fmt(iv, 'level')}.",
                iv,
                "level",
                {"symbol": sym},
            )

    def _chart_patterns(self, first_date: str | None) -> list[dict[str, Any]]:
        if first_date is None:
            return []
        keys = ("kind", "status", "points", "neckline", "breakout", "target", "invalidation")
        out = []
        for rec in getattr(self, "shown_patterns", []):
            item = {k: rec.get(k) for k in keys}
            item["neckline_at_breakout"] = (rec.get("extra") or {}).get("neckline_at_breakout")
            out.append(item)
        return out

    # -- small vs large and growth vs value (capscope.analytics.rotation) ------------------------------------
    def _pair(self, section: str, num: str, den: str, label_num: str, label_den: str) -> Any:
        """Pair facts (period returns, leadership) from :func:`capscope.analytics.rotation.relative_strength`."""
        from capscope.analytics import rotation as rot

        p, book = self.params, self.book
        missing = [
            s for s in (num, den) if s not in self.prices.symbols or not len(series_of(self.prices, s).dates)
        ]
        if missing:
            book.not_available(
                section,
                f"The {num} vs {den} comparison",
                f"{', '.join(missing)} has no bars on or before {_iso(self.as_of)}",
            )
            return None
        rs = _pair_strength(self.prices, num, den, self.as_of)
        if rs is None:
            book.not_available(section, f"The {num} vs {den} comparison", "no common dates")
            return None
        end = _iso(rs.end_date)
        bn, bd = rs.numerator, rs.denominator
        book.add(
            section,
            f"{section}.basis",
            f"Price basis: {num} {bn.field} ({bn.basis.value.replace('_', ' ')}; {bn.source}), {den} {bd.field} "
            f"({bd.basis.value.replace('_', ' ')}; {bd.source}).",
            "same" if bn.basis == bd.basis else "mixed",
            "basis",
            {num: bn.to_dict(), den: bd.to_dict()},
        )
        # warnings without numbers are quoted; staleness is restated with its numbers as a fact of its own
        for i, warning in enumerate(w for w in rs.warnings if not any(ch.isdigit() for ch in w)):
            book.add(
                section,
                f"{section}.warning{i + 1}",
                warning[0].upper() + warning[1:] + ".",
                None,
                "warning",
                {"pair": rs.pair},
            )
        for sym in (num, den):
            s = series_of(self.prices, sym)
            lag = int((self.as_of - s.dates[-1]).astype(int))
            if lag > rot.STALE_AFTER_DAYS:
                book.add(
                    section,
                    f"{section}.stale_{sym}",
                    f"{sym}'s data ends on {_iso(s.dates[-1])}, {lag} calendar days before the brief date; its numbers stop there.",
                    lag,
                    "days",
                    {
                        "symbol": sym,
                        "last_date": _iso(s.dates[-1]),
                        "as_of": _iso(self.as_of),
                        "stale_after_days": rot.STALE_AFTER_DAYS,
                    },
                )
        rows = []
        periods = []
        for r in rs.returns:
            if r.start_date is None or not np.isfinite(r.numerator):
                continue
            ra, rb = rnd(r.numerator * 100, "percent"), rnd(r.denominator * 100, "percent")
            gap = rnd((ra or 0.0) - (rb or 0.0), "pp")
            sday = _iso(r.start_date)
            ahead = num if (gap or 0) > 0 else den if (gap or 0) < 0 else "neither"
            ratio = (
                rnd(r.numerator / r.denominator, "ratio") if r.numerator > 0 and r.denominator > 0 else None
            )
            text = (
                f"{r.label} ({sday} to {end}): {label_num} {num} {fmt(ra, 'percent', sign=True)}, {label_den} {den} "
                f"{fmt(rb, 'percent', sign=True)}; gap {fmt(gap, 'pp', sign=True)} ({ahead} ahead"
            )
            text += (
                f"; {num}'s gain is {fmt(ratio, 'ratio')} times {den}'s)."
                if ratio is not None and section == "growth_value"
                else ")."
            )
            key = r.label.replace(" ", "_")
            book.add(
                section,
                f"{section}.{key}",
                text,
                gap,
                "pp",
                {
                    "series": [f"{num}.{bn.field}", f"{den}.{bd.field}"],
                    "start": sday,
                    "end": end,
                    num: ra,
                    den: rb,
                    "return_ratio": ratio,
                },
            )
            periods.append(
                {
                    "label": r.label,
                    "start": sday,
                    "end": end,
                    "numerator_return": ra,
                    "denominator_return": rb,
                    "gap": gap,
                    "return_ratio": ratio,
                }
            )
            rows.append([r.label, sday, ra, rb, gap])
        self.tables[section] = {"columns": ["period", "from", f"{num} %", f"{den} %", "gap pp"], "rows": rows}
        leaders = []
        for lead in rs.leadership:
            if lead.leader is None:
                continue
            rel = rnd(lead.relative_return * 100, "percent")
            since = _iso(lead.since)
            leader = {"numerator": num, "denominator": den}.get(lead.leader, lead.leader)
            book.add(
                section,
                f"{section}.leadership{lead.window}",
                f"Over rolling {lead.window}-session windows {leader} has led for {lead.streak_bars} sessions "
                f"(since {since}); the latest window's relative return is {fmt(rel, 'percent', sign=True)}.",
                lead.streak_bars,
                "sessions",
                {"pair": rs.pair, "window": lead.window, "leader": leader, "since": since, "end": end},
            )
            leaders.append(
                {
                    "window": lead.window,
                    "leader": leader,
                    "streak": lead.streak_bars,
                    "since": since,
                    "relative_return": rel,
                }
            )
        last = len(rs.ratio) - 1
        if np.isfinite(rs.sma_fast[last]):
            side = "above" if rs.ratio[last] > rs.sma_fast[last] else "below"
            book.add(
                section,
                f"{section}.rs_state",
                f"The {num}/{den} relative-strength line is {side} its {rot.RS_SMA_FAST}-day SMA.",
                side,
                "state",
                {"pair": rs.pair, "window": rot.RS_SMA_FAST, "date": end},
            )
        lo = max(0, last - p.chart_bars + 1)
        base = rs.ratio[lo]
        series = {
            "dates": [_iso(d) for d in rs.dates[lo:]],
            "value": _values(100.0 * rs.ratio[lo:] / base, "ratio"),
            "sma": _values(100.0 * rs.sma_fast[lo:] / base, "ratio"),
            "window": rot.RS_SMA_FAST,
            "basis": f"{bn.basis.value.replace('_', ' ')} / {bd.basis.value.replace('_', ' ')}",
        }
        return (
            rs,
            {
                "pair": rs.pair,
                "end": end,
                "periods": periods,
                "leadership": leaders,
                "warnings": list(rs.warnings),
            },
            series,
        )

    def small_vs_large(self) -> None:
        p = self.params
        got = self._pair("small_vs_large", p.symbol, p.benchmark, "small caps", "large caps")
        if got is None:
            return
        rs, summary, series = got
        # how much of the year the symbol's YTD return trailed the benchmark's (ratio below its YTD base)
        ytd = _ytd_start(rs.dates)
        if ytd is not None and len(rs.ratio) - 1 > ytd:
            rel = rs.ratio[ytd + 1 :] / rs.ratio[ytd]
            behind, total = int(np.sum(rel < 1.0)), len(rel)
            share = rnd(100.0 * behind / total, "percent")
            self.book.add(
                "small_vs_large",
                "small_vs_large.ytd_lagging_sessions",
                f"On {behind} of {total} sessions this year ({fmt(share, 'percent')}), {p.symbol}'s year-to-date "
                f"return was below {p.benchmark}'s.",
                share,
                "percent",
                {
                    "pair": rs.pair,
                    "base": _iso(rs.dates[ytd]),
                    "end": summary["end"],
                    "behind": behind,
                    "sessions": total,
                },
            )
            summary["ytd_lagging_sessions"] = {"behind": behind, "sessions": total}
        self.brief["rotation"]["small_vs_large"] = summary
        self.brief["series"]["relative_strength"] = {"symbol": p.symbol, "benchmark": p.benchmark, **series}

    def growth_value(self) -> None:
        p = self.params
        got = self._pair("growth_value", p.growth, p.value, "growth", "value")
        if got is None:
            return
        _, summary, series = got
        self.brief["rotation"]["growth_value"] = summary
        self.brief["series"]["growth_value"] = {
            "growth": p.growth,
            "value": p.value,
            "dates": series["dates"],
            "ratio": series["value"],
            "basis": series["basis"],
        }

    # -- breadth ---------------------------------------------------------------------------------------------
    def breadth(self) -> None:
        uni = self.universe
        if uni is None or uni.n_symbols == 0 or uni.n_bars == 0:
            self.book.not_available(
                "breadth",
                "Breadth",
                f"the data has no universe of stocks with bars on or before {_iso(self.as_of)}",
            )
            return
        from capscope.analytics import breadth as br

        self._breadth_from(br, uni)

    def _breadth_from(self, br: Any, uni: Panel) -> None:
        res = br.breadth(uni, self.as_of)
        book, name = self.book, self.inputs.universe_name
        latest = res.latest()
        day = latest["date"]
        prm = res.params
        lag = int((self.as_of - res.dates[-1]).astype(int))
        if lag > 5:
            book.add(
                "breadth",
                "breadth.stale",
                f"The {name} universe data ends on {day}, {lag} calendar days before the brief date; breadth is as of {day}.",
                lag,
                "days",
                {"universe": name, "last_date": day, "as_of": _iso(self.as_of)},
            )
        for key, window in (("short", prm["short_window"]), ("long", prm["long_window"])):
            pct = rnd(latest.get(f"pct_above_{key}"), "percent")
            if pct is None:
                continue
            book.add(
                "breadth",
                f"breadth.pct_above_{window}",
                f"{fmt(pct, 'percent')} of the {name} ({latest[f'above_{key}']} of {latest[f'defined_{key}']}) closed above their {window}-day SMA on {day}.",
                pct,
                "percent",
                {
                    "universe": name,
                    "date": day,
                    "window": window,
                    "above": latest[f"above_{key}"],
                    "defined": latest[f"defined_{key}"],
                },
            )
        book.add(
            "breadth",
            "breadth.advance_decline",
            f"On {day}: {latest['advances']} advances and {latest['declines']} declines (net {latest['net_advances']:+d}), {latest['new_highs']} new {prm['hl_window']}-session highs and {latest['new_lows']} new lows.",
            latest["net_advances"],
            "count",
            {
                "universe": name,
                "date": day,
                "advances": latest["advances"],
                "declines": latest["declines"],
                "new_highs": latest["new_highs"],
                "new_lows": latest["new_lows"],
                "hl_window": prm["hl_window"],
            },
        )
        mc = rnd(latest.get("mcclellan"), "score")
        if mc is not None:
            book.add(
                "breadth",
                "breadth.mcclellan",
                f"McClellan oscillator ({prm['ema_fast']}/{prm['ema_slow']}-day EMAs of ratio-adjusted net advances): {fmt(mc, 'score', sign=True)}.",
                mc,
                "score",
                {"universe": name, "date": day, "ema_fast": prm["ema_fast"], "ema_slow": prm["ema_slow"]},
            )
        self.brief["breadth"] = {
            "universe": name,
            "n_symbols": res.n_symbols,
            "params": prm,
            "latest": {k: (rnd(v, "percent") if isinstance(v, float) else v) for k, v in latest.items()},
        }
        lo = max(0, len(res.dates) - self.params.chart_bars)
        short_label = f"% above {prm['short_window']}-day SMA"
        long_label = f"% above {prm['long_window']}-day SMA"
        self.brief["series"]["breadth"] = {
            "universe": name,
            "dates": [_iso(d) for d in res.dates[lo:]],
            "pct_above_short": _values(res["pct_above_short"][lo:], "percent"),
            "pct_above_long": _values(res["pct_above_long"][lo:], "percent"),
            "lines": [["pct_above_short", short_label], ["pct_above_long", long_label]],
        }

    # -- reconstitution --------------------------------------------------------------------------------------
    def reconstitution(self) -> None:
        from capscope.analytics import reconstitution as rc

        as_of = dt.date.fromisoformat(_iso(self.as_of))
        last, upcoming = rc.around(as_of)
        out: dict[str, Any] = {
            "last": last.to_dict() if last else None,
            "upcoming": [r.to_dict() for r in upcoming],
            "sources": list(rc.ANNOUNCEMENT_SOURCES),
        }
        self.brief["reconstitution"] = out
        if last is not None:
            self.book.add(
                "reconstitution",
                "reconstitution.last",
                f"Last reconstitution: effective after the close on {last.effective.isoformat()}"
                + (f" (rank day {last.rank_day.isoformat()})." if last.rank_day else "."),
                last.effective.isoformat(),
                "date",
                {"rule": last.note, "kind": last.kind},
            )
        for i, r in enumerate(upcoming):
            days = (r.effective - as_of).days
            eff, rank = r.date_info("effective"), r.date_info("rank_day")
            text = f"Next reconstitution ({r.name.capitalize()} {r.year}): effective after the close on {r.effective.isoformat()}, {days} calendar days away"
            text += (
                f" (rank day {r.rank_day.isoformat()}"
                + ("" if rank.status == "published" else f", {rank.status}")
                + ")."
            )
            if eff.status != "published":
                text += f" The date is {eff.status}: " + (
                    "computed from FTSE Russell's published rule."
                    if eff.status == "rule"
                    else "no source gives it; computed from an assumed rule (see capscope recon calendar)."
                )
            self.book.add(
                "reconstitution",
                f"reconstitution.next{i + 1}",
                text,
                r.effective.isoformat(),
                "date",
                {
                    "rule": r.note,
                    "kind": r.kind,
                    "days_away": days,
                    "status": eff.status,
                    "source": eff.source,
                },
            )
        self.book.add(
            "reconstitution",
            "reconstitution.simulation",
            "Simulated membership changes are not computed: the data has no market capitalisations or share counts.",
            None,
            "not_available",
            {"reason": "no market-cap data"},
        )

    # -- studies ---------------------------------------------------------------------------------------------
    def studies(self) -> None:
        if self.events_df is None or len(self.events_df) == 0:
            return
        from capscope.analytics.event_study import forward_returns_after

        p, s = self.params, self.main
        recent_from = s.dates[max(0, s.last - p.event_bars + 1)]
        ev = self.events_df.copy()
        # MACD signal-line crosses are studied apart above and below the zero line (the qualification traders use)
        kinds = ev["kind"].astype(str).to_numpy(dtype=object)
        is_macd = np.isin(kinds, ["macd_bullish_cross", "macd_bearish_cross"])
        if is_macd.any():
            above = ev["above_zero"].to_numpy(dtype=object)
            kinds[is_macd] = [
                f"{k}_{'above' if bool(a) else 'below'}_zero"
                for k, a in zip(kinds[is_macd], above[is_macd], strict=True)
            ]
        ev["kind"] = kinds
        fired = sorted(set(ev.loc[ev["date"] >= recent_from, "kind"].astype(str)))
        rows = []
        studies = []
        for kind in fired:
            sub = ev[ev["kind"] == kind]
            idx = np.searchsorted(s.dates, sub["date"].to_numpy().astype("datetime64[D]"))
            for h in p.horizons:
                res = forward_returns_after(s.close, idx, h)
                if res.n == 0:
                    continue
                mean, base = rnd(res.mean * 100, "percent"), rnd(res.baseline_mean * 100, "percent")
                hit = rnd(res.hit_rate * 100, "percent")
                studies.append(
                    {
                        "symbol": s.symbol,
                        "kind": kind,
                        "horizon": h,
                        "n": res.n,
                        "mean_return": mean,
                        "median_return": rnd(res.median * 100, "percent"),
                        "hit_rate": hit,
                        "baseline_mean": base,
                        "first": _iso(s.dates[res.first]) if res.first is not None else None,
                    }
                )
                rows.append([kind, h, res.n, mean, hit, base])
        self.brief["studies"] = studies
        for st in studies:
            if st["horizon"] != p.horizons[0]:
                continue
            self.book.add(
                "studies",
                f"studies.{st['kind']}.{st['horizon']}",
                f"After the {st['n']} earlier {st['kind'].replace('_', ' ')} events of {s.symbol} (since {st['first']}), "
                f"the next {st['horizon']} sessions returned {fmt(st['mean_return'], 'percent', sign=True)} on average "
                f"({fmt(st['hit_rate'], 'percent')} positive) against {fmt(st['baseline_mean'], 'percent', sign=True)} for any {st['horizon']}-session window.",
                st["mean_return"],
                "percent",
                {
                    "symbol": s.symbol,
                    "field": "close",
                    "kind": st["kind"],
                    "horizon": st["horizon"],
                    "n": st["n"],
                    "end": _iso(self.as_of),
                },
            )
        if rows:
            self.tables["studies"] = {
                "columns": [
                    "signal",
                    "horizon (sessions)",
                    "events",
                    "mean %",
                    "positive %",
                    "any window mean %",
                ],
                "rows": rows,
            }

    # -- provenance ------------------------------------------------------------------------------------------
    def provenance(self) -> None:
        used = [self.params.symbol, self.params.benchmark, self.params.growth, self.params.value]
        rows = []
        for sym in dict.fromkeys(used):
            if sym not in self.prices.symbols:
                continue
            s = series_of(self.prices, sym)
            if len(s.dates) == 0:
                continue
            first, last = _iso(s.dates[0]), _iso(s.dates[-1])
            self.book.add(
                "provenance",
                f"provenance.{sym}",
                f"{sym}: {len(s.dates)} daily bars used, {first} to {last}.",
                len(s.dates),
                "bars",
                {"symbol": sym, "first_date": first, "last_date": last},
            )
            rows.append([sym, first, last, len(s.dates)])
        if self.universe is not None and self.universe.n_symbols:
            u = self.universe.drop_empty_dates()
            if u.n_bars:
                first, last = _iso(u.dates[0]), _iso(u.dates[-1])
                self.book.add(
                    "provenance",
                    "provenance.universe",
                    f"Breadth universe ({self.inputs.universe_name}): {u.n_symbols} symbols, {first} to {last}.",
                    u.n_symbols,
                    "symbols",
                    {"first_date": first, "last_date": last},
                )
        self.tables["provenance"] = {
            "columns": ["symbol", "first bar used", "last bar used", "bars"],
            "rows": rows,
        }
        self.book.add(
            "provenance",
            "provenance.no_lookahead",
            f"Everything above uses only bars dated on or before {_iso(self.as_of)}; each event is dated on the bar on which it became knowable.",
            _iso(self.as_of),
            "date",
            {"as_of": _iso(self.as_of)},
        )

    # -- headline --------------------------------------------------------------------------------------------
    def headline(self) -> None:
        facts = {f["id"]: f for f in self.book.facts}
        sym = self.main.symbol
        parts = []
        inputs: dict[str, Any] = {"facts": []}
        close = facts.get("technical.close")
        if close:
            parts.append(f"{sym} closed at {fmt(close['value'], 'level')} on {_iso(self.as_of)}")
            inputs["facts"].append("technical.close")
        ytd = facts.get("small_vs_large.YTD")
        if ytd:
            ra = ytd["inputs"][sym]
            parts.append(
                f"{fmt(ra, 'percent', sign=True)} year to date, {fmt(ytd['value'], 'pp', sign=True)} versus {self.params.benchmark}"
            )
            inputs["facts"].append("small_vs_large.YTD")
        text = (", ".join(parts) + ".") if parts else f"No headline numbers for {sym}."
        self.book.add(
            "headline", "headline.summary", text, close["value"] if close else None, "level", inputs
        )
        trend = getattr(self, "trend", {})
        bits = []
        for window in (self.params.fast, self.params.slow):
            if window in trend:
                bits.append(f"{trend[window]} its {window}-day SMA")
        if "macd_zero" in trend:
            bits.append(f"with MACD {trend['macd_zero']} zero")
        if bits:
            self.book.add(
                "headline",
                "headline.trend",
                f"{sym} is " + ", ".join(bits) + ".",
                trend.get(self.params.slow),
                "state",
                {
                    "facts": [
                        f"technical.sma{self.params.fast}",
                        f"technical.sma{self.params.slow}",
                        "technical.macd",
                    ]
                },
            )
        self._headline_context(facts)
        pat = facts.get("technical.pattern")
        if pat and pat["value"] is not None:
            rec = pat["inputs"]
            text = f"Latest chart pattern: {rec['kind'].replace('_', ' ')}, {rec['status'].replace('_', ' ')} as of {rec['date']}"
            neck = rec.get("neckline")
            if neck:
                text += f", neckline {fmt(rnd(neck['price0'], 'level'), 'level')} to {fmt(rnd(neck['price1'], 'level'), 'level')}"
            brk = facts.get("technical.pattern_breakout")
            if brk:
                text += f", breakout {brk['inputs']['date']}"
            tgt = facts.get("technical.pattern_target")
            if tgt:
                text += f", target {fmt(tgt['value'], 'level')}"
            self.book.add(
                "headline",
                "headline.pattern",
                text + ".",
                pat["value"],
                "pattern",
                {"facts": ["technical.pattern"]},
            )

    def _headline_context(self, facts: dict[str, dict[str, Any]]) -> None:
        """One headline line each for leadership, growth vs value and breadth, restating their facts."""
        p = self.params
        lead = next(
            (facts[k] for k in (f"small_vs_large.leadership{w}" for w in (63, 126, 21)) if k in facts), None
        )
        state = facts.get("small_vs_large.rs_state")
        if lead and state:
            i = lead["inputs"]
            self.book.add(
                "headline",
                "headline.leadership",
                f"{i['leader']} has led over rolling {i['window']}-session windows for {lead['value']} sessions; "
                f"the {p.symbol}/{p.benchmark} line is {state['value']} its {state['inputs']['window']}-day SMA.",
                i["leader"],
                "state",
                {"facts": [lead["id"], state["id"]]},
            )
        gv = next((facts[k] for k in ("growth_value.YTD", "growth_value.12M") if k in facts), None)
        if gv:
            i = gv["inputs"]
            self.book.add(
                "headline",
                "headline.growth_value",
                f"Within small caps, growth {p.growth} {fmt(i[p.growth], 'percent', sign=True)} vs value {p.value} "
                f"{fmt(i[p.value], 'percent', sign=True)}, a {fmt(gv['value'], 'pp', sign=True)} gap ({i['start']} to {i['end']}).",
                gv["value"],
                "pp",
                {"facts": [gv["id"]]},
            )
        br = facts.get(f"breadth.pct_above_{p.slow}")
        if br:
            i = br["inputs"]
            self.book.add(
                "headline",
                "headline.breadth",
                f"Breadth: {fmt(br['value'], 'percent')} of the {i['universe']} closed above their {i['window']}-day SMA on {i['date']}.",
                br["value"],
                "percent",
                {"facts": [br["id"]]},
            )


def build_brief(
    inputs: BriefInputs, params: BriefParams | None = None, as_of: str | dt.date | None = None
) -> dict[str, Any]:
    """Build the brief dict (the content of brief.json).

    Parameters
    ----------
    inputs
        Panels and provenance (:func:`capscope.report.loading.load_inputs`).
    params
        What to analyse; defaults to RUT vs GSPC, IWO vs IWN.
    as_of
        Last date that may be used (default: the last bar of ``params.symbol``).

    Returns
    -------
    dict
        JSON-ready brief; write it with :func:`capscope.report.jsonio.dumps`.
    """
    params = params or BriefParams()
    day = to_datetime64(as_of) if as_of is not None else inputs.prices.dates[-1]
    builder = _Builder(inputs, params, day)
    brief = builder.build()
    brief["requested_as_of"] = str(as_of) if as_of is not None else None
    brief["data"] = {
        "origin": inputs.origin,
        "symbols": [{"symbol": k, **inputs.provenance[k]} for k in sorted(inputs.provenance)],
    }
    brief["series"] = brief.get("series", {})
    return brief
