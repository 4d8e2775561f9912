"""Russell US Indexes reconstitution calendar: a packaged table of sourced dates, rules for every other year, and
user calendar files that override any date.

Each reconstitution has three dates — the **rank day** (market caps are measured at its close), the
**preliminary list** (first add/delete lists posted after the close) and the **effective** day (the new indexes
apply after its close; the market opens with them on the next trading day) — and each date carries a status and
a source:

``published``
    a source gives the date (the packaged table ``analytics/data/russell_calendar.toml``);
``rule``
    computed from a published rule;
``inferred``
    computed from an assumed rule: no source gives the date or the rule;
``user``
    from the user's calendar file (``--calendar FILE``), which overrides everything else.

Rules (sources as gathered in the project's research notes, ``shared/research/reconstitution.md``):

* **June (annual).** Rank day April 30, or the last weekday before it when the 30th falls on a weekend (2023:
  Friday April 28); effective after the close of the **fourth Friday of June** (2023-06-23, 2024-06-28,
  2025-06-27). Sources: FTSE Russell 2023 and 2024 schedule releases (Mondo Visione); tradersmagazine.com 2025
  schedule (rank day 2025-04-30, preliminary lists 2025-05-23, effective 2025-06-27). Status ``rule`` for years
  the table does not list (2026-06-26, 2027-06-25).
* **December (semi-annual, from 2026).** LSEG press release, 16 January 2025, "Russell US Indexes move to
  semi-annual reconstitution": a second reconstitution on the second Friday of November from 2026, subject to a
  parallel run in November 2025. LSEG research, 16 February 2026, "Insights from the November 2025 Russell US
  Indexes parallel run": the move takes effect in **December 2026**, and December style changes are limited to
  new additions and size-driven moves. The later note stands. Neither gives the December dates, so they are
  ``inferred``: effective the **second Friday of December** (2026-12-11; the January 2025 rule moved to
  December), rank day the last weekday on or before **October 31** (the June rank day moved six months, like the
  effective month).
* **Preliminary lists** (assumption, ``inferred`` unless the table has the date): posted after the close five
  weeks before the effective day, the spacing of the published 2025 schedule (May 23 before June 27).

Exchange holidays are not applied: none falls on these days in the years computed (the fourth Friday of June is
June 22-28, after Juneteenth; the second Friday of December is December 8-14), but a user calendar file can
correct any date. Weekends are applied (rank days move to the preceding Friday).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from capscope.errors import DataError, UsageError

#: First year with a second (December) reconstitution (LSEG, 16 Feb 2026).
SEMI_ANNUAL_FROM: Final = 2026
#: Names of the reconstitutions, in calendar order.
RECONSTITUTIONS: Final[tuple[str, ...]] = ("june", "december")
#: Dates of a reconstitution, in calendar order.
DATE_FIELDS: Final[tuple[str, ...]] = ("rank_day", "preliminary_list", "effective")
#: Status words of a date (see the module docstring).
STATUSES: Final[tuple[str, ...]] = ("published", "rule", "inferred", "user")
#: Preliminary lists are posted this many days before the effective day (2025 schedule spacing; assumption).
PRELIMINARY_DAYS_BEFORE: Final = 35

SOURCE_JAN_2025: Final = (
    "LSEG press release, 16 Jan 2025, 'Russell US Indexes move to semi-annual reconstitution' (second "
    "reconstitution from 2026, then announced for the second Friday of November)"
)
SOURCE_FEB_2026: Final = (
    "LSEG research, 16 Feb 2026, 'Insights from the November 2025 Russell US Indexes parallel run' (semi-annual "
    "reconstitution takes effect in December 2026; December style changes limited to additions and size moves)"
)
SOURCE_JUNE_RULE: Final = (
    "FTSE Russell schedules 2023-2025 (Mondo Visione releases; tradersmagazine.com 2025): rank day April 30 "
    "(preceding weekday on a weekend), effective after the close of the fourth Friday of June"
)
#: Sources behind the calendar, for reports.
ANNOUNCEMENT_SOURCES: Final[tuple[str, ...]] = (SOURCE_JUNE_RULE, SOURCE_JAN_2025, SOURCE_FEB_2026)

_FRIDAY: Final = 4
_PACKAGED: Final = "russell_calendar.toml"


def nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The ``n``-th (1-based) ``weekday`` (Monday = 0) of ``month``.

    Raises
    ------
    ValueError
        When the month has no such day (a fifth Friday that does not exist).
    """
    first = dt.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    day = first + dt.timedelta(days=offset + 7 * (n - 1))
    if day.month != month:
        raise ValueError(f"{year}-{month:02d} has no {n}th weekday {weekday}")
    return day


