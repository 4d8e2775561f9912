"""Validation of daily bars to the bar-table contract (DESIGN.md, "Bar table").

Two layers, both vectorised (numpy over the raw bytes, polars over the columns); Python walks rows only after a
check has failed, to build the message:

1. :func:`check_csv_bytes` looks at the raw bytes of a CSV file: empty file, header only, encoding (UTF-8 only;
   a UTF-8 byte-order mark is accepted and stripped), wrong delimiter, lines with a wrong number of fields, a
   truncated last line, blank lines.
2. :func:`parse_dates`, :func:`parse_numbers` and :func:`check_bars` turn named columns into the contract's
   dtypes and check it: dates parse, numbers parse and are finite, close present on every row, open/high/low/
   volume/adj_close either present on every row or empty on every row (close-only files), prices > 0,
   volume >= 0, ``low <= min(open, close)``, ``high >= max(open, close)``, ``high >= low`` (with a relative
   slack of :data:`OHLC_REL_TOL` for float rounding noise), unique and ascending dates per symbol.

Every problem raises :class:`~capscope.errors.DataError` naming the file, the line (header = line 1; for Parquet
files and in-memory frames the 1-based row number) and the column, and saying what to do. With ``repair=True``
(opt-in) rows are sorted, rows that are exact copies of another row are dropped and blank lines are skipped;
each repair is logged (logger ``capscope.data``) and appended to the caller's ``log`` list as a :class:`Repair`.
Conflicting duplicates (same symbol and date, different values) are never guessed: they are an error even with
``repair=True``. Nothing is dropped silently.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import polars as pl

from capscope.data.schema import BAR_COLUMNS, BAR_SCHEMA
from capscope.errors import DataError

logger = logging.getLogger("capscope.data")

#: Internal column carrying the source line (CSV) or 1-based row (Parquet, frames) of each row.
LINE: Final = "__line"
#: Internal column carrying the source file of each row (set when several files are combined).
PATH: Final = "__path"

#: Price columns that must be > 0 where present.
PRICE_COLUMNS: Final[tuple[str, ...]] = ("open", "high", "low", "close", "adj_close")
#: Columns that may be empty on every row of a file (close-only data), but not on some rows only.
OPTIONAL_COLUMNS: Final[tuple[str, ...]] = ("open", "high", "low", "adj_close", "volume")

_UTF8_BOM: Final = b"\xef\xbb\xbf"
_OTHER_BOMS: Final = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}
_OTHER_DELIMITERS: Final = {";": "semicolon ';'", "\t": "tab", "|": "pipe '|'"}
#: ISO date optionally followed by a time of day and a UTC offset (``yfinance`` writes
#: ``2024-01-02 00:00:00-05:00``); the date part is the exchange's calendar day.
_ISO_WITH_TIME: Final = r"^\s*(\d{4}-\d{2}-\d{2})(?:[ T](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\s*$"
_MORE = 3  # how many further offending lines an error message lists
#: Relative slack of the OHLC consistency checks. Dividend-adjusted OHLC computed in float64 (yfinance's
#: ``auto_adjust``) carries 1-ULP noise such as close 52.38583755493164 vs high 52.38583755493163 (relative
#: 1.4e-16); 1e-9 tolerates that noise and nothing a price feed could mean (1e-7 on a $100 stock).
#: Values are never changed.
OHLC_REL_TOL: Final = 1e-9


@dataclass(frozen=True)
class Repair:
    """One change made by ``repair=True``.

    Attributes
    ----------
    path
        File the repaired row came from.
    line
        Line (CSV) or 1-based row (Parquet) of the row that was moved or dropped.
    action
        ``sorted`` (rows were reordered), ``dropped_duplicate`` (an exact copy of another row was dropped) or
        ``dropped_blank_line``.
    detail
        Human-readable description naming the rows involved.
    """

    path: str
    line: int | None
    action: str
    detail: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}, line {self.line}"
        return f"{where}: {self.action}: {self.detail}"


@dataclass(frozen=True)
class CsvText:
    """A CSV file that passed the byte-level checks.

    Attributes
    ----------
    data
        The bytes to parse: UTF-8 without byte-order mark, trailing blank lines removed.
    header
        Header fields as written (stripped of surrounding whitespace and quotes).
    blank_lines
        Line numbers of blank lines inside the data (only non-empty when ``repair=True``); the parser returns
        them as all-null rows, which the reader drops.
    """

    data: bytes
    header: list[str]
    blank_lines: tuple[int, ...]


def _record(repair: Repair, log: list[Repair] | None) -> None:
    logger.warning("repair: %s", repair)
    if log is not None:
        log.append(repair)


def _lines_list(lines: Sequence[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:_MORE])
    more = len(lines) - _MORE
    return shown + (f" and {more} more" if more > 0 else "")


# ---------------------------------------------------------------------------------------------------- bytes


def check_csv_bytes(
    data: bytes, path: str | Path, *, repair: bool = False, log: list[Repair] | None = None
) -> CsvText:
    """Check the raw bytes of a CSV bar file before parsing.

    Parameters
    ----------
    data
        The whole file.
    path
        The file, for messages.
    repair
        Skip blank lines inside the data (logged) instead of raising.
    log
        List that receives a :class:`Repair` per skipped blank line.

    Returns
    -------
    CsvText
        The bytes to parse (BOM stripped) and the header fields.

    Raises
    ------
    DataError
        Empty file, header only, not UTF-8, wrong delimiter, a line with a wrong number of fields, a truncated
        last line, or a blank line (without ``repair``).
    """
    for bom, name in _OTHER_BOMS.items():
        if data.startswith(bom):
            raise DataError(
                f"file is {name}-encoded (byte-order mark {bom.hex(' ')}); save it as UTF-8 and read it again",
                path=path,
                line=1,
            )
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]  # a UTF-8 byte-order mark is harmless: accept it
    final_newline = data.rstrip(b"\t ").endswith(b"\n")
    data = data.rstrip(b"\r\n\t ")
    if not data:
        raise DataError(
            "file is empty; expected a header line such as 'date,open,high,low,close,adj_close,volume' "
            "followed by one line per trading day",
            path=path,
            line=1,
        )
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line, column = _position(data, exc.start)
            raise DataError(
                f"byte {data[exc.start : exc.start + 1].hex()} at byte offset {exc.start} is not valid UTF-8; "
                "the file is in another encoding (e.g. Latin-1 or UTF-16): re-save it as UTF-8",
                path=path,
                line=line,
                column=column,
            ) from None
    first_end = data.find(b"\n")
    if first_end < 0 and b"\r" in data:
        raise DataError(
            "lines end with a bare carriage return (old Mac line endings); convert the file to \\n or \\r\\n "
            "line endings and read it again",
            path=path,
            line=1,
        )
    header_line = (data if first_end < 0 else data[:first_end]).decode("utf-8").rstrip("\r")
    if "," not in header_line:
        for delim, name in _OTHER_DELIMITERS.items():
            if delim in header_line:
                raise DataError(
                    f"the header is separated by {name}, not by commas ({header_line!r}); capscope reads "
                    "comma-separated files: convert the file (e.g. replace the delimiter) and read it again",
                    path=path,
                    line=1,
                )
        raise DataError(
            f"the header {header_line!r} has a single column; expected comma-separated columns such as "
            "'date,open,high,low,close,adj_close,volume'",
            path=path,
            line=1,
        )
    header = [h.strip().strip('"').strip() for h in header_line.split(",")]
    if first_end < 0:
        raise DataError(
            "the file has a header but no data rows (header only); add one line per trading day or remove "
            "the file",
            path=path,
            line=2,
        )
    blank = _check_field_counts(data, header, path, final_newline=final_newline)
    if blank:
        if not repair:
            raise DataError(
                f"line {blank[0]} is blank (blank lines: {_lines_list(blank)}); remove blank lines inside the "
                "data, or pass --repair to skip them (logged)",
                path=path,
                line=blank[0],
            )
        for line in blank:
            _record(Repair(str(path), line, "dropped_blank_line", f"skipped blank line {line}"), log)
    return CsvText(data, header, tuple(blank))


def _position(data: bytes, offset: int) -> tuple[int, str | None]:
    """Line number and header column of byte ``offset`` (error path only)."""
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    field = data.count(b",", start, offset)
    end = data.find(b"\n")
    header = data[: end if end >= 0 else len(data)].decode("utf-8", "replace").split(",")
    column = header[field].strip() if field < len(header) else None
    return line, column


def _check_field_counts(
    data: bytes, header: list[str], path: str | Path, *, final_newline: bool
) -> list[int]:
    """Check every line has as many fields as the header; return the blank lines.

    Vectorised over the bytes: delimiter counts per line from the positions of ``,`` and ``\\n``. Files with
    quotes are left to the CSV parser (a quoted field may hold a comma).
    """
    if b'"' in data:
        return []
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    n_lines = newlines.size + 1  # data has no trailing newline (stripped by the caller)
    commas = np.flatnonzero(buf == 44)
    per_line = np.bincount(np.searchsorted(newlines, commas), minlength=n_lines)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [buf.size]))
    lengths = ends - starts
    # a line holding only "\r" (CRLF files) is blank too
    has_cr = lengths > 0
    has_cr[has_cr] = buf[ends[has_cr] - 1] == 13
    lengths = lengths - has_cr
    expected = len(header) - 1
    bad = np.flatnonzero((per_line != expected) & (lengths > 0))
    blank = np.flatnonzero(lengths == 0)
    if bad.size:
        idx = int(bad[0])
        line = idx + 1
        n_fields = int(per_line[idx]) + 1
        text = data[starts[idx] : ends[idx]].decode("utf-8", "replace").rstrip("\r")
        others = [int(i) + 1 for i in bad[1:]]
        also = f" (also lines {_lines_list(others)})" if others else ""
        if idx == n_lines - 1 and n_fields < len(header) and not final_newline:
            raise DataError(
                f"the last line {text!r} is truncated: {n_fields} of {len(header)} fields, the first missing "
                f"column is '{header[n_fields]}' (was the file cut off while being written?); complete or "
                "remove the line",
                path=path,
                line=line,
                column=header[n_fields],
            )
        if n_fields < len(header):
            raise DataError(
                f"line {text!r} has {n_fields} fields but the header has {len(header)}; the first missing "
                f"column is '{header[n_fields]}'{also}; fix the line (empty values still need their comma)",
                path=path,
                line=line,
                column=header[n_fields],
            )
        raise DataError(
            f"line {text!r} has {n_fields} fields but the header has {len(header)} (extra field after the last "
            f"column '{header[-1]}'){also}; a wrong delimiter or a stray comma: fix the line",
            path=path,
            line=line,
            column=header[-1],
        )
    return [int(i) + 1 for i in blank]


# ---------------------------------------------------------------------------------------------------- columns


def _where(frame: pl.DataFrame, mask: pl.Series) -> tuple[list[int], list[str]]:
    """Source lines and paths of the rows where ``mask`` is true (error path only)."""
    hit = frame.filter(mask)
    lines = hit[LINE].to_list()
    paths = hit[PATH].to_list() if PATH in hit.columns else []
    return lines, paths


def _row_note(unit: str, line: int) -> str:
    """For Parquet files and frames, say that the error's "line" is a 1-based row number."""
    return "" if unit == "line" else f" (Parquet/frame row {line}, counting from 1)"


