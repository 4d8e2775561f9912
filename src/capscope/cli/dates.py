"""Dates given on the command line: strict parsing and the as-of date the data can actually answer.

* :func:`parse_date` accepts only real calendar dates written ``YYYY-MM-DD`` (``2025-02-30`` and ``yesterday``
  are usage errors naming the option and the value).
* :func:`resolve_as_of` answers a date after the last bar as of the last bar, with one warning naming the last
  date (per source when the sources end on different dates); titles print :attr:`AsOf.used`.
* :func:`check_not_before_first` names a symbol's first bar when the as-of date precedes it.
* :func:`check_since` rejects a ``--since`` after the as-of date.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from capscope.errors import UsageError

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(value: str | date | None, option: str = "--as-of") -> date | None:
    """``"YYYY-MM-DD"`` -> :class:`datetime.date` (``None`` stays ``None``).

    Raises
    ------
    UsageError
        Not of the form ``YYYY-MM-DD`` or not a calendar date; the message names ``option`` and the value.
    """
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    if not _ISO.match(text):
        raise UsageError(f"{option} {value!r} is not a date: write it as YYYY-MM-DD, e.g. 2025-04-08")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"{option} {value!r} is not a date ({exc})") from None


def to_day(value: Any) -> date:
    """A ``date``, ``datetime64`` or ISO string as :class:`datetime.date`."""
    if isinstance(value, date):
        return value if type(value) is date else date(value.year, value.month, value.day)
    import numpy as np

    return date.fromisoformat(str(np.datetime64(value, "D")))


@dataclass(frozen=True)
class AsOf:
    """The as-of date asked for and the one used.

    Attributes
    ----------
    requested
        The ``--as-of`` value (``None`` when not given).
    used
        The date the answer is as of: ``requested``, or the last bar when ``requested`` is later or not given.
        Titles print this date.
    warning
        One sentence when ``requested`` is after the last bar (``None`` otherwise).
    """

    requested: date | None
    used: date
    warning: str | None = None

    @property
    def label(self) -> str:
        """``used`` as ``YYYY-MM-DD`` (what a title shows)."""
        return self.used.isoformat()


def _group_by_day(last_dates: Mapping[str, date], limit: int = 3) -> str:
    groups: dict[date, list[str]] = {}
    for name, day in last_dates.items():
        groups.setdefault(day, []).append(name)
    parts = []
    for day in sorted(groups, reverse=True):
        names = sorted(groups[day])
        who = ", ".join(names) if len(names) <= limit else f"{len(names):,} symbols"
        parts.append(f"{who} {day}")
    return "; ".join(parts)


def resolve_as_of(
    requested: str | date | None, last_dates: Mapping[str, Any], *, option: str = "--as-of"
) -> AsOf:
    """The as-of date to answer for, given each source's (or symbol's) last bar.

    Parameters
    ----------
    requested
        ``--as-of`` as given (string or date) or ``None``.
    last_dates
        Name of each source or symbol -> its last bar date (``date``, ``datetime64`` or ISO string).
    option
        The option's name, for messages.

    Returns
    -------
    AsOf
        ``used = min(requested, latest last bar)``; a warning when ``requested`` is after the latest last bar,
        naming the last date (each source's when they differ).
    """
    day = parse_date(requested, option)
    lasts = {name: to_day(value) for name, value in last_dates.items()}
    if not lasts:
        raise UsageError("no bars to answer from (the selection holds no data)")
    latest = max(lasts.values())
    if day is None:
        return AsOf(None, latest)
    if day <= latest:
        return AsOf(day, day)
    if len(set(lasts.values())) == 1:
        ends = f"the last bar is {latest}"
    else:
        ends = f"the data ends on different dates: {_group_by_day(lasts)}"
    warning = f"{option} {day} is after the last bar: answering as of {latest} ({ends})"
    return AsOf(day, latest, warning)


def check_not_before_first(
    as_of: AsOf | date | None,
    first_dates: Mapping[str, Any],
    *,
    every: bool = True,
    option: str = "--as-of",
) -> None:
    """Raise a usage error naming the first bar when the as-of date precedes it.

    Parameters
    ----------
    as_of
        The resolved date (``None``: nothing to check).
    first_dates
        Symbol -> first bar date.
    every
        ``True`` (symbols the user named): the date must not precede any symbol's first bar. ``False`` (a
        universe): only the earliest first bar counts.
    """
    if as_of is None or not first_dates:
        return
    day = as_of.used if isinstance(as_of, AsOf) else as_of
    firsts = {name: to_day(value) for name, value in first_dates.items()}
    if every:
        late = sorted((first, name) for name, first in firsts.items() if day < first)
        if late:
            first, name = late[-1]
            others = f" (and {len(late) - 1} more symbol(s))" if len(late) > 1 else ""
            raise UsageError(f"{option} {day} is before {name}'s first bar ({first}){others}")
        return
    earliest = min(firsts.values())
    if day < earliest:
        raise UsageError(f"{option} {day} is before the first bar of the data ({earliest})")


def check_since(since: date | None, as_of: AsOf | date, *, option: str = "--since") -> None:
    """``--since`` must not be after the as-of date (the window would be empty)."""
    if since is None:
        return
    day = as_of.used if isinstance(as_of, AsOf) else as_of
    if since > day:
        which = "--as-of" if isinstance(as_of, AsOf) and as_of.requested is not None else "the last bar"
        raise UsageError(
            f"{option} {since} is after the as-of date {day} ({which}): the window would be empty"
        )


def print_warning(as_of: AsOf) -> None:
    """Print ``as_of.warning`` (if any) once, on stderr."""
    if as_of.warning:
        from rich.markup import escape

        from capscope.cli.common import err_console

        err_console.print(f"[yellow]warning:[/] {escape(as_of.warning)}", highlight=False)


def panel_extent(panel: Any) -> tuple[dict[str, date], dict[str, date]]:
    """Per symbol of a :class:`~capscope.data.panel.Panel`: first and last date with a close."""
    import numpy as np

    firsts: dict[str, date] = {}
    lasts: dict[str, date] = {}
    if panel.n_bars == 0:
        return firsts, lasts
    valid = np.isfinite(panel.close)
    for j, sym in enumerate(panel.symbols):
        rows = np.flatnonzero(valid[:, j])
        if len(rows):
            firsts[sym] = to_day(panel.dates[rows[0]])
            lasts[sym] = to_day(panel.dates[rows[-1]])
    return firsts, lasts


def bars_extent(bars: Any) -> tuple[dict[str, date], dict[str, date]]:
    """Per symbol of a polars bar table: first and last date."""
    import polars as pl

    ext = bars.group_by("symbol").agg(pl.col("date").min().alias("first"), pl.col("date").max().alias("last"))
    firsts = {r["symbol"]: r["first"] for r in ext.iter_rows(named=True)}
    lasts = {r["symbol"]: r["last"] for r in ext.iter_rows(named=True)}
    return firsts, lasts


def resolve_for_symbols(
    requested: str | date | None,
    firsts: Mapping[str, date],
    lasts: Mapping[str, date],
    *,
    every: bool = True,
    warn: bool = True,
) -> AsOf:
    """:func:`resolve_as_of` + :func:`check_not_before_first` for symbols with known extents; prints the warning.

    ``every=True`` for symbols the user named, ``False`` for a universe.
    """
    as_of = resolve_as_of(requested, lasts)
    if as_of.requested is not None:
        check_not_before_first(as_of, firsts, every=every)
    if warn:
        print_warning(as_of)
    return as_of