def previous_weekday(day: dt.date) -> dt.date:
    """``day`` itself on a weekday, else the Friday before it."""
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


@dataclass(frozen=True)
class CalendarDate:
    """One date of a reconstitution with where it comes from.

    Attributes
    ----------
    field
        ``rank_day``, ``preliminary_list`` or ``effective``.
    date
        The day.
    status
        ``published``, ``rule``, ``inferred`` or ``user`` (see the module docstring).
    source
        The source or the rule that gives the date.
    """

    field: str
    date: dt.date
    status: str
    source: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready dict."""
        return {"date": self.date.isoformat(), "status": self.status, "source": self.source}


@dataclass(frozen=True)
class Reconstitution:
    """One reconstitution: its three dates, each with status and source.

    Attributes
    ----------
    year
        Calendar year.
    name
        ``june`` (annual) or ``december`` (semi-annual, from 2026).
    rank_day, preliminary_list, effective
        The dates (``effective``: the new indexes apply after its close).
    dates
        The same three dates with their status and source, in :data:`DATE_FIELDS` order.
    """

    year: int
    name: str
    rank_day: dt.date
    preliminary_list: dt.date
    effective: dt.date
    dates: tuple[CalendarDate, ...]

    @property
    def kind(self) -> str:
        """``annual`` (June) or ``semi_annual`` (December)."""
        return "annual" if self.name == "june" else "semi_annual"

    def date_info(self, field: str) -> CalendarDate:
        """The :class:`CalendarDate` of ``field`` (one of :data:`DATE_FIELDS`)."""
        for d in self.dates:
            if d.field == field:
                return d
        raise KeyError(f"{field!r}: choose one of {', '.join(DATE_FIELDS)}")

    @property
    def provisional(self) -> bool:
        """True when the effective date is not published or computed from a published rule (status ``inferred``)."""
        return self.date_info("effective").status == "inferred"

    @property
    def note(self) -> str:
        """One line saying how the effective date was obtained (its status and source)."""
        eff = self.date_info("effective")
        return f"effective date {eff.status}: {eff.source}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``kind``, ``effective``, ``rank_day``, ``provisional``, ``note`` kept for old readers)."""
        return {
            "year": self.year,
            "name": self.name,
            "kind": self.kind,
            "rank_day": self.rank_day.isoformat(),
            "preliminary_list": self.preliminary_list.isoformat(),
            "effective": self.effective.isoformat(),
            "provisional": self.provisional,
            "note": self.note,
            "dates": {d.field: d.to_dict() for d in self.dates},
        }


# ------------------------------------------------------------------------------------------------ rule dates