def _raise_at(
    frame: pl.DataFrame,
    mask: pl.Series,
    column: str,
    path: str | Path | None,
    what: str,
    todo: str,
    unit: str,
) -> None:
    """Raise a DataError for the first row where ``mask`` is true, listing a few more."""
    lines, paths = _where(frame, mask)
    first_path = paths[0] if paths else path
    row = frame.filter(mask).row(0, named=True)
    value = row.get(f"__raw_{column}", row.get(column))
    where = _row_note(unit, lines[0])
    also = f"; also {unit}s {_lines_list(lines[1:])}" if len(lines) > 1 else ""
    raise DataError(
        f"{what.format(value=value, **{k: v for k, v in row.items() if not k.startswith('__')})}{where}{also}; "
        f"{todo}",
        path=first_path,
        line=lines[0],
        column=column,
    )


def parse_dates(
    frame: pl.DataFrame, *, path: str | Path | None, date_format: str = "%Y-%m-%d", unit: str = "line"
) -> pl.DataFrame:
    """Parse the ``date`` column (strings, dates, datetimes or integers ``YYYYMMDD``) into :class:`polars.Date`.

    Strings are read with ``date_format``; ISO dates followed by a time and a UTC offset
    (``2024-01-02 00:00:00-05:00``) keep their date part, which is the exchange's calendar day.

    Raises
    ------
    DataError
        At the first value that is missing or not a date.
    """
    raw = frame["date"]
    if raw.dtype == pl.Date:
        parsed = raw
    elif isinstance(raw.dtype, pl.Datetime):
        parsed = raw.dt.date()
    else:
        text = raw.cast(pl.String)
        parsed = text.str.to_date(date_format, strict=False)
        failed = parsed.is_null() & text.is_not_null()
        if failed.any():
            fallback = text.str.extract(_ISO_WITH_TIME, 1).str.to_date("%Y-%m-%d", strict=False)
            parsed = parsed.fill_null(fallback)
        frame = frame.with_columns(text.alias("__raw_date"))
    bad = parsed.is_null()
    if bad.any():
        _raise_at(
            frame,
            bad,
            "date",
            path,
            "date {value!r} is missing or not a date (expected "
            + ("YYYY-MM-DD" if date_format == "%Y-%m-%d" else date_format)
            + ")",
            "fix or remove the row",
            unit,
        )
    return frame.with_columns(parsed.alias("date")).drop("__raw_date", strict=False)


