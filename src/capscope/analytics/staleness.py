"""How far a series' last bar lies behind the as-of date, in sessions of a reference calendar.

A "session" is a bar of the reference calendar (the brief's main symbol: its trading dates are the sessions of
the market the brief is about). ``sessions_behind(calendar, last, as_of)`` counts the calendar's sessions after
``last`` up to and including ``as_of``: 0 when the series has a bar on the as-of session, 1 when it stopped the
session before, and so on. A series is *fresh* when it is at most :data:`FRESH_SESSIONS` sessions behind; only
fresh data may be stated without its end date (DESIGN.md, "Trust rules": headlines use only data that reaches
the as-of date).
"""

from __future__ import annotations

import numpy as np

#: A series at most this many sessions behind the as-of date counts as reaching it.
FRESH_SESSIONS = 5


def sessions_behind(calendar: np.ndarray, last: np.datetime64, as_of: np.datetime64) -> int:
    """Sessions of ``calendar`` after ``last`` up to and including ``as_of``.

    Parameters
    ----------
    calendar
        Increasing ``datetime64[D]`` session dates (the reference market's bars).
    last
        The series' last bar.
    as_of
        The as-of date.

    Returns
    -------
    int
        ``0`` when ``last >= as_of``; otherwise the number of sessions in ``(last, as_of]``.
    """
    end = np.asarray(last).astype("datetime64[D]")
    day = np.asarray(as_of).astype("datetime64[D]")
    if end >= day:
        return 0
    cal = np.asarray(calendar, dtype="datetime64[D]")
    return int(np.searchsorted(cal, day, side="right") - np.searchsorted(cal, end, side="right"))


def is_fresh(
    calendar: np.ndarray, last: np.datetime64, as_of: np.datetime64, sessions: int = FRESH_SESSIONS
) -> bool:
    """True when ``last`` is at most ``sessions`` sessions of ``calendar`` before ``as_of``."""
    return sessions_behind(calendar, last, as_of) <= sessions
