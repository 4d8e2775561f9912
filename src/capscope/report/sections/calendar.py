"""Reconstitution calendar (:mod:`capscope.analytics.reconstitution`): the last and the next Russell
reconstitutions around the brief date. The dates come from rules, not bars (``last_bar`` is ``None``)."""

from __future__ import annotations

import datetime as dt

from capscope.analytics import reconstitution as rc
from capscope.report.context import SectionContext, SectionResult, iso

SECTION = "reconstitution"


def build(ctx: SectionContext) -> SectionResult:
    """Facts of the calendar section."""
    out = SectionResult(SECTION)
    as_of = dt.date.fromisoformat(iso(ctx.as_of))
    last, upcoming = rc.around(as_of)
    out.parts["reconstitution"] = {
        "last": last.to_dict() if last else None,
        "upcoming": [r.to_dict() for r in upcoming],
        "sources": list(rc.ANNOUNCEMENT_SOURCES),
    }
    if last is not None:
        out.add(
            "last",
            f"Last reconstitution: effective after the close on {last.effective.isoformat()}"
            + (f" (rank day {last.rank_day.isoformat()})." if last.rank_day else "."),
            last.effective.isoformat(),
            "date",
            {
                "rule": last.note,
                "kind": last.kind,
                "rank_day": last.rank_day.isoformat() if last.rank_day else None,
            },
            None,
        )
    for i, r in enumerate(upcoming):
        days = (r.effective - as_of).days
        eff, rank = r.date_info("effective"), r.date_info("rank_day")
        text = (
            f"Next reconstitution ({r.name.capitalize()} {r.year}): effective after the close on "
            f"{r.effective.isoformat()}, {days} calendar days away"
        )
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
        out.add(
            f"next{i + 1}",
            text,
            r.effective.isoformat(),
            "date",
            {
                "rule": r.note,
                "kind": r.kind,
                "year": r.year,
                "rank_day": r.rank_day.isoformat() if r.rank_day else None,
                "days_away": days,
                "status": eff.status,
                "source": eff.source,
            },
            None,
        )
    out.add(
        "simulation",
        "Simulated membership changes are not computed: the data has no market capitalisations or share counts "
        "(capscope recon run simulates them from a universe table).",
        None,
        "not_available",
        {"reason": "no market-cap data"},
        None,
    )
    return out
