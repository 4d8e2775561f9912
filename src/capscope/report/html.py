"""brief.html: one self-contained page rendered from brief.json.

Jinja2 with autoescaping on for every template (``select_autoescape(default=True)``), so every string from data
(symbols, fact texts, table cells) is HTML-escaped. Figures are embedded as JSON in
``<script type="application/json">`` elements through :func:`capscope.report.jsonio.script_json`, which writes
``<``, ``>`` and ``&`` as ``\\uXXXX`` escapes so no data can close the element. The plotly.js bundle is inlined
(:mod:`capscope.report.assets`) and a Content-Security-Policy meta tag forbids every network fetch, so the page
opens offline and cannot load anything external even by accident.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from capscope.report.assets import PlotlyBundle, plotly_js
from capscope.report.charts import figures
from capscope.report.jsonio import script_json
from capscope.report.markdown import section_view

#: Charts shown under each section.
SECTION_CHARTS = {
    "technical": ["price", "macd"],
    "small_vs_large": ["relative_strength"],
    "growth_value": ["growth_value"],
    "breadth": ["breadth"],
    "studies": ["study"],
}


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("capscope.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        keep_trailing_newline=True,
    )


def render_html(brief: dict[str, Any], *, bundle: PlotlyBundle | None = None) -> str:
    """Render the brief as one self-contained HTML page.

    Parameters
    ----------
    brief
        The brief as written to brief.json (:func:`capscope.report.brief.build_brief`).
    bundle
        plotly.js to inline; defaults to :func:`capscope.report.assets.plotly_js`.
    """
    bundle = bundle or plotly_js()
    figs = figures(brief)
    sections = []
    for view in section_view(brief):
        view["charts"] = [c for c in SECTION_CHARTS.get(view["id"], []) if c in figs]
        sections.append(view)
    # the bundle is pinned by sha256 and checked to hold no "</script"; figure JSON is escaped by script_json
    js = bundle.source.replace("</script", "<\\/script")
    template = _environment().get_template("brief.html.j2")
    return template.render(
        title=f"capscope brief: {brief['params']['symbol']} as of {brief['as_of']}",
        brief=brief,
        sections=sections,
        figures=[(key, Markup(script_json(fig))) for key, fig in figs.items()],
        plotly_js=Markup(js),
        plotly_name=bundle.name,
    )
