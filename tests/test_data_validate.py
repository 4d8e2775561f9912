"""Bad-input corpus for the readers/validator: every problem names file, line and column and says what to do.

The corpus is generated here (no fixture files): a small valid file in the sample layout is corrupted one way per
case. Line numbers count the header as line 1, so data row ``i`` (0-based) is line ``i + 2``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from capscope.data.readers import read_bars, read_many
from capscope.data.validate import OHLC_REL_TOL, Repair, validate_bars
from capscope.errors import DataError

HEADER = "date,open,high,low,close,adj_close,volume"
ROWS = [
    "2024-01-02,10,11,9,10.5,,100",
    "2024-01-03,10.5,12,10,11,,200",
    "2024-01-04,11,11.5,10.5,11.2,,150",
    "2024-01-05,11.2,11.4,10.9,11.0,,175",
]


def text(*rows: str, header: str = HEADER, newline: str = "\n", final: bool = True) -> bytes:
    body = newline.join([header, *rows])
    return (body + (newline if final else "")).encode("utf-8")


def replace_row(i: int, row: str) -> list[str]:
    rows = list(ROWS)
    rows[i] = row
    return rows


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    line: int | None
    column: str | None
    says: tuple[str, ...]  # words the message must contain (what is wrong and what to do)


CORPUS = [
    Case("empty_file", b"", 1, None, ("empty", "header")),
    Case("whitespace_only", b"\n \r\n", 1, None, ("empty",)),
    Case("header_only", text(), 2, None, ("header only", "add")),
    Case("header_only_no_newline", text(final=False), 2, None, ("header only",)),
    Case(
        "missing_close",
        text("2024-01-02,10,11,9,,100", header="date,open,high,low,adj_close,volume"),
        1,
        "close",
        ("missing required column 'close'", "'date', 'open', 'high', 'low', 'adj_close', 'volume'"),
    ),
    Case(
        "missing_date",
        text("x,10,11,9,10.5,,100", header="day_of,open,high,low,close,adj_close,volume"),
        1,
        "date",
        ("missing required column 'date'", "day_of"),
    ),
    Case(
        "missing_low_only",
        text("2024-01-02,10,11,10.5,,100", header="date,open,high,close,adj_close,volume"),
        1,
        "low",
        ("missing required column 'low'", "none of them"),
    ),
    Case(
        "two_columns_mean_close",
        text("2024-01-02,10,11,9,10.5,10.5,,100", header="date,open,high,low,close,Close,adj_close,volume"),
        1,
        "Close",
        ("both mean 'close'",),
    ),
    Case(
        "unparsable_date",
        text(*replace_row(2, "2024-13-04,11,11.5,10.5,11.2,,150")),
        4,
        "date",
        ("2024-13-04", "not a date"),
    ),
    Case(
        "text_date",
        text(*replace_row(1, "yesterday,10.5,12,10,11,,200")),
        3,
        "date",
        ("yesterday", "fix or remove"),
    ),
    Case("empty_date", text(*replace_row(3, ",11.2,11.4,10.9,11.0,,175")), 5, "date", ("missing",)),
    Case(
        "duplicate_identical",
        text(*ROWS[:2], ROWS[1], *ROWS[2:]),
        4,
        "date",
        ("duplicate date 2024-01-03", "line 3", "line 4", "--repair"),
    ),
    Case(
        "duplicate_conflicting",
        text(*ROWS[:2], "2024-01-03,10.5,12,10,11.9,,200", *ROWS[2:]),
        4,
        "date",
        ("duplicate date 2024-01-03", "different values in close", "never guesses"),
    ),
    Case("unsorted", text(ROWS[0], ROWS[2], ROWS[1], ROWS[3]), 4, "date", ("ascending", "sort", "--repair")),
    Case("zero_close", text(*replace_row(1, "2024-01-03,10.5,12,10,0,,200")), 3, "close", ("> 0",)),
    Case(
        "negative_open",
        text(*replace_row(2, "2024-01-04,-11,11.5,10.5,11.2,,150")),
        4,
        "open",
        ("-11", "> 0"),
    ),
    Case(
        "negative_adj_close",
        text("2024-01-02,10,11,9,10.5,-1,100", *[r.replace(",,", ",1,") for r in ROWS[1:]]),
        2,
        "adj_close",
        ("> 0",),
    ),
    Case(
        "negative_volume", text(*replace_row(3, "2024-01-05,11.2,11.4,10.9,11.0,,-5")), 5, "volume", (">= 0",)
    ),
    Case(
        "high_below_low",
        text(*replace_row(1, "2024-01-03,10.5,9.5,12,11,,200")),
        3,
        "high",
        ("below low", "swapped"),
    ),
    Case(
        "close_above_high",
        text(*replace_row(2, "2024-01-04,11,11.5,10.5,11.6,,150")),
        4,
        "close",
        ("above high",),
    ),
    Case(
        "close_below_low",
        text(*replace_row(2, "2024-01-04,11,11.5,10.5,10.4,,150")),
        4,
        "close",
        ("below low",),
    ),
    Case(
        "open_above_high", text(*replace_row(0, "2024-01-02,11.5,11,9,10.5,,100")), 2, "open", ("above high",)
    ),
    Case("open_below_low", text(*replace_row(0, "2024-01-02,8,11,9,10.5,,100")), 2, "open", ("below low",)),
    Case(
        "nan_close",
        text(*replace_row(2, "2024-01-04,11,11.5,10.5,NaN,,150")),
        4,
        "close",
        ("not a finite number",),
    ),
    Case(
        "inf_high",
        text(*replace_row(2, "2024-01-04,11,inf,10.5,11.2,,150")),
        4,
        "high",
        ("not a finite number",),
    ),
    Case(
        "empty_close",
        text(*replace_row(1, "2024-01-03,10.5,12,10,,,200")),
        3,
        "close",
        ("close is empty", "fill it in"),
    ),
    Case(
        "text_in_close",
        text(*replace_row(3, "2024-01-05,11.2,11.4,10.9,eleven,,175")),
        5,
        "close",
        ("'eleven'", "not a number"),
    ),
    Case(
        "thousands_separator",
        text(*replace_row(3, "2024-01-05,11.2,11.4,10.9,11.0,,1'750")),
        5,
        "volume",
        ("not a number",),
    ),
    Case(
        "partly_empty_volume",
        text(*replace_row(2, "2024-01-04,11,11.5,10.5,11.2,,")),
        4,
        "volume",
        ("empty on this row but filled on others", "empty the whole column"),
    ),
    Case(
        "partly_empty_open",
        text(*replace_row(1, "2024-01-03,,12,10,11,,200")),
        3,
        "open",
        ("empty on this row",),
    ),
    Case(
        "non_utf8",
        text(*replace_row(2, "2024-01-04,11,11.5,10.5,11.2,,150")).replace(b"150", b"15\xe90"),
        4,
        "volume",
        ("not valid UTF-8", "re-save it as UTF-8"),
    ),
    Case(
        "latin1_header",
        b"d\xe4te,open,high,low,close,adj_close,volume\n" + "\n".join(ROWS).encode(),
        1,
        "d\ufffdte",
        ("UTF-8",),
    ),
    Case("utf16", (HEADER + "\n" + "\n".join(ROWS) + "\n").encode("utf-16"), 1, None, ("UTF-16", "UTF-8")),
    Case(
        "semicolon_delimiter",
        text(*[r.replace(",", ";") for r in ROWS], header=HEADER.replace(",", ";")),
        1,
        None,
        ("semicolon", "comma-separated"),
    ),
    Case(
        "tab_delimiter",
        text(*[r.replace(",", "\t") for r in ROWS], header=HEADER.replace(",", "\t")),
        1,
        None,
        ("tab",),
    ),
    Case("single_column", b"close\n1\n2\n", 1, None, ("single column",)),
    Case(
        "semicolon_rows_comma_header",
        text(ROWS[0], ROWS[1].replace(",", ";"), *ROWS[2:]),
        3,
        "open",
        ("1 fields", "7"),
    ),
    Case(
        "truncated_last_line",
        text(*ROWS[:3], "2024-01-05,11.2,11.4", final=False),
        5,
        "low",
        ("truncated", "cut off"),
    ),
    Case(
        "truncated_last_line_crlf",
        text(*ROWS[:3], "2024-01-05,11.2,11.4,1", newline="\r\n", final=False),
        5,
        "close",
        ("truncated",),
    ),
    Case(
        "short_line_in_middle",
        text(ROWS[0], "2024-01-03,10.5,12", *ROWS[2:]),
        3,
        "low",
        ("3 fields", "header has 7"),
    ),
    Case("extra_field", text(ROWS[0], ROWS[1] + ",9", *ROWS[2:]), 3, "volume", ("8 fields", "extra field")),
    Case("cr_line_endings", text(*ROWS, newline="\r"), 1, None, ("carriage return",)),
    Case("blank_line_in_middle", text(ROWS[0], "", *ROWS[1:]), 3, None, ("blank", "--repair")),
    Case("crlf_blank_line", text(ROWS[0], "", *ROWS[1:], newline="\r\n"), 3, None, ("blank",)),
    Case(
        "stooq_weekly",
        b"<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>\nX.US,W,20240102,000000,1,2,0.5,1.5,10,0\n",
        2,
        "<PER>",
        ("not daily",),
    ),
    Case(
        "yahoo_bad_timestamp",
        b"Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-02 25:00:00-05:00,1,2,0.5,1.5,1.5,10\n",
        2,
        "date",
        ("not a date",),
    ),
    Case(
        "empty_symbol_column",
        b"symbol,date,open,high,low,close,adj_close,volume\nA,2024-01-02,1,2,0.5,1.5,,10\n ,2024-01-03,1,2,0.5,1.5,,10\n",
        3,
        "symbol",
        ("symbol is empty",),
    ),
]


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_bad_input_names_file_line_column(case: Case, tmp_path: Path) -> None:
    path = tmp_path / f"{case.name}.csv"
    path.write_bytes(case.data)
    with pytest.raises(DataError) as info:
        read_bars(path)
    err = info.value
    assert err.path == str(path)
    assert err.line == case.line, str(err)
    assert err.column == case.column, str(err)
    message = str(err)
    assert message.startswith(str(path)), message
    if case.line is not None:
        assert f"line {case.line}" in message
    for words in case.says:
        assert words in message, (words, message)


def test_corpus_is_read_by_repair_too_except_repairable(tmp_path: Path) -> None:
    """repair=True fixes only ordering, exact copies and blank lines: every other corpus case still fails."""
    repairable = {"duplicate_identical", "unsorted", "blank_line_in_middle", "crlf_blank_line"}
    for case in CORPUS:
        path = tmp_path / f"{case.name}.csv"
        path.write_bytes(case.data)
        if case.name in repairable:
            log: list[Repair] = []
            bars = read_bars(path, repair=True, log=log)
            assert bars.height == len(ROWS) and log, case.name
        else:
            with pytest.raises(DataError):
                read_bars(path, repair=True)


def test_valid_file_reads(tmp_path: Path) -> None:
    path = tmp_path / "ABC.csv"
    path.write_bytes(text(*ROWS))
    bars = read_bars(path)
    assert bars["symbol"].unique().to_list() == ["ABC"]
    assert bars["close"].to_list() == [10.5, 11.0, 11.2, 11.0]
    assert bars["adj_close"].null_count() == 4


def test_bom_is_accepted_and_stripped(tmp_path: Path) -> None:
    path = tmp_path / "BOM.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text(*ROWS))
    plain = tmp_path / "BOM2.csv"
    plain.write_bytes(text(*ROWS))
    assert read_bars(path).drop("symbol").equals(read_bars(plain).drop("symbol"))


def test_crlf_and_missing_final_newline_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "X.csv"
    path.write_bytes(text(*ROWS, newline="\r\n", final=False))
    assert read_bars(path)["volume"].to_list() == [100.0, 200.0, 150.0, 175.0]


def test_float_noise_within_tolerance_is_accepted(tmp_path: Path) -> None:
    # the sample's dividend-adjusted files have close 1 ULP above high (yfinance float noise)
    path = tmp_path / "N.csv"
    path.write_bytes(text("2024-01-02,52.0,52.38583755493163,51.0,52.38583755493164,,10"))
    assert read_bars(path)["close"][0] == 52.38583755493164
    beyond = 52.38583755493163 * (1 + 10 * OHLC_REL_TOL)
    path.write_bytes(text(f"2024-01-02,52.0,52.38583755493163,51.0,{beyond!r},,10"))
    with pytest.raises(DataError, match="above high"):
        read_bars(path)


def test_error_lists_more_offending_lines(tmp_path: Path) -> None:
    rows = [f"2024-01-{d:02d},1,2,0.5,-1,,10" for d in range(2, 9)]
    path = tmp_path / "M.csv"
    path.write_bytes(text(*rows))
    with pytest.raises(DataError, match=r"also lines 3, 4, 5 and 3 more") as info:
        read_bars(path)
    assert info.value.line == 2


# ------------------------------------------------------------------------------------------------ repair


def test_repair_drops_identical_duplicates_and_logs_rows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "D.csv"
    path.write_bytes(text(ROWS[0], ROWS[1], ROWS[1], ROWS[2], ROWS[2], ROWS[3]))
    log: list[Repair] = []
    with caplog.at_level(logging.WARNING, logger="capscope.data"):
        bars = read_bars(path, repair=True, log=log)
    assert bars["date"].cast(pl.String).to_list() == ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
    assert [(r.action, r.line) for r in log] == [("dropped_duplicate", 4), ("dropped_duplicate", 6)]
    assert "exact copy of line 3" in log[0].detail
    assert all(r.path == str(path) for r in log)
    assert sum("dropped_duplicate" in m for m in caplog.messages) == 2


def test_repair_never_guesses_conflicting_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "C.csv"
    path.write_bytes(text(ROWS[0], ROWS[1], "2024-01-03,10.5,12,10,11,,201", ROWS[2]))
    with pytest.raises(DataError, match="different values in volume") as info:
        read_bars(path, repair=True)
    assert (info.value.line, info.value.column) == (4, "date")


def test_repair_sorts_and_logs(tmp_path: Path) -> None:
    path = tmp_path / "U.csv"
    path.write_bytes(text(ROWS[3], ROWS[0], ROWS[2], ROWS[1]))
    log: list[Repair] = []
    bars = read_bars(path, repair=True, log=log)
    assert bars["close"].to_list() == [10.5, 11.0, 11.2, 11.0]
    assert len(log) == 1 and log[0].action == "sorted"
    assert log[0].line == 3 and "line(s) 3, 5" in log[0].detail


def test_repair_skips_blank_lines_and_logs(tmp_path: Path) -> None:
    path = tmp_path / "B.csv"
    path.write_bytes(text(ROWS[0], "", ROWS[1], "", *ROWS[2:]))
    log: list[Repair] = []
    assert read_bars(path, repair=True, log=log).height == 4
    assert [(r.action, r.line) for r in log] == [("dropped_blank_line", 3), ("dropped_blank_line", 5)]


def test_clean_file_has_no_repairs(tmp_path: Path) -> None:
    path = tmp_path / "K.csv"
    path.write_bytes(text(*ROWS))
    log: list[Repair] = []
    read_bars(path, repair=True, log=log)
    assert log == []


# ------------------------------------------------------------------------------------------------ many files


def test_same_date_in_two_files_names_both(tmp_path: Path) -> None:
    a = tmp_path / "a" / "SYM.csv"
    b = tmp_path / "b" / "SYM.csv"
    a.parent.mkdir()
    b.parent.mkdir()
    a.write_bytes(text(*ROWS[:2]))
    b.write_bytes(text("2024-01-03,10.5,12,10,11.1,,200", *ROWS[2:]))
    with pytest.raises(DataError) as info:
        read_many([a, b])
    message = str(info.value)
    assert str(a) in message and str(b) in message and "different values in close" in message
    assert (info.value.path, info.value.line, info.value.column) == (str(b), 2, "date")


def test_identical_rows_in_two_files_repaired(tmp_path: Path) -> None:
    a = tmp_path / "a" / "SYM.csv"
    b = tmp_path / "b" / "SYM.csv"
    a.parent.mkdir()
    b.parent.mkdir()
    a.write_bytes(text(*ROWS[:2]))
    b.write_bytes(text(*ROWS[1:]))
    with pytest.raises(DataError, match="identical rows"):
        read_many([a, b])
    log: list[Repair] = []
    bars = read_many([a, b], repair=True, log=log)
    assert bars.height == 4
    assert len(log) == 1 and log[0].path == str(b) and log[0].line == 2


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file") as info:
        read_bars(tmp_path / "nope.csv")
    assert info.value.path == str(tmp_path / "nope.csv")


# ------------------------------------------------------------------------------------------------ parquet and frames


def _frame(**overrides: list[object]) -> pl.DataFrame:
    data: dict[str, list[object]] = {
        "date": ["2024-01-02", "2024-01-03", "2024-01-04"],
        "open": [10.0, 10.5, 11.0],
        "high": [11.0, 12.0, 11.5],
        "low": [9.0, 10.0, 10.5],
        "close": [10.5, 11.0, 11.2],
        "volume": [100, 200, 150],
    }
    data.update(overrides)
    return pl.DataFrame(data)


@pytest.mark.parametrize(
    ("overrides", "row", "column", "words"),
    [
        ({"close": [10.5, -11.0, 11.2]}, 2, "close", "> 0"),
        ({"date": ["2024-01-02", "2024-01-04", "2024-01-03"]}, 3, "date", "ascending"),
        ({"date": ["2024-01-02", "2024-02-30", "2024-01-04"]}, 2, "date", "not a date"),
        ({"high": [11.0, 9.0, 11.5]}, 2, "high", "below low"),
        ({"close": [10.5, None, 11.2]}, 2, "close", "close is empty"),
        ({"close": [10.5, float("nan"), 11.2]}, 2, "close", "not a finite number"),
    ],
)
def test_parquet_errors_name_row_and_column(
    overrides: dict[str, list[object]], row: int, column: str, words: str, tmp_path: Path
) -> None:
    path = tmp_path / "P.parquet"
    _frame(**overrides).write_parquet(path)
    with pytest.raises(DataError, match=words) as info:
        read_bars(path)
    assert (info.value.path, info.value.line, info.value.column) == (str(path), row, column)
    assert f"row {row}" in str(info.value)


def test_parquet_missing_column_lists_columns(tmp_path: Path) -> None:
    path = tmp_path / "P.parquet"
    _frame().drop("close").write_parquet(path)
    with pytest.raises(DataError, match=r"missing required column 'close'.*'volume'") as info:
        read_bars(path)
    assert info.value.column == "close"


def test_corrupt_parquet(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1 this is not parquet PAR1")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        read_bars(path)


def test_multi_symbol_parquet_checks_per_symbol(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "symbol": ["A", "B", "A", "B"],
            "date": ["2024-01-02", "2024-01-02", "2024-01-03", "2024-01-01"],
            "close": [1.0, 2.0, 1.5, 2.5],
        }
    )
    path = tmp_path / "many.parquet"
    frame.write_parquet(path)
    with pytest.raises(DataError, match="ascending") as info:
        read_bars(path)
    assert (info.value.line, info.value.column) == (4, "date")
    log: list[Repair] = []
    bars = read_bars(path, repair=True, log=log)
    assert bars["symbol"].to_list() == ["A", "A", "B", "B"]
    assert bars["close"].to_list() == [1.0, 1.5, 2.5, 2.0]
    assert log and log[0].action == "sorted"


def test_validate_bars_frame() -> None:
    ok = validate_bars(_frame().with_columns(pl.lit("S").alias("symbol")))
    assert ok.columns == ["symbol", "date", "open", "high", "low", "close", "adj_close", "volume"]
    assert ok["adj_close"].null_count() == 3
    with pytest.raises(DataError, match="missing required column") as info:
        validate_bars(_frame())
    assert info.value.column == "symbol"