def _rule_dates(year: int, name: str) -> dict[str, CalendarDate] | None:
    """The rule-computed dates of one reconstitution, or ``None`` when there is none that year."""
    if name == "june":
        effective = CalendarDate(
            "effective",
            nth_weekday(year, 6, _FRIDAY, 4),
            "rule",
            "fourth Friday of June (rule of the FTSE Russell 2023-2025 schedules)",
        )
        rank = CalendarDate(
            "rank_day",
            previous_weekday(dt.date(year, 4, 30)),
            "rule",
            "April 30 or the preceding weekday (rule of the FTSE Russell 2023-2025 schedules)",
        )
    elif name == "december":
        if year < SEMI_ANNUAL_FROM:
            return None
        effective = CalendarDate(
            "effective",
            nth_weekday(year, 12, _FRIDAY, 2),
            "inferred",
            "second Friday of December (inferred: the month from " + SOURCE_FEB_2026 + "; the second-Friday "
            "rule from " + SOURCE_JAN_2025 + ")",
        )
        rank = CalendarDate(
            "rank_day",
            previous_weekday(dt.date(year, 10, 31)),
            "inferred",
            "October 31 or the preceding weekday (inferred: the June rank day April 30 moved six months with "
            "the effective month; no source gives the December rank day)",
        )
    else:
        raise UsageError(f"reconstitution {name!r}: choose one of {', '.join(RECONSTITUTIONS)}")
    preliminary = CalendarDate(
        "preliminary_list",
        effective.date - dt.timedelta(days=PRELIMINARY_DAYS_BEFORE),
        "inferred",
        f"{PRELIMINARY_DAYS_BEFORE // 7} weeks before the effective day (inferred from the published 2025 "
        "schedule: preliminary lists May 23, effective June 27)",
    )
    return {"rank_day": rank, "preliminary_list": preliminary, "effective": effective}


# ----------------------------------------------------------------------------------------------- table files


class CalendarEntry(BaseModel):
    """One dated entry of a calendar file (the packaged table or a user's ``--calendar FILE``)."""

    model_config = ConfigDict(extra="forbid", strict=False)

    year: int
    reconstitution: Literal["june", "december"]
    field: Literal["rank_day", "preliminary_list", "effective"]
    date: dt.date
    status: Literal["published", "rule", "inferred", "user"] = "user"
    source: str = ""

    @field_validator("year")
    @classmethod
    def _year_range(cls, value: int) -> int:
        if not 1979 <= value <= 2200:  # the Russell indexes start in 1979
            raise ValueError(f"year {value} is outside 1979..2200")
        return value


