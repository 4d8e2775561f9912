"""Breadth of the universe (:func:`capscope.analytics.breadth.breadth`, the numbers of ``capscope breadth``).

The % above SMA measures use the brief's SMA windows. When the universe's data ends more than
``params.fresh_sessions`` sessions before the brief date, the section opens with the date it ends.
"""

from __future__ import annotations

from capscope.analytics import breadth as br
from capscope.analytics.rounding import fmt, rnd
from capscope.report.context import SectionContext, SectionResult, iso

SECTION = "breadth"


def build(ctx: SectionContext) -> SectionResult:
    """Facts of the breadth section."""
    out = SectionResult(SECTION)
    uni, name, p = ctx.universe, ctx.universe_name, ctx.params
    if uni is None or uni.n_symbols == 0 or uni.n_bars == 0:
        out.not_available(
            "Breadth", f"the data has no universe of stocks with bars on or before {iso(ctx.as_of)}"
        )
        return out
    res = br.breadth(uni, ctx.as_of, short_window=p.fast, long_window=p.slow)
    latest = res.latest()
    prm = res.params
    end = res.dates[-1]
    day = latest["date"]
    if not ctx.is_fresh(end):
        behind = ctx.sessions_behind(end)
        out.add(
            "data_ends",
            f"The {name} universe data ends on {day}, {behind} sessions before the brief date {iso(ctx.as_of)}; "
            f"breadth below is as of {day}.",
            day,
            "date",
            {
                "universe": name,
                "last_date": day,
                "as_of": iso(ctx.as_of),
                "sessions_behind": behind,
                "fresh_sessions": p.fresh_sessions,
            },
            end,
        )
    for key, window in (("short", prm["short_window"]), ("long", prm["long_window"])):
        pct = rnd(latest.get(f"pct_above_{key}"), "percent")
        if pct is None:
            continue
        out.add(
            f"pct_above_{window}" if key == "long" or window != prm["long_window"] else f"pct_above_{key}",
            f"{fmt(pct, 'percent')} of the {name} ({latest[f'above_{key}']} of {latest[f'defined_{key}']}) closed "
            f"above their {window}-day SMA on {day}.",
            pct,
            "percent",
            {
                "universe": name,
                "date": day,
                "window": window,
                "above": latest[f"above_{key}"],
                "defined": latest[f"defined_{key}"],
                "measure": f"pct_above_{key}",
            },
            end,
        )
    out.add(
        "advance_decline",
        f"On {day}: {latest['advances']} advances and {latest['declines']} declines (net "
        f"{latest['net_advances']:+d}), {latest['new_highs']} new {prm['hl_window']}-session highs and "
        f"{latest['new_lows']} new lows.",
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
        end,
    )
    mc = rnd(latest.get("mcclellan"), "score")
    if mc is not None:
        out.add(
            "mcclellan",
            f"McClellan oscillator ({prm['ema_fast']}/{prm['ema_slow']}-day EMAs of ratio-adjusted net advances) on "
            f"{day}: {fmt(mc, 'score', sign=True)}.",
            mc,
            "score",
            {"universe": name, "date": day, "ema_fast": prm["ema_fast"], "ema_slow": prm["ema_slow"]},
            end,
        )
    out.parts["breadth"] = {
        "universe": name,
        "n_symbols": res.n_symbols,
        "params": prm,
        "latest": {k: (rnd(v, "percent") if isinstance(v, float) else v) for k, v in latest.items()},
    }
    lo = max(0, len(res.dates) - p.chart_bars)
    out.series["breadth"] = {
        "universe": name,
        "dates": [iso(d) for d in res.dates[lo:]],
        "pct_above_short": [rnd(v, "percent") for v in res["pct_above_short"][lo:].tolist()],
        "pct_above_long": [rnd(v, "percent") for v in res["pct_above_long"][lo:].tolist()],
        "lines": [
            ["pct_above_short", f"% above {prm['short_window']}-day SMA"],
            ["pct_above_long", f"% above {prm['long_window']}-day SMA"],
        ],
    }
    return out
