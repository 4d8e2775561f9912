"""Technical picture: close, SMAs, crosses, MACD with its zero line, RSI, nearest support/resistance, the recent
signal events, and the chart patterns (:mod:`capscope.report.sections.patterns`).

Numbers come from :mod:`capscope.analytics.technical`; this module words them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from capscope.analytics.rounding import fmt, rnd
from capscope.analytics.technical import last_event, nearest_levels, percent_from, sessions_since, side_of
from capscope.events.records import events_to_records
from capscope.report.context import SectionContext, SectionResult, iso
from capscope.report.sections import patterns

SECTION = "technical"


def _values(x: np.ndarray, unit: str) -> list[float | None]:
    return [rnd(v, unit) for v in x.tolist()]


def build(ctx: SectionContext) -> SectionResult:
    """Facts of the technical section (the main symbol's own bars up to the brief date)."""
    out = SectionResult(SECTION)
    p, s, tech = ctx.params, ctx.main, ctx.technical
    sym, day = s.symbol, iso(s.dates[-1])
    close = tech.last_close
    c = rnd(close, "level")
    out.add(
        "close",
        f"{sym} closed at {fmt(c, 'level')} on {day}.",
        c,
        "level",
        {"symbol": sym, "field": "close", "date": day},
        day,
    )
    for window in (p.fast, p.slow):
        v = tech.sma(window)
        if not np.isfinite(v):
            out.add(
                f"sma{window}",
                f"The {window}-day SMA needs {window} bars; {sym} has {s.last + 1}.",
                None,
                "level",
                {"symbol": sym, "window": window, "bars": s.last + 1},
                day,
            )
            continue
        dist = rnd(percent_from(close, v), "percent")
        side = side_of(close, v)
        out.add(
            f"sma{window}",
            f"The close is {fmt(abs(dist or 0.0), 'percent')} {side} the {window}-day SMA "
            f"({fmt(rnd(v, 'level'), 'level')}).",
            dist,
            "percent",
            {
                "symbol": sym,
                "field": "close",
                "date": day,
                "window": window,
                "sma": rnd(v, "level"),
                "side": side,
            },
            day,
        )
    events = ctx.events
    _last_ma_cross(out, ctx, events)
    _last_price_crosses(out, ctx, events)
    m, sg, h = float(tech.macd[-1]), float(tech.signal[-1]), float(tech.hist[-1])
    if np.isfinite(m) and np.isfinite(sg):
        mv, sv, hv = rnd(m, "macd"), rnd(sg, "macd"), rnd(h, "macd")
        zero = side_of(m, 0.0)
        out.add(
            "macd",
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
                "zero_side": zero,
            },
            day,
        )
    _last_macd_cross(out, ctx, events)
    zone = tech.rsi_zone()
    if zone is not None:
        rv = rnd(float(tech.rsi[-1]), "rsi")
        words = {
            "overbought": "overbought (above 70)",
            "oversold": "oversold (below 30)",
            "neutral": "between 30 and 70",
        }[zone]
        out.add(
            "rsi",
            f"RSI({p.rsi_window}) is {fmt(rv, 'rsi')}, {words}.",
            rv,
            "rsi",
            {"symbol": sym, "field": "close", "date": day, "window": p.rsi_window, "upper": 70, "lower": 30},
            day,
        )
    for role, lvl in nearest_levels(s).items():
        if lvl is None:
            where = "above" if role == "resistance" else "below"
            out.add(
                f"nearest_{role}",
                f"No active {role} level {where} the close.",
                None,
                "level",
                {"symbol": sym, "date": day},
                day,
            )
            continue
        level, dist, touch = (
            rnd(lvl.level, "level"),
            rnd(lvl.distance_percent, "percent"),
            iso(lvl.last_touch),
        )
        out.add(
            f"nearest_{role}",
            f"Nearest {role}: {fmt(level, 'level')} ({fmt(dist, 'percent', sign=True)} from the close), "
            f"{lvl.touches} touches, last on {touch}.",
            level,
            "level",
            {
                "symbol": sym,
                "date": day,
                "touches": lvl.touches,
                "last_touch": touch,
                "distance_percent": dist,
            },
            day,
        )
    shown = patterns.add_facts(out, ctx)
    # recent events: brief["events"] and the section table
    recent_from = s.dates[max(0, s.last - p.event_bars + 1)]
    recent = events[events["date"] >= recent_from] if len(events) else events
    records = events_to_records(recent)
    records.sort(key=lambda r: (r["date"], r["kind"], str(r.get("fast", "")), str(r.get("window", ""))))
    out.add(
        "recent_events",
        f"{len(records)} signal events of {sym} in the last {p.event_bars} sessions (since {iso(recent_from)}).",
        len(records),
        "events",
        {"symbol": sym, "since": iso(recent_from), "sessions": p.event_bars},
        day,
    )
    out.parts["events"] = records
    out.table = {
        "columns": ["date", "event", "close"],
        "rows": [[r["date"], r["kind"], rnd(r["price"], "level")] for r in records[-15:]],
    }
    lo = max(0, s.last - p.chart_bars + 1)
    dates = [iso(d) for d in s.dates[lo:]]
    out.series["price"] = {
        "symbol": sym,
        "dates": dates,
        "open": _values(s.open[lo:], "level"),
        "high": _values(s.high[lo:], "level"),
        "low": _values(s.low[lo:], "level"),
        "close": _values(s.close[lo:], "level"),
        "sma_fast": _values(tech.sma_fast[lo:], "level"),
        "sma_slow": _values(tech.sma_slow[lo:], "level"),
        "fast": p.fast,
        "slow": p.slow,
        "patterns": patterns.chart_items(shown),
    }
    out.series["macd"] = {
        "symbol": sym,
        "dates": dates,
        "macd": _values(tech.macd[lo:], "macd"),
        "signal": _values(tech.signal[lo:], "macd"),
        "hist": _values(tech.hist[lo:], "macd"),
        "params": {"fast": p.macd_fast, "slow": p.macd_slow, "signal": p.macd_signal},
    }
    return out


