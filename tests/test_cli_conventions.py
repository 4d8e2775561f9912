"""The shared CLI helpers: date parsing and as-of resolution, choice wording, number formats, error handling."""

from __future__ import annotations

from datetime import date

import pytest

from capscope.cli import app as app_module
from capscope.cli.choices import check_choice, unknown_symbols
from capscope.cli.dates import (
    check_not_before_first,
    check_since,
    parse_date,
    resolve_as_of,
)
from capscope.cli.tables import fmt_level_pct, fmt_pct, fmt_price, fmt_volume, plural
from capscope.errors import DataError, UsageError

D = date.fromisoformat


@pytest.mark.parametrize(
    "value", ["2025-02-30", "2025-13-01", "yesterday", "", "2025/01/02", "20250102", "2025-1-2", " "]
)
def test_parse_date_refuses_what_is_not_a_calendar_date(value: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_date(value, "--since")
    assert str(err.value).startswith(f"--since {value!r} is not a date")


def test_parse_date_accepts_iso_dates() -> None:
    assert parse_date("2024-02-29") == D("2024-02-29")
    assert parse_date(None) is None and parse_date(D("2025-01-02")) == D("2025-01-02")


def test_as_of_after_the_last_bar_is_answered_as_of_the_last_bar() -> None:
    same = resolve_as_of("2030-01-01", {"RUT": D("2026-08-21"), "GSPC": D("2026-08-21")})
    assert same.used == D("2026-08-21") and same.requested == D("2030-01-01")
    assert same.warning == (
        "--as-of 2030-01-01 is after the last bar: answering as of 2026-08-21 (the last bar is 2026-08-21)"
    )
    differ = resolve_as_of(
        "2030-01-01", {"RUT": D("2026-08-21"), "IWN": D("2025-12-24"), "IWO": D("2025-12-24")}
    )
    assert differ.used == D("2026-08-21")
    assert differ.warning is not None and differ.warning.endswith(
        "(the data ends on different dates: RUT 2026-08-21; IWN, IWO 2025-12-24)"
    )
    inside = resolve_as_of("2025-06-30", {"RUT": D("2026-08-21")})
    assert inside.used == D("2025-06-30") and inside.warning is None
    on_last = resolve_as_of("2026-08-21", {"RUT": D("2026-08-21")})
    assert on_last.warning is None
    default = resolve_as_of(None, {"RUT": D("2026-08-21"), "IWN": D("2025-12-24")})
    assert default.used == D("2026-08-21") and default.warning is None


def test_as_of_before_the_first_bar_names_it() -> None:
    firsts = {"RUT": D("1987-09-10"), "IWM": D("2000-05-26")}
    with pytest.raises(UsageError, match=r"--as-of 1995-01-02 is before IWM's first bar \(2000-05-26\)"):
        check_not_before_first(D("1995-01-02"), firsts)
    check_not_before_first(D("1995-01-02"), firsts, every=False)  # a universe: only the earliest counts
    with pytest.raises(UsageError, match=r"before the first bar of the data \(1987-09-10\)"):
        check_not_before_first(D("1980-01-02"), firsts, every=False)
    check_not_before_first(D("2000-05-26"), firsts)


def test_since_after_as_of_is_a_usage_error() -> None:
    as_of = resolve_as_of("2025-06-30", {"RUT": D("2026-08-21")})
    with pytest.raises(
        UsageError, match=r"--since 2025-07-01 is after the as-of date 2025-06-30 \(--as-of\)"
    ):
        check_since(D("2025-07-01"), as_of)
    check_since(D("2025-06-30"), as_of)
    check_since(None, as_of)


def test_one_wording_for_invalid_choices() -> None:
    with pytest.raises(UsageError) as err:
        check_choice("--format", "tabel", ("table", "json", "csv"))
    assert str(err.value) == "--format 'tabel' is not one of: table, json, csv (did you mean 'table'?)"
    with pytest.raises(UsageError) as err:
        check_choice("--mode", "zzz", ("chartist", "lmw"))
    assert str(err.value) == "--mode 'zzz' is not one of: chartist, lmw"
    assert check_choice("--format", "json", ("table", "json")) == "json"
    msg = str(unknown_symbols(["rut", "QQQQ"], ["RUT", "QQQ", "GSPC"], "the store at x.duckdb"))
    assert msg == (
        "unknown symbols 'rut' (did you mean 'RUT'?), 'QQQQ' (did you mean 'QQQ'?) in the store at x.duckdb; "
        "3 symbols there"
    )
    # alternate sources (SYMBOL__source) are sources of a symbol: counted apart, never suggested
    msg = str(unknown_symbols(["RUTT"], ["RUT", "RUT__stooq", "RUT__yahoo", "IWM"], "the store at x.duckdb"))
    assert msg == (
        "unknown symbol 'RUTT' (did you mean 'RUT'?) in the store at x.duckdb; 2 symbols there "
        "(and 2 alternate sources)"
    )


def test_number_formats_by_unit() -> None:
    assert fmt_volume(637700.0) == "637,700" and fmt_volume(6037540000.0, compact=True) == "6.04B"
    assert fmt_volume(None) == "—" and fmt_volume(float("nan")) == "—"
    assert fmt_price(3031.123) == "3,031.12"
    assert fmt_pct(0.0123) == "+1.23%" and fmt_pct(-0.5) == "-50.00%" and fmt_pct(0.0) == "+0.00%"
    assert fmt_level_pct(45.26) == "45.3%" and fmt_level_pct(7.0) == "7.0%"
    assert plural(1, "session") == "1 session" and plural(2, "session") == "2 sessions"
    assert plural(0, "ingest") == "0 ingests" and plural(1_000, "bar") == "1,000 bars"


def _raise(exc: BaseException):  # type: ignore[no-untyped-def]
    def command(**_: object) -> None:
        raise exc

    return command


@pytest.mark.parametrize(
    ("exc", "code", "first"),
    [
        (UsageError("bad"), 2, "error: bad"),
        (DataError("broken", path="x.csv", line=3), 3, "error: x.csv, line 3: broken"),
        (KeyError("versus"), 70, "unexpected error: KeyError: 'versus'; please report it"),
    ],
)
def test_errors_end_in_one_line_and_their_exit_code(
    exc: BaseException,
    code: int,
    first: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("CAPSCOPE_DEBUG", raising=False)
    monkeypatch.setattr(
        app_module, "_click_command", lambda: type("C", (), {"main": staticmethod(_raise(exc))})
    )
    assert app_module.run(["anything"]) == code
    err = capsys.readouterr().err
    assert err.startswith(first) and "Traceback" not in err and len(err.strip().splitlines()) == 1
    # --debug (anywhere) or CAPSCOPE_DEBUG=1 adds the traceback
    assert app_module.run(["anything", "--debug"]) == code
    assert "Traceback" in capsys.readouterr().err
    monkeypatch.setenv("CAPSCOPE_DEBUG", "1")
    assert app_module.run(["anything"]) == code
    assert "Traceback" in capsys.readouterr().err


def test_usage_errors_from_click_keep_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert app_module.run(["scan", "--no-such-option"]) == 2
    assert app_module.run(["show", "RUT", "--rows", "-3"]) == 2
    assert app_module.run(["--help"]) == 0
    assert "Traceback" not in capsys.readouterr().err