def parse_numbers(
    frame: pl.DataFrame, columns: Sequence[str], *, path: str | Path | None, unit: str = "line"
) -> pl.DataFrame:
    """Parse numeric columns into ``float64``; integers and decimals mix freely (``6037540000`` and ``5782730000.0``).

    Empty cells become null (whether that is allowed is :func:`check_bars`'s business).

    Raises
    ------
    DataError
        At the first value that is not a number, or is NaN or infinite.
    """
    out = []
    for column in columns:
        raw = frame[column]
        if raw.dtype == pl.String:
            parsed = raw.cast(pl.Float64, strict=False)
            failed = parsed.is_null() & raw.is_not_null()
            if failed.any():  # surrounding blanks: rare, so strip only when needed
                parsed = raw.str.strip_chars().cast(pl.Float64, strict=False)
                failed = parsed.is_null() & raw.is_not_null() & (raw.str.strip_chars() != "")
                if failed.any():
                    frame = frame.with_columns(raw.alias(f"__raw_{column}"))
                    _raise_at(
                        frame,
                        failed,
                        column,
                        path,
                        f"{column} {{value!r}} is not a number",
                        "fix the value",
                        unit,
                    )
        elif raw.dtype == pl.Null or raw.dtype.is_numeric():
            parsed = raw.cast(pl.Float64)
        else:
            raise DataError(
                f"column '{column}' has type {raw.dtype}, expected numbers; convert the column",
                path=path,
                column=column,
            )
        nonfinite = parsed.is_not_null() & ~parsed.is_finite()
        if nonfinite.any():
            frame = frame.with_columns(parsed.alias(f"__raw_{column}"))
            _raise_at(
                frame,
                nonfinite,
                column,
                path,
                f"{column} is {{value}} (not a finite number)",
                "replace it with the real value or remove the row",
                unit,
            )
        out.append(parsed.alias(column))
    return frame.with_columns(out)


