"""The reconstitution calendar: sourced dates, rule years, statuses, user calendar files, ``capscope recon calendar``.

Golden dates: FTSE Russell schedules 2023 and 2024 (Mondo Visione releases), tradersmagazine.com's 2025 schedule,
LSEG 16 Feb 2026 (December 2026); see ``shared/research/reconstitution.md``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from capscope.analytics.reconstitution import schedule as sc
from capscope.errors import DataError, UsageError
from tests.cli_helpers import run_main

D = dt.date

#: (year, name) -> (rank day, effective, status of the effective day)
EXPECTED = {
    (2023, "june"): (D(2023, 4, 28), D(2023, 6, 23), "published"),  # April 30 2023 was a Sunday
    (2024, "june"): (D(2024, 4, 30), D(2024, 6, 28), "published"),
    (2025, "june"): (D(2025, 4, 30), D(2025, 6, 27), "published"),
    (2026, "june"): (D(2026, 4, 30), D(2026, 6, 26), "rule"),
    (2026, "december"): (D(2026, 10, 30), D(2026, 12, 11), "inferred"),
    (2027, "june"): (D(2027, 4, 30), D(2027, 6, 25), "rule"),
    (2027, "december"): (D(2027, 10, 29), D(2027, 12, 10), "inferred"),
}


def test_calendar_2023_to_2027() -> None:
    cal = sc.RussellCalendar.load()
    got = {
        (r.year, r.name): (r.rank_day, r.effective, r.date_info("effective").status)
        for r in cal.years(range(2023, 2028))
    }
    assert got == EXPECTED
    assert cal.get(2025, "june").preliminary_list == D(2025, 5, 23)
    assert cal.get(2025, "june").date_info("preliminary_list").status == "published"
    assert cal.get(2024, "june").date_info("preliminary_list").status == "inferred"
    dec = cal.get(2026, "december")
    assert "16 Feb 2026" in dec.date_info("effective").source
    assert [d.status for d in dec.dates] == ["inferred"] * 3


def test_no_december_before_2026() -> None:
    assert [r.name for r in sc.calendar(2025)] == ["june"]
    with pytest.raises(UsageError, match="starts in 2026"):
        sc.RussellCalendar.load().get(2025, "december")


@given(st.integers(min_value=1990, max_value=2150))
def test_rules_hold_every_year(year: int) -> None:
    for r in sc.calendar(year):
        assert r.effective.weekday() == 4  # a Friday
        assert r.rank_day.weekday() < 5
        assert r.rank_day < r.preliminary_list < r.effective
        if r.name == "june":
            assert r.effective.month == 6 and 22 <= r.effective.day <= 28  # fourth Friday
            assert r.rank_day.month == 4 and r.rank_day.day >= 28  # April 30 or the Friday before
        else:
            assert year >= 2026 and r.effective.month == 12 and 8 <= r.effective.day <= 14


def test_user_file_overrides_one_date(tmp_path: Path) -> None:
    f = tmp_path / "cal.toml"
    f.write_text(
        'schema_version = 1\n[[dates]]\nyear = 2026\nreconstitution = "december"\nfield = "effective"\n'
        'date = 2026-12-18\nsource = "my broker\'s note"\n'
    )
    cal = sc.RussellCalendar.load(f)
    dec = cal.get(2026, "december")
    assert dec.effective == D(2026, 12, 18)
    assert dec.date_info("effective").status == "user"
    assert dec.date_info("rank_day").status == "inferred"  # the others still come from the rules
    assert cal.get(2026, "june").effective == D(2026, 6, 26)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            '[[dates]]\nyear = 2026\nreconstitution = "november"\nfield = "effective"\ndate = 2026-11-13\n',
            "'june' or 'december'",
        ),
        (
            '[[dates]]\nyear = 2026\nreconstitution = "june"\nfield = "effective"\ndate = 2026-06-26\ncolour = 1\n',
            "valid keys: year, reconstitution, field, date, status, source",
        ),
        (
            '[[dates]]\nyear = 2026\nreconstitution = "june"\nfield = "effective"\ndate = 2026-06-26\nstatus = "confirmed"\n',
            "'published', 'rule', 'inferred' or 'user'",
        ),
        (
            '[[dates]]\nyear = 2026\nreconstitution = "june"\nfield = "close"\ndate = 2026-06-26\n',
            "'rank_day', 'preliminary_list' or 'effective'",
        ),
        (
            '[[dates]]\nyear = 2026\nreconstitution = "june"\nfield = "effective"\ndate = 2027-06-25\n',
            "not in year 2026",
        ),
        (
            '[[dates]]\nyear = 2026\nreconstitution = "june"\nfield = "effective"\ndate = 2026-04-01\n',
            "is not before effective",
        ),
        ("dates = 3\n", "dates"),
        ("[[dates]\n", "cannot parse"),
    ],
)
def test_bad_user_files(tmp_path: Path, text: str, needle: str) -> None:
    f = tmp_path / "cal.toml"
    f.write_text(text)
    with pytest.raises(DataError) as info:
        sc.RussellCalendar.load(f).years([2026])
    assert needle in str(info.value)


def test_json_and_yaml_user_files(tmp_path: Path) -> None:
    entry = {
        "year": 2027,
        "reconstitution": "june",
        "field": "rank_day",
        "date": "2027-04-29",
        "status": "published",
        "source": "x",
    }
    j = tmp_path / "c.json"
    j.write_text(json.dumps({"dates": [entry]}))
    y = tmp_path / "c.yaml"
    y.write_text(
        "dates:\n  - year: 2027\n    reconstitution: june\n    field: rank_day\n    date: 2027-04-29\n"
    )
    assert sc.RussellCalendar.load(j).get(2027, "june").rank_day == D(2027, 4, 29)
    assert sc.RussellCalendar.load(y).get(2027, "june").date_info("rank_day").status == "user"


def test_cli_calendar_table_and_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = run_main(["recon", "calendar", "2023..2027", "--format", "json"], monkeypatch, capsys)
    assert code == 0, err
    data = json.loads(out)
    got = {
        (r["year"], r["name"]): (r["rank_day"], r["effective"], r["dates"]["effective"]["status"])
        for r in data["reconstitutions"]
    }
    assert got == {k: (a.isoformat(), b.isoformat(), s) for k, (a, b, s) in EXPECTED.items()}
    for columns in (60, 80, 160):
        monkeypatch.setenv("COLUMNS", str(columns))
        code, out, err = run_main(["recon", "calendar", "2026"], monkeypatch, capsys)
        assert code == 0, err
        assert "2026-12-11" in out and "inferred" in out and "2026-11-13" not in out
        assert max(len(line) for line in out.splitlines()) <= columns
        assert "…" not in out


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["recon", "calendar", "20x6"], 2, "give a year"),
        (["recon", "calendar", "2027..2023"], 2, "reversed"),
        (["recon", "calendar", "2026", "--format", "csv"], 2, "is not one of: table, json"),
        (["recon", "calendar", "2026", "--calendar", "/nonexistent/cal.toml"], 2, "no such file"),
    ],
)
def test_cli_calendar_errors(
    args: list[str],
    code: int,
    needle: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    got, _, err = run_main(args, monkeypatch, capsys)
    assert got == code
    assert needle in err and "Traceback" not in err


def test_cli_bad_calendar_file_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "cal.toml"
    f.write_text(
        '[[dates]]\nyear = 2026\nreconstitution = "june"\nfield = "effective"\ndate = 2026-06-26\nstatus = "final"\n'
    )
    code, _, err = run_main(["recon", "calendar", "2026", "--calendar", str(f)], monkeypatch, capsys)
    assert code == 3
    assert str(f) in err and "status" in err and "'published'" in err
