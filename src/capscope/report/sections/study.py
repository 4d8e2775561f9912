"""Event study: how the signals that fired recently did before (:mod:`capscope.analytics.signal_study`)."""

from __future__ import annotations

from typing import Any

from capscope.analytics.rounding import fmt, rnd
from capscope.analytics.signal_study import study_recent_signals
from capscope.report.context import SectionContext, SectionResult, iso

SECTION = "studies"


def build(ctx: SectionContext) -> SectionResult:
    """Facts of the event-study section (the main symbol's events in the last ``event_bars`` sessions)."""
    out = SectionResult(SECTION)
    p, s = ctx.params, ctx.main
    recent_from = s.dates[max(0, s.last - p.event_bars + 1)]
    found = study_recent_signals(s.dates, s.close, ctx.events, recent_from, p.horizons)
    studies: list[dict[str, Any]] = []
    rows = []
    for st in found:
        mean, base = rnd(st.mean * 100, "percent"), rnd(st.baseline_mean * 100, "percent")
        hit = rnd(st.hit_rate * 100, "percent")
        first = iso(st.first) if st.first is not None else None
        studies.append(
            {
                "symbol": s.symbol,
                "kind": st.kind,
                "horizon": st.horizon,
                "n": st.n,
                "mean_return": mean,
                "median_return": rnd(st.median * 100, "percent"),
                "hit_rate": hit,
                "baseline_mean": base,
                "first": first,
            }
        )
        rows.append([st.kind, st.horizon, st.n, mean, hit, base])
        if st.horizon != p.horizons[0]:
            continue
        out.add(
            f"{st.kind}.{st.horizon}",
            f"After the {st.n} earlier {st.kind.replace('_', ' ')} events of {s.symbol} (since {first}), the next "
            f"{st.horizon} sessions returned {fmt(mean, 'percent', sign=True)} on average "
            f"({fmt(hit, 'percent')} positive) against {fmt(base, 'percent', sign=True)} for any "
            f"{st.horizon}-session window.",
            mean,
            "percent",
            {
                "symbol": s.symbol,
                "field": "close",
                "kind": st.kind,
                "horizon": st.horizon,
                "n": st.n,
                "first": first,
                "hit_rate": hit,
                "baseline_mean": base,
                "since": iso(recent_from),
                "end": iso(ctx.as_of),
            },
            ctx.as_of,
        )
    out.parts["studies"] = studies
    if not out.facts:
        out.add(
            "none",
            f"No signal of {s.symbol} that fired since {iso(recent_from)} has an earlier event with a complete "
            f"{p.horizons[0] if p.horizons else 0}-session window after it.",
            None,
            "study",
            {"symbol": s.symbol, "since": iso(recent_from), "horizons": list(p.horizons)},
            ctx.as_of,
        )
    if rows:
        out.table = {
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
    return out
