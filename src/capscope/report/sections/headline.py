"""Headline: a few lines restating facts of the other sections.

Only facts whose data reaches the brief date (``inputs.last_bar`` within ``params.fresh_sessions`` sessions,
:meth:`capscope.report.context.SectionContext.is_fresh`) are restated; a stale section speaks for itself, opening
with the date its data ends. The pattern line names the pattern whose status changed most recently.
"""

from __future__ import annotations

from typing import Any

from capscope.analytics.rounding import fmt
from capscope.report.context import SectionContext, SectionResult, iso
from capscope.report.sections.patterns import status_phrase

SECTION = "headline"


def _fresh(ctx: SectionContext, fact: dict[str, Any] | None) -> bool:
    if fact is None or fact["value"] is None:
        return False
    last = fact["inputs"].get("last_bar")
    return last is not None and ctx.is_fresh(last)


def _last_bar(facts: list[dict[str, Any]]) -> str:
    return min(f["inputs"]["last_bar"] for f in facts)


def build(ctx: SectionContext, facts: dict[str, dict[str, Any]]) -> SectionResult:
    """Headline facts from the other sections' facts (``facts``: id -> fact)."""
    out = SectionResult(SECTION)
    p, sym = ctx.params, ctx.main.symbol

    def get(fid: str) -> dict[str, Any] | None:
        fact = facts.get(fid)
        return fact if _fresh(ctx, fact) else None

    close, ytd = get("technical.close"), get("small_vs_large.YTD")
    used = [f for f in (close, ytd) if f]
    parts = []
    if close:
        parts.append(f"{sym} closed at {fmt(close['value'], 'level')} on {iso(ctx.as_of)}")
    if ytd:
        parts.append(
            f"{fmt(ytd['inputs'][sym], 'percent', sign=True)} year to date, {fmt(ytd['value'], 'pp', sign=True)} "
            f"versus {p.benchmark}"
        )
    if parts:
        out.add(
            "summary",
            ", ".join(parts) + ".",
            close["value"] if close else None,
            "level",
            {"facts": [f["id"] for f in used]},
            _last_bar(used),
        )
    trend_facts = [
        f for f in (get(f"technical.sma{p.fast}"), get(f"technical.sma{p.slow}"), get("technical.macd")) if f
    ]
    bits = [
        f"{f['inputs']['side']} its {f['inputs']['window']}-day SMA"
        for f in trend_facts
        if "side" in f["inputs"]
    ]
    bits += [f"with MACD {f['inputs']['zero_side']} zero" for f in trend_facts if "zero_side" in f["inputs"]]
    if bits:
        slow = facts.get(f"technical.sma{p.slow}")
        out.add(
            "trend",
            f"{sym} is " + ", ".join(bits) + ".",
            slow["inputs"].get("side") if slow and slow["value"] is not None else None,
            "state",
            {"facts": [f["id"] for f in trend_facts]},
            _last_bar(trend_facts),
        )
    windows = list(p.leadership_windows)
    order = windows[len(windows) // 2 :] + windows[: len(windows) // 2][::-1]
    lead = next((f for f in (get(f"small_vs_large.leadership{w}") for w in order) if f), None)
    state = get("small_vs_large.rs_state")
    if lead and state:
        i = lead["inputs"]
        out.add(
            "leadership",
            f"{i['leader']} has led over rolling {i['window']}-session windows for {lead['value']} sessions; "
            f"the {p.symbol}/{p.benchmark} line is {state['value']} its {state['inputs']['window']}-day SMA.",
            i["leader"],
            "state",
            {"facts": [lead["id"], state["id"]]},
            _last_bar([lead, state]),
        )
    gv = next((f for f in (get("growth_value.YTD"), get("growth_value.12M")) if f), None)
    if gv:
        i = gv["inputs"]
        out.add(
            "growth_value",
            f"Within small caps, growth {p.growth} {fmt(i[p.growth], 'percent', sign=True)} vs value {p.value} "
            f"{fmt(i[p.value], 'percent', sign=True)} {i['label']}, a {fmt(gv['value'], 'pp', sign=True)} gap "
            f"({i['start']} to {i['end']}).",
            gv["value"],
            "pp",
            {"facts": [gv["id"]]},
            _last_bar([gv]),
        )
    breadth = get(f"breadth.pct_above_{p.slow}")
    if breadth:
        i = breadth["inputs"]
        out.add(
            "breadth",
            f"Breadth: {fmt(breadth['value'], 'percent')} of the {i['universe']} closed above their {i['window']}-day "
            f"SMA on {i['date']}.",
            breadth["value"],
            "percent",
            {"facts": [breadth["id"]]},
            _last_bar([breadth]),
        )
    pat = get("technical.pattern")
    if pat:
        rec = pat["inputs"]
        text = f"Most recent chart-pattern change: the {rec['kind'].replace('_', ' ')} {status_phrase(rec)}"
        tgt = facts.get("technical.pattern_target")
        inv = facts.get("technical.pattern_invalidation")
        if rec["finished"]:
            if tgt and rec["status"] == "target_reached":
                text += f" (target {fmt(tgt['value'], 'level')})"
        else:
            extras = []
            if tgt:
                extras.append(f"target {fmt(tgt['value'], 'level')}")
            if inv:
                extras.append(f"invalidation {fmt(inv['value'], 'level')}")
            if extras:
                text += " (" + ", ".join(extras) + ")"
        used_p = [pat] + [f for f in (tgt, inv) if f]
        out.add(
            "pattern",
            text + ".",
            pat["value"],
            "pattern",
            {"facts": [f["id"] for f in used_p], "status": rec["status"], "date": rec["date"]},
            _last_bar([pat]),
        )
    if not out.facts:
        out.add(
            "none",
            f"No fact about {sym} reaches the brief date {iso(ctx.as_of)}.",
            None,
            "state",
            {},
            ctx.as_of,
        )
    return out