class CalendarFile(BaseModel):
    """A calendar file: ``schema_version = 1`` and a list ``dates`` of :class:`CalendarEntry`."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    dates: list[CalendarEntry]


def _describe_validation(exc: ValidationError, model: type[BaseModel], raw: Any) -> str:
    """One readable sentence per pydantic error, naming the entry, the key, the bad value and the valid choices."""
    parts = []
    for err in exc.errors():
        loc = err["loc"]
        where = ""
        if len(loc) >= 2 and loc[0] == "dates" and isinstance(loc[1], int):
            where = f"dates[{loc[1]}] (entry {loc[1] + 1})"
            key = ".".join(str(x) for x in loc[2:])
            fields = CalendarEntry.model_fields
        else:
            key = ".".join(str(x) for x in loc)
            fields = model.model_fields
        where = f"{where} key '{key}'" if where else f"key '{key}'"
        if err["type"] == "extra_forbidden":
            parts.append(f"{where} is not a known key; valid keys: {', '.join(fields)}")
        elif err["type"] == "missing":
            parts.append(f"{where} is missing (required keys: year, reconstitution, field, date)")
        else:
            parts.append(f"{where}: {err['msg']} (got {err.get('input')!r})")
    return "; ".join(parts)


def _load_raw(text: str, path: str, suffix: str) -> Any:
    """Parse TOML, JSON or YAML text (by file suffix) into plain Python objects."""
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        if suffix == ".json":
            return json.loads(text)
        if suffix in (".yaml", ".yml"):
            import yaml

            return yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot parse the calendar file: {exc}", path=path) from None
    except Exception as exc:  # yaml.YAMLError and its subclasses carry the line in the message
        raise DataError(f"cannot parse the calendar file: {exc}", path=path) from None
    raise UsageError(
        f"{path}: calendar files are .toml, .json, .yaml or .yml (got {suffix or 'no suffix'!r})"
    )


def parse_calendar_text(text: str, *, path: str, suffix: str) -> list[CalendarEntry]:
    """Validate a calendar file's text against :class:`CalendarFile`.

    Parameters
    ----------
    text
        File contents.
    path
        File name, for messages.
    suffix
        ``.toml``, ``.json``, ``.yaml`` or ``.yml``.

    Returns
    -------
    list of CalendarEntry
        The entries, in file order.

    Raises
    ------
    DataError
        Unparsable text, unknown keys or values (the message lists the valid ones), a date outside its year, or
        two entries for the same date.
    """
    raw = _load_raw(text, path, suffix)
    if not isinstance(raw, dict):
        raise DataError(
            "a calendar file holds a table with a list 'dates' (see docs/reconstitution.md)", path=path
        )
    try:
        parsed = CalendarFile.model_validate(raw)
    except ValidationError as exc:
        raise DataError(_describe_validation(exc, CalendarFile, raw), path=path) from None
    seen: dict[tuple[int, str, str], int] = {}
    for i, e in enumerate(parsed.dates):
        key = (e.year, e.reconstitution, e.field)
        if key in seen:
            raise DataError(
                f"dates[{i}] repeats dates[{seen[key]}] ({e.year} {e.reconstitution} {e.field}); keep one",
                path=path,
            )
        seen[key] = i
        if e.date.year != e.year:
            raise DataError(
                f"dates[{i}]: {e.field} {e.date.isoformat()} is not in year {e.year}; fix the year or the date",
                path=path,
            )
    return list(parsed.dates)


def read_calendar_file(path: str | Path) -> list[CalendarEntry]:
    """Read and validate a user calendar file (TOML, JSON or YAML; layout of the packaged table).

    Entries without a ``status`` get ``user``; without a ``source``, the file name.

    Raises
    ------
    UsageError
        The file does not exist or has an unknown suffix.
    DataError
        See :func:`parse_calendar_text`.
    """
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"--calendar {p}: no such file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read the calendar file ({exc}); save it as UTF-8", path=p) from None
    entries = parse_calendar_text(text, path=str(p), suffix=p.suffix.lower())
    return [e if e.source else e.model_copy(update={"source": f"user calendar {p}"}) for e in entries]


@cache
def packaged_entries() -> tuple[CalendarEntry, ...]:
    """The packaged table ``capscope/analytics/data/russell_calendar.toml``, validated."""
    text = resources.files("capscope.analytics").joinpath("data", _PACKAGED).read_text(encoding="utf-8")
    return tuple(parse_calendar_text(text, path=_PACKAGED, suffix=".toml"))


# ------------------------------------------------------------------------------------------------- calendar


def _build(
    year: int, name: str, overrides: Mapping[tuple[int, str, str], CalendarEntry]
) -> Reconstitution | None:
    rule = _rule_dates(year, name)
    mine = {f: overrides[(year, name, f)] for f in DATE_FIELDS if (year, name, f) in overrides}
    if rule is None and not mine:
        return None
    dates: dict[str, CalendarDate] = dict(rule or {})
    for f, e in mine.items():
        dates[f] = CalendarDate(f, e.date, e.status, e.source)
    missing = [f for f in DATE_FIELDS if f not in dates]
    if missing:
        raise DataError(
            f"the calendar gives {year} {name} without a rule for it (before {SEMI_ANNUAL_FROM} there is no "
            f"December reconstitution): give all of {', '.join(DATE_FIELDS)}; missing {', '.join(missing)}"
        )
    order = [dates[f] for f in DATE_FIELDS]
    for a, b in itertools.pairwise(order):
        if not a.date < b.date:
            raise DataError(
                f"{year} {name}: {a.field} {a.date.isoformat()} ({a.status}) is not before {b.field} "
                f"{b.date.isoformat()} ({b.status}); fix the calendar file"
            )
    return Reconstitution(
        year=year,
        name=name,
        rank_day=dates["rank_day"].date,
        preliminary_list=dates["preliminary_list"].date,
        effective=dates["effective"].date,
        dates=tuple(order),
    )


@dataclass(frozen=True)
class RussellCalendar:
    """The packaged table plus an optional user file (which wins), with rules for every other date.

    Attributes
    ----------
    entries
        Table entries by ``(year, reconstitution, field)``.
    """

    entries: Mapping[tuple[int, str, str], CalendarEntry]

    @classmethod
    def load(cls, user_file: str | Path | None = None) -> RussellCalendar:
        """The packaged table, overridden entry by entry by ``user_file`` when given."""
        table: dict[tuple[int, str, str], CalendarEntry] = {
            (e.year, e.reconstitution, e.field): e for e in packaged_entries()
        }
        if user_file is not None:
            table.update({(e.year, e.reconstitution, e.field): e for e in read_calendar_file(user_file)})
        return cls(table)

    def year(self, year: int) -> list[Reconstitution]:
        """Every reconstitution of ``year`` in date order."""
        out = [r for name in RECONSTITUTIONS if (r := _build(year, name, self.entries)) is not None]
        return sorted(out, key=lambda r: r.effective)

    def years(self, years: Iterable[int]) -> list[Reconstitution]:
        """Every reconstitution of ``years`` in date order."""
        return sorted((r for y in years for r in self.year(y)), key=lambda r: r.effective)

    def get(self, year: int, name: str) -> Reconstitution:
        """The ``name`` reconstitution of ``year``.

        Raises
        ------
        UsageError
            When there is none (December before 2026 unless a user file gives one).
        """
        if name not in RECONSTITUTIONS:
            raise UsageError(f"reconstitution {name!r}: choose one of {', '.join(RECONSTITUTIONS)}")
        r = _build(year, name, self.entries)
        if r is None:
            raise UsageError(
                f"there is no {name} reconstitution in {year}: the semi-annual (December) reconstitution starts "
                f"in {SEMI_ANNUAL_FROM}"
            )
        return r

    def around(self, as_of: dt.date) -> tuple[Reconstitution | None, list[Reconstitution]]:
        """The latest reconstitution effective on or before ``as_of`` and those effective within 366 days after."""
        events = self.years(range(as_of.year - 1, as_of.year + 2))
        past = [r for r in events if r.effective <= as_of]
        horizon = as_of + dt.timedelta(days=366)
        upcoming = [r for r in events if as_of < r.effective <= horizon]
        return (past[-1] if past else None), upcoming


@cache
def _default() -> RussellCalendar:
    return RussellCalendar.load()


def calendar(year: int, *, user_file: str | Path | None = None) -> list[Reconstitution]:
    """Every reconstitution of ``year`` in date order (packaged table, rules, then ``user_file`` overrides)."""
    cal = _default() if user_file is None else RussellCalendar.load(user_file)
    return cal.year(year)


def around(
    as_of: dt.date, *, user_file: str | Path | None = None
) -> tuple[Reconstitution | None, list[Reconstitution]]:
    """The latest reconstitution effective on or before ``as_of`` and the next ones within a year after it."""
    cal = _default() if user_file is None else RussellCalendar.load(user_file)
    return cal.around(as_of)


def june_reconstitution(year: int) -> Reconstitution:
    """The annual June reconstitution of ``year``."""
    return _default().get(year, "june")


def semi_annual_reconstitution(year: int) -> Reconstitution | None:
    """The December reconstitution of ``year`` (``None`` before :data:`SEMI_ANNUAL_FROM`)."""
    return None if year < SEMI_ANNUAL_FROM else _default().get(year, "december")


def parse_years(spec: str | None, *, today: dt.date | None = None) -> Sequence[int]:
    """Years from a ``YEAR`` or ``FIRST..LAST`` argument (default: the current year).

    Raises
    ------
    UsageError
        Anything else, a reversed range, or more than 100 years.
    """
    if spec is None or not spec.strip():
        return [(today or dt.date.today()).year]
    text = spec.strip()
    first, sep, last = text.partition("..")
    try:
        a = int(first)
        b = int(last) if sep else a
    except ValueError:
        raise UsageError(f"YEARS {spec!r}: give a year (2026) or a range (2023..2027)") from None
    if b < a:
        raise UsageError(f"YEARS {spec!r}: the range is reversed; write {b}..{a}")
    if a < 1979 or b > 2200 or b - a > 100:
        raise UsageError(f"YEARS {spec!r}: years must lie in 1979..2200, at most 100 of them")
    return list(range(a, b + 1))