def _parsed_expr(column: str, dtype: pl.DataType, date_format: str) -> pl.Expr:
    col = pl.col(column)
    if column == "date":
        if dtype == pl.Date:
            return col
        if isinstance(dtype, pl.Datetime):
            return col.dt.date()
        return col.cast(pl.String).str.to_date(date_format, strict=False)
    return col.cast(pl.Float64, strict=False)


def fast_validate(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    date_format: str = "%Y-%m-%d",
    single_symbol: bool = True,
    grouped: bool = False,
) -> pl.DataFrame | None:
    """The happy path: parse a standardised frame in one polars pass and check it with numpy.

    Parameters
    ----------
    frame
        (Lazy) frame with columns ``symbol``, ``date``, ``open high low close adj_close volume`` (strings or typed) and
        :data:`LINE`.
    date_format
        Format of string dates.
    single_symbol
        The frame holds one symbol (known from how it was read).
    grouped
        A multi-symbol frame may take this path too (rows ordered by symbol with a stable sort, so each symbol's
        rows stay as written and must be in ascending date order); the caller asked for no particular symbol.

    Returns
    -------
    polars.DataFrame or None
        The checked frame (with :data:`LINE`) when every check passes; ``None`` when anything needs a closer
        look (a problem, or an unusual value such as a date with a time or a number with blanks), in which case
        the caller runs the step-by-step checks (:func:`parse_dates`, :func:`parse_numbers`,
        :func:`check_bars`), which raise the precise error or apply the opt-in repairs.
    """
    if not single_symbol and not grouped:
        return None
    lazy = frame.lazy()
    schema = lazy.collect_schema()
    numeric = BAR_COLUMNS[2:]
    fields = ("date", *numeric)
    # one pass: parsed columns plus the null count of each raw column (broadcast)
    out = lazy.select(
        pl.col("symbol"),
        *[_parsed_expr(c, schema[c], date_format).alias(c) for c in fields],
        pl.col(LINE),
        *[pl.col(c).null_count().alias(f"__nulls_{c}") for c in fields],
    ).collect()
    n = out.height
    if n == 0:
        return None
    symbol = out["symbol"][0]
    if symbol is None or not str(symbol).strip():
        return None
    parsed = pl.DataFrame([out[c] for c in ("symbol", *fields, LINE)])
    run_start = None  # first row of each symbol's run (multi-symbol frames)
    if not single_symbol:
        sym = parsed["symbol"]
        if sym.null_count() or bool((sym.str.strip_chars() == "").any()):
            return None
        if not sym.is_sorted():  # rows as written within each symbol, symbols in order (a stable sort)
            parsed = parsed.sort("symbol", maintain_order=True)
            sym = parsed["symbol"]
        run_id = sym.rle_id().to_numpy()
        run_start = np.empty(n, dtype=bool)
        run_start[0] = True
        run_start[1:] = run_id[1:] != run_id[:-1]
    arrays: dict[str, np.ndarray] = {}
    for c in fields:
        nulls = parsed[c].null_count()
        if nulls != out[f"__nulls_{c}"][0]:  # a value that did not parse
            return None
        if nulls == 0:
            arrays[c] = parsed[c].to_numpy()
        elif nulls < n or c in ("date", "close"):  # partly empty, or a required value missing
            return None
    days = np.asarray(arrays["date"], dtype="datetime64[D]").astype(np.int64)
    rising = days[1:] > days[:-1]
    if run_start is not None:
        rising |= run_start[1:]  # a new symbol's first date may be anything
    if not bool(np.all(rising)):  # ascending and unique (per symbol)
        return None
    for c, values in arrays.items():
        if c == "date":
            continue
        if not bool(np.isfinite(values).all()):
            return None
        if c == "volume":
            if bool((values < 0).any()):
                return None
        elif bool((values <= 0).any()):
            return None
    close = arrays["close"]
    high, low, open_ = arrays.get("high"), arrays.get("low"), arrays.get("open")
    with np.errstate(invalid="ignore"):
        if high is not None:
            ceiling = high * (1.0 + OHLC_REL_TOL)
            if bool((close > ceiling).any()) or (open_ is not None and bool((open_ > ceiling).any())):
                return None
        if low is not None:
            floor = low * (1.0 - OHLC_REL_TOL)
            if bool((close < floor).any()) or (open_ is not None and bool((open_ < floor).any())):
                return None
        if high is not None and low is not None and bool((high < low * (1.0 - OHLC_REL_TOL)).any()):
            return None
    return parsed


