"""Chart-pattern facts of the technical section, in the tense of each pattern's life-cycle.

Patterns come from :func:`capscope.analytics.technical.chart_patterns` and are ordered by
:func:`~capscope.analytics.technical.by_latest_change` (the pattern whose status changed most recently first).

* **forming / confirmed**: target, invalidation and their distance from the close.
* **target_reached / failed** (finished, :func:`~capscope.analytics.technical.is_finished`): past tense with the
  date the pattern finished; no distance to a target or an invalidation price that is history.
"""

from __future__ import annotations

from typing import Any

from capscope.analytics.rounding import fmt, rnd
from capscope.analytics.technical import by_latest_change, chart_patterns, is_finished, percent_from
from capscope.report.context import SectionContext, SectionResult, iso

_FAILURE = {
    "invalidation": "a close beyond its invalidation price",
    "expired": "no breakout came in time",
    "neckline": "after the breakout the close went back through the neckline",
}


def name_of(record: dict[str, Any]) -> str:
    """``inverse head and shoulders``."""
    return str(record["kind"]).replace("_", " ")


def status_phrase(record: dict[str, Any]) -> str:
    """What happened to the pattern and when, in the right tense (``reached its target on 2026-03-20``)."""
    status, day = str(record["status"]), record["date"]
    if status == "forming":
        return f"was detected forming on {day}"
    if status == "confirmed":
        return f"was confirmed on {day}"
    if status == "target_reached":
        return f"reached its target on {day}"
    reason = _FAILURE.get(str((record.get("extra") or {}).get("failure", "")), "")
    return f"failed on {day}" + (f" ({reason})" if reason else "")


def add_facts(out: SectionResult, ctx: SectionContext) -> list[dict[str, Any]]:
    """Add the pattern facts to ``out``; returns the records shown (most recent status change first)."""
    p, s = ctx.params, ctx.main
    day = iso(s.dates[-1])
    detect_from = iso(s.dates[max(0, s.last - p.pattern_bars + 1)])
    since = iso(s.dates[max(0, s.last - p.chart_bars + 1)])
    found = by_latest_change(chart_patterns(s, p.pattern_bars), since)
    out.parts["patterns"] = found
    window = {"detected_from": detect_from, "detection_bars": p.pattern_bars, "since": since}
    if not found:
        out.add(
            "patterns",
            f"No chart pattern of {s.symbol} changed status since {since} (patterns are detected on the bars "
            f"from {detect_from}).",
            0,
            "patterns",
            {"symbol": s.symbol, **window},
            day,
        )
        return []
    shown = found[: p.max_patterns]
    out.add(
        "patterns",
        f"{len(found)} chart patterns of {s.symbol} changed status since {since} (detected on the bars from "
        f"{detect_from}); the {len(shown)} most recent are described, latest change first.",
        len(found),
        "patterns",
        {"symbol": s.symbol, **window, "shown": len(shown), "max_shown": p.max_patterns},
        day,
    )
    for i, rec in enumerate(shown):
        _one(out, ctx, rec, "" if i == 0 else f"_{i + 1}")
    return shown


def _one(out: SectionResult, ctx: SectionContext, rec: dict[str, Any], suffix: str) -> None:
    s = ctx.main
    sym, day = s.symbol, iso(s.dates[-1])
    close = float(s.close[-1])
    pts = ", ".join(
        f"{pt['role'].replace('_', ' ')} {pt['date']} at {fmt(rnd(pt['price'], 'level'), 'level')}"
        for pt in rec["points"]
    )
    neck = rec.get("neckline")
    text = f"Chart pattern: {name_of(rec)} ({pts})"
    if neck:
        text += (
            f"; neckline from {fmt(rnd(neck['price0'], 'level'), 'level')} ({neck['date0']}) to "
            f"{fmt(rnd(neck['price1'], 'level'), 'level')} ({neck['date1']})"
        )
    finished = is_finished(rec)
    text += f"; it {status_phrase(rec)}."
    inputs: dict[str, Any] = {
        "symbol": sym,
        "kind": rec["kind"],
        "status": rec["status"],
        "date": rec["date"],
        "finished": finished,
        # as printed: rounded prices (the unrounded record is in brief.json "patterns")
        "points": [{**pt, "price": rnd(pt["price"], "level")} for pt in rec["points"]],
        "neckline": (
            {**neck, "price0": rnd(neck["price0"], "level"), "price1": rnd(neck["price1"], "level")}
            if neck
            else None
        ),
        "quality": rnd(rec.get("quality"), "ratio"),
    }
    out.add(f"pattern{suffix}", text, rec["kind"], "pattern", inputs, day)
    if rec.get("breakout"):
        b = rec["breakout"]
        out.add(
            f"pattern{suffix}_breakout",
            f"It broke out on {b['date']} with a close of {fmt(rnd(b['price'], 'level'), 'level')}.",
            rnd(b["price"], "level"),
            "level",
            {"symbol": sym, "date": b["date"]},
            day,
        )
    target, invalid = rec.get("target"), rec.get("invalidation")
    if finished:
        # history: the date it finished, no distance from today's close
        if rec["status"] == "target_reached" and target is not None:
            t = rnd(target, "level")
            out.add(
                f"pattern{suffix}_target",
                f"It reached its measured-move target of {fmt(t, 'level')} on {rec['date']}.",
                t,
                "level",
                {"symbol": sym, "date": rec["date"], "status": rec["status"]},
                day,
            )
        elif target is not None:
            t = rnd(target, "level")
            out.add(
                f"pattern{suffix}_target",
                f"Its measured-move target of {fmt(t, 'level')} was not reached before it failed on "
                f"{rec['date']}.",
                t,
                "level",
                {"symbol": sym, "date": rec["date"], "status": rec["status"]},
                day,
            )
        return
    lead = (
        "If it breaks out, its measured-move target is"
        if rec["status"] == "forming"
        else "Measured-move target"
    )
    if target is not None:
        t = rnd(target, "level")
        dist = rnd(percent_from(float(target), close), "percent")
        out.add(
            f"pattern{suffix}_target",
            f"{lead} {fmt(t, 'level')} ({fmt(dist, 'percent', sign=True)} from the close on {day}).",
            t,
            "level",
            {"symbol": sym, "date": day, "distance_percent": dist},
            day,
        )
    if invalid is not None:
        iv = rnd(invalid, "level")
        dist = rnd(percent_from(float(invalid), close), "percent")
        out.add(
            f"pattern{suffix}_invalidation",
            f"The pattern is invalidated by a close beyond {fmt(iv, 'level')} ({fmt(dist, 'percent', sign=True)} "
            f"from the close on {day}).",
            iv,
            "level",
            {"symbol": sym, "date": day, "distance_percent": dist},
            day,
        )


def chart_items(shown: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The shown patterns as the price chart draws them."""
    keys = ("kind", "status", "points", "neckline", "breakout", "target", "invalidation")
    out = []
    for rec in shown:
        item = {k: rec.get(k) for k in keys}
        item["neckline_at_breakout"] = (rec.get("extra") or {}).get("neckline_at_breakout")
        out.append(item)
    return out
