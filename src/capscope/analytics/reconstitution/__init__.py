"""Russell US Indexes reconstitution: the calendar (:mod:`.schedule`) and the membership simulator.

The calendar names are re-exported here because the brief's calendar section reads them as
``capscope.analytics.reconstitution.around`` / ``calendar`` / ``Reconstitution``.
"""

from capscope.analytics.reconstitution.schedule import (
    ANNOUNCEMENT_SOURCES,
    DATE_FIELDS,
    RECONSTITUTIONS,
    SEMI_ANNUAL_FROM,
    STATUSES,
    CalendarDate,
    Reconstitution,
    RussellCalendar,
    around,
    calendar,
    june_reconstitution,
    nth_weekday,
    semi_annual_reconstitution,
)

__all__ = [
    "ANNOUNCEMENT_SOURCES",
    "DATE_FIELDS",
    "RECONSTITUTIONS",
    "SEMI_ANNUAL_FROM",
    "STATUSES",
    "CalendarDate",
    "Reconstitution",
    "RussellCalendar",
    "around",
    "calendar",
    "june_reconstitution",
    "nth_weekday",
    "semi_annual_reconstitution",
]