def check_bars(
    frame: pl.DataFrame,
    *,
    path: str | Path | None,
    repair: bool = False,
    log: list[Repair] | None = None,
    unit: str = "line",
    check_order: bool = True,
) -> pl.DataFrame:
    """Check a parsed frame against the bar-table contract and return the bar table.

    Parameters
    ----------
    frame
        Columns ``symbol`` (String), ``date`` (Date), ``open high low close adj_close volume`` (Float64, may be
        all-null), and :data:`LINE` (source line of each row); optionally :data:`PATH`.
    path
        File the rows came from (used when the frame has no :data:`PATH` column).
    repair
        Sort rows and drop rows that are exact copies of another row, logging each repair.
    log
        List that receives a :class:`Repair` per repair.
    unit
        ``line`` (CSV) or ``row`` (Parquet, frames): how :data:`LINE` is described in messages.
    check_order
        Require rows in ascending date order per symbol, as written (off when combining files).

    Returns
    -------
    polars.DataFrame
        The checked rows sorted by ``(symbol, date)``, still carrying :data:`LINE` (and :data:`PATH`); select
        :data:`~capscope.data.schema.BAR_COLUMNS` (:func:`finish`) to get the bar table.

    Raises
    ------
    DataError
        At the first row breaking the contract (see the module docstring).
    """
    n = frame.height

    def fail(mask: pl.Series, column: str, what: str, todo: str) -> None:
        _raise_at(frame, mask, column, path, what, todo, unit)

    # symbol
    sym = frame["symbol"]
    if sym.null_count() or (sym.str.strip_chars() == "").any():
        fail(sym.is_null() | (sym.str.strip_chars() == ""), "symbol", "symbol is empty", "fill in the symbol")

    # close on every row; the optional columns on every row or on none (close-only files)
    close = frame["close"]
    if close.null_count():
        fail(
            close.is_null(),
            "close",
            "close is empty",
            "every bar needs a close: fill it in or remove the row",
        )
    for column in OPTIONAL_COLUMNS:
        nulls = frame[column].null_count()
        if 0 < nulls < n:
            fail(
                frame[column].is_null(),
                column,
                f"{column} is empty on this row but filled on others ({n - nulls} of {n} rows)",
                f"a column is either filled on every row or empty on every row (close-only files): fill in "
                f"the {column} or empty the whole column",
            )

    # positive prices, non-negative volume
    for column in PRICE_COLUMNS:
        values = frame[column]
        if values.null_count() < n and (values <= 0).any():
            fail(
                (values <= 0).fill_null(False),
                column,
                f"{column} is {{{column}}}; prices must be > 0",
                "fix the value at the source or remove the row",
            )
    volume = frame["volume"]
    if volume.null_count() < n and (volume < 0).any():
        fail(
            (volume < 0).fill_null(False),
            "volume",
            "volume is {volume}; volume must be >= 0",
            "fix the value or remove the row",
        )

    # bar consistency: low <= open, close <= high
    high, low, open_ = frame["high"], frame["low"], frame["open"]
    if high.null_count() < n and low.null_count() < n:
        hl = (high < low * (1.0 - OHLC_REL_TOL)).fill_null(False)
        if hl.any():
            fail(
                hl,
                "high",
                "high {high} is below low {low}",
                "fix the bar at the source (are high and low swapped?)",
            )
    if high.null_count() < n:
        for column, values in (("close", close), ("open", open_)):
            above = (values > high * (1.0 + OHLC_REL_TOL)).fill_null(False)
            if above.any():
                fail(
                    above,
                    column,
                    f"{column} {{{column}}} is above high {{high}}",
                    "fix the bar at the source: high must be >= max(open, close)",
                )
    if low.null_count() < n:
        for column, values in (("close", close), ("open", open_)):
            below = (values < low * (1.0 - OHLC_REL_TOL)).fill_null(False)
            if below.any():
                fail(
                    below,
                    column,
                    f"{column} {{{column}}} is below low {{low}}",
                    "fix the bar at the source: low must be <= min(open, close)",
                )

    frame = check_duplicates(frame, path=path, repair=repair, log=log, unit=unit)

    # order: ascending dates per symbol as written
    if check_order:
        back = frame.select(
            (pl.col("date") < pl.col("date").shift(1).over("symbol")).fill_null(False)
        ).to_series()
        if back.any():
            if not repair:
                prev = frame.select(
                    pl.col("date").shift(1).over("symbol"), pl.col(LINE).shift(1).over("symbol")
                )
                idx = int(back.arg_true()[0])
                row = frame.row(idx, named=True)
                n_back = int(back.sum())
                raise DataError(
                    f"date {row['date']}{_row_note(unit, row[LINE])} comes after {prev['date'][idx]} ({unit} "
                    f"{prev[LINE][idx]}): rows are not in ascending date order ({n_back} row(s) out of order); sort the file by date, or pass "
                    "--repair to sort it (logged)",
                    path=str(row.get(PATH, path)),
                    line=row[LINE],
                    column="date",
                )
            moved = frame.filter(back)
            moved_lines = moved[LINE].to_list()
            _record(
                Repair(
                    str(moved[PATH][0]) if PATH in moved.columns else str(path),
                    moved_lines[0],
                    "sorted",
                    f"sorted {frame.height} rows by date; {moved.height} row(s) were out of order, at "
                    f"{unit}(s) {_lines_list(moved_lines)}",
                ),
                log,
            )
    return frame.sort(["symbol", "date"])