def _last_ma_cross(out: SectionResult, ctx: SectionContext, events: Any) -> None:
    p, sym, day = ctx.params, ctx.main.symbol, iso(ctx.as_of)
    label = f"{p.fast}/{p.slow}-day SMA cross"
    row = last_event(events, ("golden_cross", "death_cross"))
    if row is None:
        out.add(
            "last_ma_cross",
            f"No {label} in the data.",
            None,
            "event",
            {"symbol": sym, "kinds": ["golden_cross", "death_cross"]},
            day,
        )
        return
    when = iso(row["date"])
    fast, slow = rnd(row["fast_value"], "level"), rnd(row["slow_value"], "level")
    out.add(
        "last_ma_cross",
        f"The latest {label} was a {str(row['kind']).replace('_', ' ')} on {when} ({int(row['fast'])}-day SMA "
        f"{fmt(fast, 'level')}, {int(row['slow'])}-day SMA {fmt(slow, 'level')}).",
        str(row["kind"]),
        "event",
        {
            "symbol": sym,
            "date": when,
            "kind": str(row["kind"]),
            "fast": int(row["fast"]),
            "slow": int(row["slow"]),
            "fast_value": fast,
            "slow_value": slow,
        },
        day,
    )


def _last_price_crosses(out: SectionResult, ctx: SectionContext, events: Any) -> None:
    p, s, day = ctx.params, ctx.main, iso(ctx.as_of)
    for window in (p.fast, p.slow):
        row = last_event(events, ("price_cross_above", "price_cross_below"), window=window)
        key = f"last_price_cross{window}"
        if row is None:
            out.add(
                key,
                f"The close has not crossed its {window}-day SMA in the data.",
                None,
                "event",
                {"symbol": s.symbol, "window": window},
                day,
            )
            continue
        when = iso(row["date"])
        direction = "above" if row["kind"] == "price_cross_above" else "below"
        ago = sessions_since(s.dates, when)
        out.add(
            key,
            f"The close last crossed {direction} its {window}-day SMA on {when}, {ago} sessions ago.",
            str(row["kind"]),
            "event",
            {
                "symbol": s.symbol,
                "date": when,
                "window": window,
                "sessions_ago": ago,
                "ma_value": rnd(row["ma_value"], "level"),
            },
            day,
        )


def _last_macd_cross(out: SectionResult, ctx: SectionContext, events: Any) -> None:
    sym, day = ctx.main.symbol, iso(ctx.as_of)
    row = last_event(events, ("macd_bullish_cross", "macd_bearish_cross"))
    if row is None:
        out.add(
            "last_macd_cross",
            "No MACD signal-line crossover in the data.",
            None,
            "event",
            {"symbol": sym},
            day,
        )
        return
    when = iso(row["date"])
    bull = row["kind"] == "macd_bullish_cross"
    zero = "above" if bool(row["above_zero"]) else "at or below"
    mv = rnd(row["macd"], "macd")
    out.add(
        "last_macd_cross",
        f"The last MACD crossover was {'bullish' if bull else 'bearish'} on {when}, with MACD at "
        f"{fmt(mv, 'macd')} ({zero} zero).",
        str(row["kind"]),
        "event",
        {
            "symbol": sym,
            "date": when,
            "kind": str(row["kind"]),
            "macd": mv,
            "above_zero": bool(row["above_zero"]),
        },
        day,
    )
