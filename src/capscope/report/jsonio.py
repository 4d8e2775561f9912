"""Canonical JSON for briefs: the same brief always serializes to the same bytes.

Rules (documented precision):

* keys sorted, two-space indentation, UTF-8, a trailing newline;
* floats rounded to :data:`FLOAT_DIGITS` decimal places (``round`` half-to-even on the binary value) and
  ``-0.0`` written as ``0.0``; NaN and infinities become ``null`` (JSON has no NaN);
* numpy scalars and arrays, dates and tuples are converted to plain JSON types.

Values that the Markdown prints are rounded *before* they enter the brief (see
:mod:`capscope.report.facts`), so the printed number and the stored number are the same decimal.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import numpy as np

#: Decimal places kept for every float in brief.json.
FLOAT_DIGITS = 6


def clean(value: Any, digits: int = FLOAT_DIGITS) -> Any:
    """Return ``value`` converted to plain JSON types with floats rounded to ``digits`` places."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        if not math.isfinite(f):
            return None
        r = round(f, digits)
        return 0.0 if r == 0 else r
    if isinstance(value, str):
        return value
    if value is None:
        return None
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(value.astype("datetime64[D]"))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): clean(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v, digits) for v in value]
    if isinstance(value, np.ndarray):
        return [clean(v, digits) for v in value.tolist()]
    if hasattr(value, "to_dict"):
        return clean(value.to_dict(), digits)
    raise TypeError(f"cannot write {type(value).__name__} to brief.json: {value!r}")


def dumps(obj: Any) -> str:
    """Serialize a brief (or any JSON-able structure) canonically; see the module docstring."""
    return json.dumps(clean(obj), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def script_json(obj: Any) -> str:
    """JSON safe to embed inside an HTML ``<script>`` element.

    ``<``, ``>``, ``&`` and the JavaScript line separators are written as ``\\uXXXX`` escapes, so neither
    ``</script>`` nor ``<!--`` can appear in the element's text (HTML spec, "Restrictions for contents of
    script elements"); the value parsed by ``JSON.parse`` is unchanged.
    """
    text = json.dumps(clean(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