def check_duplicates(
    frame: pl.DataFrame,
    *,
    path: str | Path | None,
    repair: bool = False,
    log: list[Repair] | None = None,
    unit: str = "line",
) -> pl.DataFrame:
    """Check ``(symbol, date)`` is unique; with ``repair`` drop exact copies (logged).

    Conflicting duplicates (same symbol and date, any value different) are an error even with ``repair``:
    capscope never guesses which row is right.

    Returns
    -------
    polars.DataFrame
        ``frame`` without the dropped copies (row order kept).
    """
    key = ["symbol", "date"]
    dup = frame.select(pl.struct(key).is_duplicated()).to_series()
    if dup.any():
        values = ["symbol", "date", *BAR_COLUMNS[2:]]
        exact = frame.select(pl.struct(values).is_duplicated()).to_series()
        conflicting = dup & ~exact
        if conflicting.any():
            _raise_duplicate(frame, conflicting, path, unit, conflicting=True)
        if not repair:
            _raise_duplicate(frame, dup, path, unit, conflicting=False)
        first = frame.select(pl.struct(values).is_first_distinct()).to_series()
        drop = dup & ~first
        kept = frame.filter(dup & first)
        for row in frame.filter(drop).iter_rows(named=True):
            twin = kept.filter((pl.col("symbol") == row["symbol"]) & (pl.col("date") == row["date"])).row(
                0, named=True
            )
            _record(
                Repair(
                    str(row.get(PATH, path)),
                    row[LINE],
                    "dropped_duplicate",
                    f"dropped {unit} {row[LINE]} ({row['symbol']} {row['date']}): an exact copy of {unit} {twin[LINE]}",
                ),
                log,
            )
        frame = frame.filter(~drop)

    return frame


