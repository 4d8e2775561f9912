"""Russell US index reconstitution calendar, computed from the published rules (no dates are hard-coded).

Rules used (FTSE Russell, "Russell US Indexes" construction and methodology, and its announcements):

* **Annual (June) reconstitution.** Rank day is April 30 (when April 30 falls on a weekend, the preceding
  Friday); the reconstituted indexes take effect after the close of the **fourth Friday of June** and the market
  opens with them on the following Monday. Example published schedule: 2024 rank day Tuesday April 30,
  final after the close on Friday June 28 (FTSE Russell, "2024 Russell US Indexes reconstitution schedule").
* **Semi-annual reconstitution from 2026.** FTSE Russell announced in January 2025 ("Russell US Indexes move to
  semi-annual reconstitution", LSEG press release) that from 2026 the indexes are reconstituted twice a year:
  the fourth Friday in June as before, plus an additional implementation on the **second Friday in November**,
  contingent on a parallel run in November 2025. FTSE Russell's February 2026 note "Insights from the November
  2025 Russell US Indexes parallel run" confirms the transition and refers to it as taking place in
  **December 2026**. The two sources disagree on the month, so the second date is reported as *provisional*,
  computed as the second Friday of :data:`SEMI_ANNUAL_MONTH` with the other candidate named beside it; its rank
  day is not stated in those sources and is left out.

Calendar dates are weekdays; exchange holidays are not applied (a Friday holiday would move the date).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: First year with a second (semi-annual) reconstitution.
SEMI_ANNUAL_FROM = 2026
#: Month of the second reconstitution per the January 2025 announcement (second Friday).
SEMI_ANNUAL_MONTH = 11
#: The other candidate month, named in FTSE Russell's February 2026 note.
SEMI_ANNUAL_ALT_MONTH = 12

ANNOUNCEMENT_SOURCES = (
    "FTSE Russell (LSEG) press release, January 2025: 'Russell US Indexes move to semi-annual reconstitution' "
    "(fourth Friday in June plus second Friday in November, beginning November 2026)",
    "FTSE Russell research note, 16 February 2026: 'Insights from the November 2025 Russell US Indexes "
    "parallel run' (transition to the semi-annual schedule in December 2026)",
)

_FRIDAY = 4


def nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The ``n``-th (1-based) ``weekday`` (Monday = 0) of ``month``."""
    first = dt.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    day = first + dt.timedelta(days=offset + 7 * (n - 1))
    if day.month != month:
        raise ValueError(f"{year}-{month:02d} has no {n}th weekday {weekday}")
    return day


def _previous_weekday(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


@dataclass(frozen=True)
class Reconstitution:
    """One reconstitution event.

    Attributes
    ----------
    kind
        ``annual`` (June) or ``semi_annual`` (the second one, from 2026).
    effective
        The day after whose close the new membership takes effect.
    rank_day
        Market-cap ranking day, when the rules state it.
    provisional
        True when the sources disagree on the date (see the module docstring).
    note
        Rule used to compute the dates.
    """

    kind: str
    effective: dt.date
    rank_day: dt.date | None
    provisional: bool
    note: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return {
            "kind": self.kind,
            "effective": self.effective.isoformat(),
            "rank_day": self.rank_day.isoformat() if self.rank_day else None,
            "provisional": self.provisional,
            "note": self.note,
        }


def june_reconstitution(year: int) -> Reconstitution:
    """The annual June reconstitution of ``year``."""
    return Reconstitution(
        kind="annual",
        effective=nth_weekday(year, 6, _FRIDAY, 4),
        rank_day=_previous_weekday(dt.date(year, 4, 30)),
        provisional=False,
        note="rank day April 30 (preceding Friday on a weekend); effective after the close of the fourth Friday of June",
    )


def semi_annual_reconstitution(year: int) -> Reconstitution | None:
    """The second reconstitution of ``year`` (``None`` before :data:`SEMI_ANNUAL_FROM`)."""
    if year < SEMI_ANNUAL_FROM:
        return None
    alt = nth_weekday(year, SEMI_ANNUAL_ALT_MONTH, _FRIDAY, 2)
    return Reconstitution(
        kind="semi_annual",
        effective=nth_weekday(year, SEMI_ANNUAL_MONTH, _FRIDAY, 2),
        rank_day=None,
        provisional=True,
        note=(
            "second Friday of November per the January 2025 announcement; FTSE Russell's February 2026 note "
            f"places the transition in December ({alt.isoformat()} if it is the second Friday)"
        ),
    )


def calendar(year: int) -> list[Reconstitution]:
    """Every reconstitution of ``year`` in date order."""
    out = [june_reconstitution(year)]
    second = semi_annual_reconstitution(year)
    if second is not None:
        out.append(second)
    return out


def around(as_of: dt.date) -> tuple[Reconstitution | None, list[Reconstitution]]:
    """The latest reconstitution effective on or before ``as_of`` and the next ones within a year after it."""
    events = [r for y in range(as_of.year - 1, as_of.year + 2) for r in calendar(y)]
    past = [r for r in events if r.effective <= as_of]
    horizon = as_of + dt.timedelta(days=366)
    upcoming = [r for r in events if as_of < r.effective <= horizon]
    return (past[-1] if past else None), upcoming
