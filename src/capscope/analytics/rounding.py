"""One rounding rule for every number capscope states (brief, verify, CLI tables).

A number is rounded to the display precision of its unit (:data:`DECIMALS`) once, and the rounded value is both
stored (JSON) and printed (text), so a number in a sentence is the number in the data.
"""

from __future__ import annotations

import math

#: Display precision per unit (decimal places); the stored value is rounded to the same places.
DECIMALS = {"level": 2, "percent": 2, "pp": 2, "ratio": 4, "macd": 2, "rsi": 1, "score": 2}


def rnd(value: float | None, unit: str) -> float | None:
    """Round ``value`` to the display precision of ``unit``.

    Parameters
    ----------
    value
        The number (``None`` and NaN/inf give ``None``).
    unit
        A key of :data:`DECIMALS`; other units are rounded to 4 places.

    Returns
    -------
    float or None
        The rounded value, with ``-0.0`` normalised to ``0.0``.
    """
    if value is None:
        return None
    f = float(value)
    if not math.isfinite(f):
        return None
    r = round(f, DECIMALS.get(unit, 4))
    return 0.0 if r == 0 else r


def fmt(value: float | None, unit: str, *, sign: bool = False) -> str:
    """Format a (rounded) value for a sentence: thousands separators, unit suffix for % and pp.

    Parameters
    ----------
    value
        The rounded value (``None`` prints ``n/a``).
    unit
        A key of :data:`DECIMALS`.
    sign
        Always print the sign.

    Returns
    -------
    str
        The text, e.g. ``+1.56 pp`` or ``2,735.10``.
    """
    if value is None:
        return "n/a"
    places = DECIMALS.get(unit, 4)
    text = f"{value:{'+' if sign else ''},.{places}f}"
    if unit == "percent":
        return text + "%"
    if unit == "pp":
        return text + " pp"
    return text