def _raise_duplicate(
    frame: pl.DataFrame, mask: pl.Series, path: str | Path | None, unit: str, *, conflicting: bool
) -> None:
    row = frame.filter(mask).row(0, named=True)
    same = frame.filter((pl.col("symbol") == row["symbol"]) & (pl.col("date") == row["date"]))
    lines = same[LINE].to_list()
    paths = same[PATH].to_list() if PATH in same.columns else [str(path)] * len(lines)
    places = ", ".join(
        f"{p} {unit} {n}" if len(set(paths)) > 1 else f"{unit} {n}" for p, n in zip(paths, lines, strict=True)
    )
    n_dates = frame.filter(mask).select(pl.struct("symbol", "date").n_unique()).item()
    more = f" ({n_dates} duplicated dates in all)" if n_dates > 1 else ""
    if conflicting:
        differ = [c for c in BAR_COLUMNS[2:] if same[c].n_unique() > 1]
        raise DataError(
            f"duplicate date {row['date']} for {row['symbol']} with different values in {', '.join(differ)} "
            f"({places}){more}; capscope never guesses which is right: delete the wrong row",
            path=paths[-1],
            line=lines[-1],
            column="date",
        )
    raise DataError(
        f"duplicate date {row['date']} for {row['symbol']}: identical rows at {places}{more}; delete the copies, "
        "or pass --repair to drop exact copies (logged)",
        path=paths[-1],
        line=lines[-1],
        column="date",
    )


