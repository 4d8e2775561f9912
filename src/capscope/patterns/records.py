"""The pattern record (DESIGN.md, "Pattern record"): one layout for chartist and Lo-Mamaysky-Wang patterns.

A record says what was found (``kind``), where (``points``, ``neckline``), what it implies (``target``,
``invalidation``) and what has happened since (``status``, ``breakout``), and on which bar the current status
became knowable (``date``). :meth:`PatternRecord.to_dict` gives the JSON-ready form used by ``capscope
patterns --format json``, ``capscope scan`` and ``brief.json``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date as _date
from datetime import datetime
from itertools import repeat
from typing import Any

import numpy as np

__all__ = [
    "ALL_KINDS",
    "ALL_STATUSES",
    "BEARISH_KINDS",
    "BULLISH_KINDS",
    "KIND_ASCENDING_TRIANGLE",
    "KIND_BROADENING",
    "KIND_BROADENING_BOTTOM",
    "KIND_BROADENING_TOP",
    "KIND_DESCENDING_TRIANGLE",
    "KIND_DOUBLE_BOTTOM",
    "KIND_DOUBLE_TOP",
    "KIND_HEAD_AND_SHOULDERS",
    "KIND_INVERSE_HEAD_AND_SHOULDERS",
    "KIND_RECTANGLE",
    "KIND_RECTANGLE_BOTTOM",
    "KIND_RECTANGLE_TOP",
    "KIND_SYMMETRIC_TRIANGLE",
    "KIND_TRIANGLE_BOTTOM",
    "KIND_TRIANGLE_TOP",
    "KIND_TRIPLE_BOTTOM",
    "KIND_TRIPLE_TOP",
    "MODE_CHARTIST",
    "MODE_LMW",
    "STATUS_CONFIRMED",
    "STATUS_FAILED",
    "STATUS_FORMING",
    "STATUS_TARGET_REACHED",
    "Breakout",
    "Line",
    "PatternRecord",
    "Point",
    "as_date",
]

STATUS_FORMING = "forming"
STATUS_CONFIRMED = "confirmed"
STATUS_FAILED = "failed"
STATUS_TARGET_REACHED = "target_reached"
ALL_STATUSES = (STATUS_FORMING, STATUS_CONFIRMED, STATUS_FAILED, STATUS_TARGET_REACHED)

MODE_CHARTIST = "chartist"
MODE_LMW = "lmw"

KIND_HEAD_AND_SHOULDERS = "head_and_shoulders"
KIND_INVERSE_HEAD_AND_SHOULDERS = "inverse_head_and_shoulders"
KIND_DOUBLE_TOP = "double_top"
KIND_DOUBLE_BOTTOM = "double_bottom"
KIND_TRIPLE_TOP = "triple_top"
KIND_TRIPLE_BOTTOM = "triple_bottom"
KIND_ASCENDING_TRIANGLE = "ascending_triangle"
KIND_DESCENDING_TRIANGLE = "descending_triangle"
KIND_SYMMETRIC_TRIANGLE = "symmetric_triangle"
KIND_RECTANGLE = "rectangle"
KIND_BROADENING = "broadening"
# Lo, Mamaysky and Wang (2000) name tops and bottoms of the last three families separately.
KIND_BROADENING_TOP = "broadening_top"
KIND_BROADENING_BOTTOM = "broadening_bottom"
KIND_TRIANGLE_TOP = "triangle_top"
KIND_TRIANGLE_BOTTOM = "triangle_bottom"
KIND_RECTANGLE_TOP = "rectangle_top"
KIND_RECTANGLE_BOTTOM = "rectangle_bottom"

#: Chartist kinds, in the order the CLI lists them.
CHARTIST_KINDS = (
    KIND_INVERSE_HEAD_AND_SHOULDERS,
    KIND_HEAD_AND_SHOULDERS,
    KIND_DOUBLE_BOTTOM,
    KIND_DOUBLE_TOP,
    KIND_TRIPLE_BOTTOM,
    KIND_TRIPLE_TOP,
    KIND_ASCENDING_TRIANGLE,
    KIND_DESCENDING_TRIANGLE,
    KIND_SYMMETRIC_TRIANGLE,
    KIND_RECTANGLE,
    KIND_BROADENING,
)
#: The ten Lo-Mamaysky-Wang kinds.
LMW_KINDS = (
    KIND_HEAD_AND_SHOULDERS,
    KIND_INVERSE_HEAD_AND_SHOULDERS,
    KIND_BROADENING_TOP,
    KIND_BROADENING_BOTTOM,
    KIND_TRIANGLE_TOP,
    KIND_TRIANGLE_BOTTOM,
    KIND_RECTANGLE_TOP,
    KIND_RECTANGLE_BOTTOM,
    KIND_DOUBLE_TOP,
    KIND_DOUBLE_BOTTOM,
)
ALL_KINDS = tuple(dict.fromkeys(CHARTIST_KINDS + LMW_KINDS))
#: Kinds whose expected breakout is upwards / downwards (the others break either way).
BULLISH_KINDS = frozenset(
    {KIND_INVERSE_HEAD_AND_SHOULDERS, KIND_DOUBLE_BOTTOM, KIND_TRIPLE_BOTTOM, KIND_ASCENDING_TRIANGLE}
)
BEARISH_KINDS = frozenset(
    {KIND_HEAD_AND_SHOULDERS, KIND_DOUBLE_TOP, KIND_TRIPLE_TOP, KIND_DESCENDING_TRIANGLE}
)


def as_date(day: Any) -> _date:
    """Convert ``datetime.date`` / ``datetime64`` / pandas ``Timestamp`` / ISO string to ``datetime.date``."""
    if isinstance(day, _date):
        if isinstance(day, datetime):  # datetime and pandas Timestamp are dates too
            return day.date()
        return day
    if isinstance(day, np.datetime64):
        return _date.fromisoformat(str(day.astype("datetime64[D]")))
    if isinstance(day, str):
        return _date.fromisoformat(day[:10])
    raise TypeError(f"not a date: {day!r}")


def _num(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


@dataclass(frozen=True)
class Point:
    """A named point of a pattern: ``role`` (``head``, ``left_shoulder``, ...), bar ``date`` and ``price``.

    ``index`` is the bar position in the series the pattern was found in (not serialised: positions depend on
    the panel, dates do not); ``confirm_date`` is the bar on which the point became knowable, when known.
    """

    role: str
    date: _date
    price: float
    index: int | None = field(default=None, compare=False)
    confirm_date: _date | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "date", as_date(self.date))
        object.__setattr__(self, "price", float(self.price))
        if self.confirm_date is not None:
            object.__setattr__(self, "confirm_date", as_date(self.confirm_date))

    def to_dict(self) -> dict[str, Any]:
        """``{role, date, price}`` (``confirm_date`` too when known)."""
        out: dict[str, Any] = {"role": self.role, "date": self.date.isoformat(), "price": _num(self.price)}
        if self.confirm_date is not None:
            out["confirm_date"] = self.confirm_date.isoformat()
        return out


@dataclass(frozen=True)
class Line:
    """A straight line through two (date, price) points, e.g. a possibly sloped neckline.

    ``index0``/``index1`` are the bar positions of the two dates in the series the line was drawn on;
    :meth:`price_at` with an ``int`` interpolates in bars (how the patterns use it: trading days, not calendar
    days), with a date it interpolates in calendar days (for drawing).
    """

    date0: _date
    price0: float
    date1: _date
    price1: float
    index0: int | None = field(default=None, compare=False)
    index1: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "date0", as_date(self.date0))
        object.__setattr__(self, "date1", as_date(self.date1))
        object.__setattr__(self, "price0", float(self.price0))
        object.__setattr__(self, "price1", float(self.price1))

    @property
    def slope_per_bar(self) -> float:
        """Price change per bar (needs ``index0``/``index1``)."""
        if self.index0 is None or self.index1 is None:
            raise ValueError("this line has no bar positions; use price_at(date)")
        if self.index1 == self.index0:
            return 0.0
        return (self.price1 - self.price0) / (self.index1 - self.index0)

    def price_at(self, where: int | _date | np.datetime64 | str) -> float:
        """Price of the line at a bar position (``int``) or a date (calendar-day interpolation)."""
        if isinstance(where, int | np.integer):
            if self.index0 is None:
                raise ValueError("this line has no bar positions; use price_at(date)")
            return self.price0 + self.slope_per_bar * (int(where) - self.index0)
        day = as_date(where)
        span = (self.date1 - self.date0).days
        if span == 0:
            return self.price0
        return self.price0 + (self.price1 - self.price0) * (day - self.date0).days / span

    def to_dict(self) -> dict[str, Any]:
        """``{date0, price0, date1, price1}``."""
        return {
            "date0": self.date0.isoformat(),
            "price0": _num(self.price0),
            "date1": self.date1.isoformat(),
            "price1": _num(self.price1),
        }


@dataclass(frozen=True)
class Breakout:
    """The bar whose close went beyond the neckline (``date``) and that close (``price``)."""

    date: _date
    price: float
    index: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "date", as_date(self.date))
        object.__setattr__(self, "price", float(self.price))

    def to_dict(self) -> dict[str, Any]:
        """``{date, price}``."""
        return {"date": self.date.isoformat(), "price": _num(self.price)}


@dataclass(frozen=True)
class PatternRecord:
    """One chart pattern as of some date.

    Attributes
    ----------
    symbol
        The symbol the pattern was found in.
    kind
        ``inverse_head_and_shoulders``, ``head_and_shoulders``, ``double_bottom``, ... (``KIND_*``).
    status
        ``forming``, ``confirmed``, ``failed`` or ``target_reached`` (``STATUS_*``).
    points
        The named points in time order.
    neckline
        The line whose crossing confirms the pattern (``None`` when the kind has none).
    breakout
        The confirming close, or ``None`` before it.
    target
        Measured-move price target (``None`` before a breakout direction is known for two-sided kinds).
    invalidation
        Price whose crossing fails the pattern.
    quality
        Geometric quality in ``[0, 1]`` (documented per mode in ``docs/patterns.md``).
    date
        Bar on which the current status became knowable (never before the last point's confirmation).
    mode
        ``chartist`` or ``lmw``.
    scale
        Pivot scale the pattern was found at (chartist: zig-zag threshold in ATR multiples; LMW: window).
    extra
        Kind-specific geometry and details (e.g. ``upper``/``lower`` lines of a triangle, ``direction``,
        ``failure`` reason, ``height``), JSON-ready values only.
    """

    symbol: str
    kind: str
    status: str
    points: tuple[Point, ...]
    neckline: Line | None
    breakout: Breakout | None
    target: float | None
    invalidation: float | None
    quality: float
    date: _date
    mode: str = MODE_CHARTIST
    scale: float | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.status not in ALL_STATUSES:
            raise ValueError(f"status must be one of {ALL_STATUSES}, got {self.status!r}")
        if not 0.0 <= float(self.quality) <= 1.0:
            raise ValueError(f"quality must be in [0, 1], got {self.quality}")
        object.__setattr__(self, "points", tuple(self.points))
        object.__setattr__(self, "date", as_date(self.date))
        object.__setattr__(self, "quality", float(self.quality))

    def point(self, role: str) -> Point:
        """The point with ``role`` (``KeyError`` listing the roles when absent)."""
        for p in self.points:
            if p.role == role:
                return p
        raise KeyError(f"no point {role!r}; roles: {', '.join(p.role for p in self.points)}")

    @property
    def last_point_date(self) -> _date:
        """Date of the latest point."""
        return max(p.date for p in self.points)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: dates as ISO strings, NaN as ``None``, lines and points as dicts."""
        return {
            "symbol": self.symbol,
            "kind": self.kind,
            "status": self.status,
            "date": self.date.isoformat(),
            "mode": self.mode,
            "scale": _num(self.scale),
            "quality": round(self.quality, 4),
            "points": [p.to_dict() for p in self.points],
            "neckline": self.neckline.to_dict() if self.neckline is not None else None,
            "breakout": self.breakout.to_dict() if self.breakout is not None else None,
            "target": _num(self.target),
            "invalidation": _num(self.invalidation),
            "extra": _jsonable(self.extra),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Line | Point | Breakout):
        return value.to_dict()
    if isinstance(value, _date):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return as_date(value).isoformat()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return _num(float(value))
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def trusted_records(cls: type[Any], values: list[dict[str, Any]]) -> list[Any]:
    """Instances of the frozen record class ``cls`` (:class:`Point`, :class:`Line`, :class:`Breakout`,
    :class:`PatternRecord`), one per dict of field values, without running ``__post_init__``.

    For the chartist panel pass, which builds thousands of records per second from values it has normalised
    once: the values must already be what ``__post_init__`` would make of them (``datetime.date`` dates,
    Python ``float`` prices, a tuple of points, a valid status and quality) and every field must be given.
    Each dict becomes an instance's ``__dict__``.

    Parameters
    ----------
    cls
        The record class.
    values
        One dict of field values per instance.

    Returns
    -------
    list
        The instances, in the order of ``values``.
    """
    made = list(map(object.__new__, repeat(cls, len(values))))
    # object.__setattr__ passes by the frozen class's __setattr__, as dataclasses' own __init__ does
    for _ in map(object.__setattr__, made, repeat("__dict__"), values):
        pass
    return made
