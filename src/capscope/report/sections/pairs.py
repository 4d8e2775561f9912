"""Facts of one pair (small vs large caps, growth vs value) from :func:`capscope.analytics.rotation.relative_strength`.

Periods are measured to the pair's own last common bar. When that bar is before the brief date the period labels
say so (``12M to 2025-12-24``), and when it is more than ``params.fresh_sessions`` sessions before, the section
opens with the date its data ends: a label never names a window it does not span.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from capscope.analytics import rotation as rot
from capscope.analytics.rounding import fmt, rnd
from capscope.analytics.series import series_of
from capscope.report.context import SectionContext, SectionResult, iso


@dataclass
class PairView:
    """What a pair section built (for the chart series and the section's own extra facts)."""

    rs: rot.RelativeStrength
    end: str
    stale: bool
    summary: dict[str, Any]
    series: dict[str, Any]


def period_specs(ctx: SectionContext) -> list[rot.PeriodSpec]:
    """The periods of ``params``: YTD, the N-month periods, the from-the-low period."""
    p = ctx.params
    specs = rot.default_periods(months=p.period_months, low_window=p.low_window)
    return specs if p.ytd else [s for s in specs if s.kind != "ytd"]


def build_pair(
    out: SectionResult, ctx: SectionContext, num: str, den: str, label_num: str, label_den: str
) -> PairView | None:
    """Add the facts of the pair ``num:den`` to ``out`` (returns ``None`` after a "not available" fact)."""
    p, section = ctx.params, out.section
    what = f"The {num} vs {den} comparison"
    missing = [
        s for s in (num, den) if s not in ctx.prices.symbols or not len(series_of(ctx.prices, s).dates)
    ]
    if missing:
        out.not_available(what, f"{', '.join(missing)} has no bars on or before {iso(ctx.as_of)}")
        return None
    end_day = rot.common_end(ctx.prices, num, den, ctx.as_of)
    if end_day is None:
        out.not_available(what, f"{num} and {den} have no common dates on or before {iso(ctx.as_of)}")
        return None
    # periods are always measured to the pair's own last common bar (as `capscope rotation` does when its data
    # ends before --as-of); the label names that end when it is before the brief date
    stale = not ctx.is_fresh(end_day)
    anchor = end_day
    rs = rot.relative_strength(
        ctx.prices,
        num,
        den,
        anchor,
        periods=period_specs(ctx),
        windows=p.leadership_windows,
        turning_points=False,
        sma_windows=(p.rs_window, max(p.rs_window, rot.RS_SMA_SLOW)),
    )
    end = iso(end_day)
    suffix = f" to {end}" if end_day < ctx.as_of else ""
    if stale:
        behind = ctx.sessions_behind(end_day)
        ends = {sym: iso(series_of(ctx.prices, sym).dates[-1]) for sym in (num, den)}
        out.add(
            "data_ends",
            f"The {num}/{den} data ends on {end} ({num} last bar {ends[num]}, {den} {ends[den]}), {behind} "
            f"sessions before the brief date {iso(ctx.as_of)}; every number below is measured to {end}.",
            end,
            "date",
            {
                "pair": rs.pair,
                "end": end,
                "sessions_behind": behind,
                "as_of": iso(ctx.as_of),
                "fresh_sessions": p.fresh_sessions,
                "last_dates": ends,
            },
            end_day,
        )
    bn, bd = rs.numerator, rs.denominator
    out.add(
        "basis",
        f"Price basis: {num} {bn.field} ({bn.basis.value.replace('_', ' ')}; {bn.source}), {den} {bd.field} "
        f"({bd.basis.value.replace('_', ' ')}; {bd.source}).",
        "same" if bn.basis == bd.basis else "mixed",
        "basis",
        {num: bn.to_dict(), den: bd.to_dict()},
        end_day,
    )
    # warnings without numbers are quoted; staleness is the data_ends fact above
    for i, warning in enumerate(w for w in rs.warnings if not any(ch.isdigit() for ch in w)):
        out.add(
            f"warning{i + 1}",
            warning[0].upper() + warning[1:] + ".",
            None,
            "warning",
            {"pair": rs.pair},
            end_day,
        )
    rows, periods = [], []
    for r in rs.returns:
        if r.start_date is None or not np.isfinite(r.numerator):
            continue
        pr = rot.pair_return_percent(r)
        label = r.label + suffix
        sday = iso(r.start_date)
        gap = pr.spread
        ahead = num if (gap or 0) > 0 else den if (gap or 0) < 0 else "neither"
        text = (
            f"{label} ({sday} to {end}): {label_num} {num} {fmt(pr.numerator, 'percent', sign=True)}, {label_den} "
            f"{den} {fmt(pr.denominator, 'percent', sign=True)}; gap {fmt(gap, 'pp', sign=True)} ({ahead} ahead"
        )
        show_ratio = pr.return_ratio is not None and section == "growth_value"
        text += f"; {num}'s gain is {fmt(pr.return_ratio, 'ratio')} times {den}'s)." if show_ratio else ")."
        out.add(
            r.label.replace(" ", "_"),
            text,
            gap,
            "pp",
            {
                "series": [f"{num}.{bn.field}", f"{den}.{bd.field}"],
                "period": r.label,
                "label": label,
                "anchor": iso(anchor),
                "start": sday,
                "end": end,
                num: pr.numerator,
                den: pr.denominator,
                "return_ratio": pr.return_ratio,
            },
            end_day,
        )
        periods.append(
            {
                "label": label,
                "start": sday,
                "end": end,
                "numerator_return": pr.numerator,
                "denominator_return": pr.denominator,
                "gap": gap,
                "return_ratio": pr.return_ratio,
            }
        )
        rows.append([label, sday, pr.numerator, pr.denominator, gap])
    out.table = {"columns": ["period", "from", f"{num} %", f"{den} %", "gap pp"], "rows": rows}
    leaders = []
    for lead in rs.leadership:
        if lead.leader is None:
            continue
        rel = rnd(lead.relative_return * 100, "percent")
        since = iso(lead.since)
        leader = {"numerator": num, "denominator": den}.get(lead.leader, lead.leader)
        out.add(
            f"leadership{lead.window}",
            f"In rolling {lead.window}-session windows up to {end}, {leader} has led for {lead.streak_bars} "
            f"session{'' if lead.streak_bars == 1 else 's'} (since {since}); the latest window's relative return is {fmt(rel, 'percent', sign=True)}.",
            lead.streak_bars,
            "sessions",
            {
                "pair": rs.pair,
                "window": lead.window,
                "leader": leader,
                "since": since,
                "end": end,
                "relative_return": rel,
            },
            end_day,
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
        out.add(
            "rs_state",
            f"On {end} the {num}/{den} relative-strength line is {side} its {rs.sma_windows[0]}-day SMA.",
            side,
            "state",
            {"pair": rs.pair, "window": rs.sma_windows[0], "date": end},
            end_day,
        )
    lo = max(0, last - p.chart_bars + 1)
    base = rs.ratio[lo]
    series = {
        "dates": [iso(d) for d in rs.dates[lo:]],
        "value": [rnd(v, "ratio") for v in (100.0 * rs.ratio[lo:] / base).tolist()],
        "sma": [rnd(v, "ratio") for v in (100.0 * rs.sma_fast[lo:] / base).tolist()],
        "window": rs.sma_windows[0],
        "basis": f"{bn.basis.value.replace('_', ' ')} / {bd.basis.value.replace('_', ' ')}",
    }
    summary = {
        "pair": rs.pair,
        "end": end,
        "stale": stale,
        "periods": periods,
        "leadership": leaders,
        "warnings": list(rs.warnings),
    }
    return PairView(rs, end, stale, summary, series)