def validate_bars(
    frame: pl.DataFrame,
    *,
    path: str | Path | None = None,
    repair: bool = False,
    log: list[Repair] | None = None,
) -> pl.DataFrame:
    """Validate an in-memory bar frame (e.g. from a download) and return the bar table.

    Parameters
    ----------
    frame
        Columns ``symbol`` and ``date`` plus ``close``; ``open high low adj_close volume`` are optional (missing
        means empty). Dates may be strings, dates or datetimes; numbers may be strings or any numeric type.
    path
        Name used in messages (e.g. the URL or file the frame came from).
    repair, log
        As in :func:`check_bars`.

    Returns
    -------
    polars.DataFrame
        A bar table (:data:`~capscope.data.schema.BAR_SCHEMA`), sorted by ``(symbol, date)``.

    Raises
    ------
    DataError
        Error messages count rows from 1.
    """
    missing = [c for c in ("symbol", "date", "close") if c not in frame.columns]
    if missing:
        raise DataError(
            f"missing required column(s) {missing}; the frame has {frame.columns}",
            path=path,
            column=missing[0],
        )
    frame = frame.with_columns(
        *[pl.lit(None, dtype=pl.Float64).alias(c) for c in BAR_COLUMNS[2:] if c not in frame.columns],
        pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(LINE),
        pl.col("symbol").cast(pl.String),
    )
    frame = parse_dates(frame, path=path, unit="row")
    frame = parse_numbers(frame, BAR_COLUMNS[2:], path=path, unit="row")
    return finish(check_bars(frame, path=path, repair=repair, log=log, unit="row"))


def finish(frame: pl.DataFrame) -> pl.DataFrame:
    """Drop the internal columns of a checked frame and cast it to :data:`~capscope.data.schema.BAR_SCHEMA`."""
    return frame.select(BAR_COLUMNS).cast(BAR_SCHEMA)  # type: ignore[arg-type]
