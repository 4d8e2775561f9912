"""Signals as typed event records: crosses, zero-line qualification, levels, breakouts.

Public API (imported lazily, so ``import capscope.events`` stays cheap):

* :func:`scan_panel`, :func:`scan_json`, :class:`ScanParams` -- every family at once (:mod:`.scan`);
* :func:`ma_crosses`, :func:`price_crosses`, :func:`macd_crosses`, :func:`rsi_crosses` (:mod:`.crosses`);
* :func:`level_events`, :func:`levels_as_of`, :class:`LevelParams` (:mod:`.levels`);
* :func:`breakout_events`, :class:`BreakoutParams` (:mod:`.breakouts`);
* :func:`events_to_records`, :func:`empty_events`, :func:`concat_events`, :func:`sort_events`, kind constants
  (:mod:`.records`).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "scan_panel": "scan",
    "scan_json": "scan",
    "ScanParams": "scan",
    "precompute_indicators": "scan",
    "ma_crosses": "crosses",
    "price_crosses": "crosses",
    "macd_crosses": "crosses",
    "rsi_crosses": "crosses",
    "cross_matrix": "crosses",
    "IndicatorCache": "crosses",
    "level_events": "levels",
    "levels_as_of": "levels",
    "LevelParams": "levels",
    "breakout_events": "breakouts",
    "BreakoutParams": "breakouts",
    "events_to_records": "records",
    "empty_events": "records",
    "concat_events": "records",
    "sort_events": "records",
    "make_events": "records",
    "EVENT_COLUMNS": "records",
    "EVENT_KINDS": "records",
    "KIND_FIELDS": "records",
    "KIND_GROUPS": "records",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'capscope.events' has no attribute {name!r}")
    return getattr(importlib.import_module(f"capscope.events.{module}"), name)
