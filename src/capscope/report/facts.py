"""Names the brief's users imported from here before the brief was split into section modules.

The brief is built by :func:`capscope.report.brief.build_brief` from the section modules of
:mod:`capscope.report.sections`; numbers are rounded by :mod:`capscope.analytics.rounding`; one symbol's bars
are :class:`capscope.analytics.series.Series1`.
"""

from __future__ import annotations

from capscope.analytics.rounding import DECIMALS, fmt, rnd
from capscope.analytics.series import Series1, series_of
from capscope.report.brief import SECTIONS, BriefInputs, BriefParams, build_brief

__all__ = [
    "DECIMALS",
    "SECTIONS",
    "BriefInputs",
    "BriefParams",
    "Series1",
    "build_brief",
    "fmt",
    "rnd",
    "series_of",
]
