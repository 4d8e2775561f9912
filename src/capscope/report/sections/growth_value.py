"""Growth vs value inside small caps (:mod:`capscope.report.sections.pairs`)."""

from __future__ import annotations

from capscope.report.context import SectionContext, SectionResult
from capscope.report.sections.pairs import build_pair

SECTION = "growth_value"


def build(ctx: SectionContext) -> SectionResult:
    """Pair facts of growth:value."""
    out = SectionResult(SECTION)
    p = ctx.params
    view = build_pair(out, ctx, p.growth, p.value, "growth", "value")
    if view is None:
        return out
    out.parts["rotation"] = {"growth_value": view.summary}
    out.series["growth_value"] = {
        "growth": p.growth,
        "value": p.value,
        "dates": view.series["dates"],
        "ratio": view.series["value"],
        "basis": view.series["basis"],
    }
    return out
