"""brief.json: every statement of the brief as a fact with its inputs (DESIGN.md, "Brief").

:func:`build_brief` cuts the data at the as-of date, builds a :class:`~capscope.report.context.SectionContext`
and runs each section module of :mod:`capscope.report.sections` on it; the Markdown and HTML are rendered from
the resulting dict only. Layout::

    schema, as_of, requested_as_of, params, data, sections, facts, events, patterns, rotation, breadth,
    reconstitution, studies, series

* ``facts``: ``{id, section, text, value, unit, inputs}``; ``inputs`` names the series, dates and parameters
  used and ``last_bar``, the last bar the fact used. Numbers printed in ``text`` are the rounded ``value`` (or
  numbers in ``inputs``), so every number of brief.md is a number of brief.json.
* ``series``: the chart data (last ``params.chart_bars`` bars) the HTML charts are drawn from.
* ``data``: provenance (where each symbol came from, its first/last date in the source). It is the only part
  that may differ between a brief built from full data and one built from data truncated at ``as_of``.

No look-ahead: the panels are truncated at ``as_of`` before anything is computed. Rounding:
:func:`capscope.analytics.rounding.rnd` (prices, levels and percentages 2 decimals, ratios 4).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from capscope.analytics.series import series_of
from capscope.data.panel import to_datetime64
from capscope.errors import UsageError
from capscope.report.context import BriefInputs, BriefParams, SectionContext, SectionResult, iso
from capscope.report.sections import (
    SECTIONS,
    breadth,
    calendar,
    growth_value,
    headline,
    provenance,
    small_vs_large,
    study,
    technical,
)

__all__ = ["SECTIONS", "BriefInputs", "BriefParams", "build_brief", "make_context"]

#: Section builders in the order they run (the headline runs last, over their facts).
BUILDERS: tuple[Callable[[SectionContext], SectionResult], ...] = (
    technical.build,
    small_vs_large.build,
    growth_value.build,
    breadth.build,
    calendar.build,
    study.build,
    provenance.build,
)


def make_context(inputs: BriefInputs, params: BriefParams, as_of: Any) -> SectionContext:
    """Cut the inputs at ``as_of`` and find the brief date (the main symbol's last bar on or before it).

    Raises
    ------
    UsageError
        When the main symbol is not in the data or has no bar on or before ``as_of``.
    """
    prices = inputs.prices.truncate(as_of)
    if params.symbol not in prices.symbols:
        raise UsageError(f"symbol {params.symbol!r} is not in the data; symbols: {', '.join(prices.symbols)}")
    main = series_of(prices, params.symbol)
    if len(main.dates) == 0:
        raise UsageError(f"{params.symbol} has no bars on or before {iso(as_of)}")
    # the brief date is the main symbol's last bar: no other series may be used past it
    day = main.dates[-1]
    prices = prices.truncate(day)
    universe = inputs.universe.truncate(day) if inputs.universe is not None else None
    return SectionContext(params, day, prices, universe, inputs.universe_name, main)


def _merge(brief: dict[str, Any], parts: dict[str, Any]) -> None:
    for key, value in parts.items():
        if isinstance(value, dict) and isinstance(brief.get(key), dict):
            brief[key].update(value)
        else:
            brief[key] = value


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
        Last date that may be used (default: the last date of the prices panel).

    Returns
    -------
    dict
        JSON-ready brief; write it with :func:`capscope.report.jsonio.dumps`.
    """
    params = params or BriefParams()
    day = to_datetime64(as_of) if as_of is not None else inputs.prices.dates[-1]
    ctx = make_context(inputs, params, day)
    brief: dict[str, Any] = {
        "events": [],
        "patterns": [],
        "rotation": {},
        "breadth": {},
        "reconstitution": {},
        "studies": [],
        "series": {},
    }
    results = {r.section: r for r in (build(ctx) for build in BUILDERS)}
    by_id = {f["id"]: f for r in results.values() for f in r.facts}
    results["headline"] = headline.build(ctx, by_id)
    sections, facts = [], []
    for sid, title in SECTIONS:
        entry: dict[str, Any] = {"id": sid, "title": title, "facts": []}
        res = results.get(sid)
        if res is not None:
            entry["facts"] = [f["id"] for f in res.facts]
            facts += res.facts
            if res.table is not None:
                entry["table"] = res.table
            _merge(brief, res.parts)
            brief["series"].update(res.series)
        sections.append(entry)
    ids = [f["id"] for f in facts]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate fact ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    brief.update(
        {
            "schema": "capscope.brief/2",
            "as_of": iso(ctx.as_of),
            "requested_as_of": str(as_of) if as_of is not None else None,
            "params": params.to_dict(),
            "sections": sections,
            "facts": facts,
            "data": {
                "origin": inputs.origin,
                "symbols": [{"symbol": k, **inputs.provenance[k]} for k in sorted(inputs.provenance)],
            },
        }
    )
    return brief
