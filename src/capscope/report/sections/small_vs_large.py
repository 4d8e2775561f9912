"""Small vs large caps: the brief's symbol against its benchmark (:mod:`capscope.report.sections.pairs`)."""

from __future__ import annotations

from capscope.analytics.rotation import ytd_lagging_sessions
from capscope.analytics.rounding import fmt, rnd
from capscope.report.context import SectionContext, SectionResult, iso
from capscope.report.sections.pairs import build_pair

SECTION = "small_vs_large"


def build(ctx: SectionContext) -> SectionResult:
    """Pair facts of symbol:benchmark and how much of the year the symbol trailed."""
    out = SectionResult(SECTION)
    p = ctx.params
    view = build_pair(out, ctx, p.symbol, p.benchmark, "small caps", "large caps")
    if view is None:
        return out
    lag = ytd_lagging_sessions(view.rs.dates, view.rs.ratio)
    if lag is not None:
        base, behind, total = lag.base, lag.behind, lag.sessions
        share = rnd(lag.share_percent, "percent")
        year = view.end[:4]
        out.add(
            "ytd_lagging_sessions",
            f"On {behind} of {total} sessions of {year} up to {view.end} ({fmt(share, 'percent')}), "
            f"{p.symbol}'s year-to-date return was below {p.benchmark}'s.",
            share,
            "percent",
            {
                "pair": view.rs.pair,
                "base": iso(base),
                "end": view.end,
                "year": int(year),
                "behind": behind,
                "sessions": total,
            },
            view.end,
        )
        view.summary["ytd_lagging_sessions"] = {"behind": behind, "sessions": total}
    out.parts["rotation"] = {"small_vs_large": view.summary}
    out.series["relative_strength"] = {"symbol": p.symbol, "benchmark": p.benchmark, **view.series}
    return out
