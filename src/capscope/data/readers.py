"""Readers: bar files -> bar table (see :mod:`capscope.data.schema` and :mod:`capscope.data.validate`).

Formats, detected from the header (column names are matched case-insensitively; spaces, dots, dashes and
``<>`` brackets are ignored; extra columns such as ``Dividends`` or ``<OPENINT>`` are ignored):

``capscope``
    The sample layout, one file per symbol named ``SYMBOL.csv``: ``date,open,high,low,close,adj_close,volume``.
``yahoo``
    Yahoo Finance / yfinance CSV: ``Date,Open,High,Low,Close,Adj Close,Volume``; a time and UTC offset after the
    date (``2024-01-02 00:00:00-05:00``) is accepted and the date part kept.
``stooq``
    Stooq's CSV download: ``Date,Open,High,Low,Close,Volume``.
``stooq-ascii``
    Stooq's bulk ASCII files: ``<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>`` with
    dates ``YYYYMMDD``; only daily bars (``<PER>`` = ``D``); the symbol is ``<TICKER>``.
``parquet``
    A Parquet file (columns named as above, any numeric or date/datetime/string types), or a folder of them
    (e.g. hive-partitioned ``symbol=XYZ/part-0.parquet``). A ``symbol`` (or ``ticker``) column may hold many
    symbols.

Required columns: ``date`` and ``close``, and either all of ``open, high, low`` or none of them; ``adj_close``
and ``volume`` are optional. A missing optional column, or one that is empty on every row (the close-only files
in the sample's ``prices/alt/``), becomes null in the bar table; a column empty on *some* rows is an error. The
symbol is the file's ``symbol``/``ticker`` column if it has one, else the ``symbol`` argument, else the file name
without suffix (``RUT.csv`` -> ``RUT``, ``RUT__alitalbi.csv`` -> ``RUT__alitalbi``, ``symbol=XYZ/p.parquet`` -> ``XYZ``).

Rows must be in ascending date order per symbol as written; the bar table is sorted by ``(symbol, date)``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Final

import numpy as np
import polars as pl

from capscope.data.schema import BAR_COLUMNS, empty_bars
from capscope.data.validate import (
    LINE,
    OHLC_REL_TOL,
    PATH,
    Repair,
    check_bars,
    check_csv_bytes,
    check_duplicates,
    fast_validate,
    finish,
    parse_dates,
    parse_numbers,
)
from capscope.errors import DataError

#: File suffixes :func:`iter_bar_files` yields (``.txt`` for Stooq's ASCII files is read when named directly).
BAR_FILE_SUFFIXES: Final[tuple[str, ...]] = (".csv", ".parquet", ".pq")
_PARQUET_SUFFIXES: Final = (".parquet", ".pq")
_PARQUET_MAGIC: Final = b"PAR1"

#: Normalised header name -> bar-table column.
COLUMN_ALIASES: Final[dict[str, str]] = {
    "date": "date",
    "datetime": "date",
    "timestamp": "date",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "adj_close": "adj_close",
    "adjclose": "adj_close",
    "adjusted_close": "adj_close",
    "volume": "volume",
    "vol": "volume",
    "symbol": "symbol",
    "ticker": "symbol",
}
_SAMPLE_HEADER: Final = ["date", "open", "high", "low", "close", "adj_close", "volume"]
_EXPECTED: Final = "date,open,high,low,close[,adj_close][,volume] (or a Yahoo/Stooq header)"


def normalise_column_name(name: str) -> str:
    """Normalise a header name for matching: ``'Adj Close'`` -> ``adj_close``, ``'<VOL>'`` -> ``vol``."""
    text = name.strip().strip('"').strip().strip("<>").strip().lower()
    return re.sub(r"[\s.\-]+", "_", text).strip("_")


def detect_format(header: Sequence[str]) -> str:
    """Name the layout of a CSV header: ``capscope``, ``yahoo``, ``stooq``, ``stooq-ascii`` or ``csv``."""
    stripped = [h.strip() for h in header]
    if any(h.startswith("<") and h.endswith(">") for h in stripped):
        return "stooq-ascii"
    if stripped == _SAMPLE_HEADER:
        return "capscope"
    normal = [normalise_column_name(h) for h in stripped]
    if "Adj Close" in stripped:
        return "yahoo"
    if normal[:5] == ["date", "open", "high", "low", "close"] and "adj_close" not in normal:
        return "stooq"
    return "csv"


def symbol_from_path(path: Path) -> str:
    """Symbol of a one-symbol file: its name without suffix (``RUT.csv`` -> ``RUT``).

    A file inside a hive partition folder ``symbol=XYZ`` belongs to ``XYZ``.
    """
    path = Path(path)
    parent = path.parent.name
    if parent.lower().startswith("symbol=") and len(parent) > len("symbol="):
        return parent.split("=", 1)[1]
    return path.name.split(".")[0]


def iter_bar_files(root: str | Path) -> Iterator[Path]:
    """Yield bar files under ``root`` (a file, or a folder searched recursively), sorted by path.

    Hidden files and folders (names starting with ``.``) are skipped.

    Raises
    ------
    DataError
        When ``root`` does not exist.
    """
    root = Path(root)
    if root.is_file():
        yield root
        return
    if not root.is_dir():
        raise DataError("no such file or directory; check the path", path=root)
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).parts
        if any(part.startswith(".") for part in rel):
            continue
        if p.is_file() and p.suffix.lower() in BAR_FILE_SUFFIXES:
            yield p


def _map_columns(header: Sequence[str], path: Path, unit_line: int | None) -> dict[str, int]:
    """Map bar-table columns to header positions; raise on missing or ambiguous columns."""
    positions: dict[str, int] = {}
    for i, raw in enumerate(header):
        canon = COLUMN_ALIASES.get(normalise_column_name(raw))
        if canon is None:
            continue
        if canon in positions:
            raise DataError(
                f"columns {header[positions[canon]]!r} and {raw!r} both mean '{canon}'; keep one of them",
                path=path,
                line=unit_line,
                column=raw,
            )
        positions[canon] = i
    for required in ("date", "close"):
        if required not in positions:
            raise DataError(
                f"missing required column '{required}'; the file has columns {list(header)}; expected {_EXPECTED}",
                path=path,
                line=unit_line,
                column=required,
            )
    ohl = [c for c in ("open", "high", "low") if c in positions]
    if ohl and len(ohl) < 3:
        missing = [c for c in ("open", "high", "low") if c not in positions]
        raise DataError(
            f"missing required column '{missing[0]}'; the file has columns {list(header)}; a file has all of "
            "open, high, low or none of them (close-only data)",
            path=path,
            line=unit_line,
            column=missing[0],
        )
    return positions


def _standardise(
    raw: pl.DataFrame,
    positions: dict[str, int],
    *,
    symbol: str,
    path: Path,
    line_start: int,
) -> pl.LazyFrame:
    """Select the mapped columns by position, add missing ones as null and the line numbers (lazily)."""
    cols = raw.columns
    exprs: list[pl.Expr] = [pl.col(cols[positions[c]]).alias(c) for c in BAR_COLUMNS[1:] if c in positions]
    exprs += [pl.lit(None, dtype=pl.Float64).alias(c) for c in BAR_COLUMNS[2:] if c not in positions]
    if "symbol" in positions:
        exprs.append(pl.col(cols[positions["symbol"]]).cast(pl.String).str.strip_chars().alias("symbol"))
    else:
        exprs.append(pl.lit(symbol, dtype=pl.String).alias("symbol"))
    exprs.append(pl.int_range(line_start, line_start + raw.height, dtype=pl.Int64).alias(LINE))
    return raw.lazy().select(exprs)


def _check_symbol_arg(frame: pl.DataFrame, symbol: str | None, path: Path, unit: str) -> None:
    if symbol is None:
        return
    other = frame.filter(pl.col("symbol") != symbol)
    if other.height:
        row = other.row(0, named=True)
        raise DataError(
            f"the file's symbol column says {row['symbol']!r} but symbol={symbol!r} was asked for; drop the "
            "symbol argument or read the right file",
            path=path,
            line=row[LINE],
            column="symbol",
        )


def _check_daily(raw: pl.DataFrame, header: list[str], path: Path) -> None:
    """Stooq ASCII files carry the bar period in ``<PER>``; only daily (``D``) bars are read."""
    per = [i for i, h in enumerate(header) if normalise_column_name(h) == "per"]
    if not per:
        return
    period = raw.get_column(raw.columns[per[0]])
    not_daily = period.is_not_null() & (period.str.strip_chars().str.to_uppercase() != "D")
    if not_daily.any():
        idx = int(not_daily.arg_true()[0])
        raise DataError(
            f"period {period[idx]!r} is not daily ('D'); capscope reads daily bars only: download the daily file",
            path=path,
            line=idx + 2,
            column=header[per[0]],
        )


def _read_csv_checked(
    path: Path, data: bytes, *, symbol: str | None, repair: bool, log: list[Repair] | None
) -> pl.DataFrame:
    text = check_csv_bytes(data, path, repair=repair, log=log)
    positions = _map_columns(text.header, path, 1)
    fmt = detect_format(text.header)
    try:
        raw = pl.read_csv(
            io.BytesIO(text.data),
            infer_schema=False,
            has_header=True,
            truncate_ragged_lines=False,
            raise_if_empty=True,
        )
    except (pl.exceptions.PolarsError, OSError) as exc:  # the byte checks catch the usual causes first
        raise DataError(
            f"cannot parse the CSV ({str(exc).splitlines()[0]}); check quoting and delimiters",
            path=path,
        ) from None
    if raw.width != len(text.header):
        raise DataError(
            f"the CSV parser found {raw.width} columns but the header has {len(text.header)}; check quoting",
            path=path,
            line=1,
        )
    std = _standardise(raw, positions, symbol=symbol or symbol_from_path(path), path=path, line_start=2)
    if text.blank_lines:
        std = std.filter(~pl.col(LINE).is_in(list(text.blank_lines)))
    if fmt == "stooq-ascii":
        _check_daily(raw, text.header, path)
    date_format = "%Y%m%d" if fmt == "stooq-ascii" else "%Y-%m-%d"
    fast = fast_validate(
        std, date_format=date_format, single_symbol="symbol" not in positions, grouped=symbol is None
    )
    if fast is not None:
        return fast
    frame = std.collect()
    _check_symbol_arg(frame, symbol if "symbol" in positions else None, path, "line")
    frame = parse_dates(frame, path=path, date_format=date_format)
    frame = parse_numbers(frame, BAR_COLUMNS[2:], path=path)
    return check_bars(frame, path=path, repair=repair, log=log)


def _read_parquet_checked(
    path: Path, *, symbol: str | None, repair: bool, log: list[Repair] | None
) -> pl.DataFrame:
    try:
        raw = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(
            f"not a readable Parquet file ({str(exc).splitlines()[0]}); re-export it or remove it",
            path=path,
        ) from None
    if raw.height == 0:
        raise DataError("the Parquet file has no rows; add data or remove the file", path=path, line=1)
    positions = _map_columns(raw.columns, path, None)
    std = _standardise(raw, positions, symbol=symbol or symbol_from_path(path), path=path, line_start=1)
    fmt = "%Y%m%d" if std.collect_schema()["date"].is_integer() else "%Y-%m-%d"
    if fmt == "%Y%m%d":
        std = std.with_columns(pl.col("date").cast(pl.String))
    fast = fast_validate(
        std, date_format=fmt, single_symbol="symbol" not in positions, grouped=symbol is None
    )
    if fast is not None:
        return fast
    frame = std.collect()
    _check_symbol_arg(frame, symbol if "symbol" in positions else None, path, "row")
    frame = parse_dates(frame, path=path, date_format=fmt, unit="row")
    frame = parse_numbers(frame, BAR_COLUMNS[2:], path=path, unit="row")
    return check_bars(frame, path=path, repair=repair, log=log, unit="row")


def _read_checked(path: Path, *, symbol: str | None, repair: bool, log: list[Repair] | None) -> pl.DataFrame:
    """Read and check one file; the result keeps :data:`LINE`."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError("no such file; check the path", path=path) from None
    except IsADirectoryError:
        raise DataError("is a directory; read it with read_many(iter_bar_files(...))", path=path) from None
    except OSError as exc:
        raise DataError(f"cannot read the file ({exc.strerror}); check permissions", path=path) from None
    if path.suffix.lower() in _PARQUET_SUFFIXES or data[:4] == _PARQUET_MAGIC:
        return _read_parquet_checked(path, symbol=symbol, repair=repair, log=log)
    return _read_csv_checked(path, data, symbol=symbol, repair=repair, log=log)


def read_bars(
    path: str | Path,
    *,
    symbol: str | None = None,
    repair: bool = False,
    log: list[Repair] | None = None,
) -> pl.DataFrame:
    """Read one bar file (or a folder of bar files) into a validated bar table.

    Parameters
    ----------
    path
        A CSV file (sample, Yahoo or Stooq layout), a Parquet file, or a folder of such files.
    symbol
        Symbol for a one-symbol file; defaults to the file name without suffix. Ignored for folders.
    repair
        Opt-in: sort rows, drop rows that are exact copies of another row and skip blank lines; every repair
        is logged (logger ``capscope.data``) and appended to ``log``. Conflicting duplicates stay errors.
    log
        List that receives one :class:`~capscope.data.validate.Repair` per repair.

    Returns
    -------
    polars.DataFrame
        Columns :data:`~capscope.data.schema.BAR_COLUMNS` with :data:`~capscope.data.schema.BAR_SCHEMA` dtypes,
        sorted by ``(symbol, date)``, unique on it.

    Raises
    ------
    DataError
        Naming the file, the line (header = line 1; Parquet: 1-based row) and the column of the first problem
        and what to do about it.

    Examples
    --------
    >>> bars = read_bars("prices/RUT.csv")  # doctest: +SKIP
    """
    path = Path(path)
    if path.is_dir():
        return read_many(list(iter_bar_files(path)), repair=repair, log=log)
    return finish(_read_checked(path, symbol=symbol, repair=repair, log=log))


def _bulk_read(files: Sequence[Path]) -> tuple[pl.DataFrame, list[int]]:
    """Read many plain sample-layout CSV files with one parse: the happy path of :func:`read_many`.

    A file qualifies when its bytes are plainly in the sample layout: the exact header
    ``date,open,high,low,close,adj_close,volume``, ASCII, no quotes, no ``\\r``, no blank line, seven fields on
    every line (comma total per file plus the parser's strictness about extra fields). The bodies are concatenated and parsed by one :func:`polars.read_csv`; the checks of
    :func:`~capscope.data.validate.fast_validate` then run as array operations over all files at once, with
    per-file segments (null counts per file by :func:`numpy.add.reduceat`, date order within each file).

    This path only ever accepts: a file that is not plain, or that breaks any rule, is left out and the caller
    reads it with the one-file path, which raises the precise error or applies the opt-in repairs.

    Returns
    -------
    (polars.DataFrame, list of int)
        The accepted rows (with :data:`LINE` and :data:`PATH`, in file order) and the indices of the accepted
        files.
    """
    header = (",".join(_SAMPLE_HEADER) + "\n").encode()
    bodies: list[bytes] = []
    chosen: list[int] = []
    for i, path in enumerate(files):
        if path.suffix.lower() != ".csv":
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if not data.startswith(header):
            continue
        body = data[len(header) :]
        if not body.endswith(b"\n"):
            body += b"\n"
        if body == b"\n" or not body.isascii() or b'"' in body or b"\r" in body or b"\n\n" in body:
            continue
        # seven fields on every line: the comma total must match, and the strict parser below rejects any line
        # with more than seven fields, so no line can have fewer either
        if body.count(b",") != 6 * body.count(b"\n"):
            continue
        bodies.append(body)
        chosen.append(i)
    fields = BAR_COLUMNS[1:]
    if not chosen:
        return pl.DataFrame(), []
    lengths = np.array([b.count(b"\n") for b in bodies], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    big = b"".join(bodies)
    numeric = BAR_COLUMNS[2:]
    try:  # numbers parsed by the CSV reader itself; any odd value makes it fail, then strings and casts
        raw = pl.read_csv(
            io.BytesIO(big),
            has_header=False,
            new_columns=list(fields),
            schema_overrides={"date": pl.String, **dict.fromkeys(numeric, pl.Float64)},
            truncate_ragged_lines=False,
        )
    except pl.exceptions.PolarsError:
        try:
            raw = pl.read_csv(
                io.BytesIO(big),
                has_header=False,
                new_columns=list(fields),
                infer_schema=False,
                truncate_ragged_lines=False,
            )
        except pl.exceptions.PolarsError:
            return pl.DataFrame(), []
    if raw.height != int(lengths.sum()) or raw.width != len(fields):
        return pl.DataFrame(), []
    parsed = raw.select(
        pl.col("date").str.to_date("%Y-%m-%d", strict=False),
        *[pl.col(c).cast(pl.Float64, strict=False) for c in numeric],
    )
    owner = np.repeat(np.arange(len(chosen)), lengths)
    bad = parsed["date"].is_null().to_numpy().copy()
    days = parsed["date"].to_physical().fill_null(0).to_numpy()
    step_ok = days[1:] > days[:-1]
    step_ok[starts[1:] - 1] = True  # file boundaries do not count
    bad[1:] |= ~step_ok
    values: dict[str, np.ndarray] = {}
    for c in numeric:
        raw_null = raw[c].is_null().to_numpy()
        p_null = parsed[c].is_null().to_numpy()
        bad |= p_null & ~raw_null  # did not parse
        nulls = np.add.reduceat(p_null.astype(np.int64), starts)
        partial = (nulls > 0) & ((nulls < lengths) | (c == "close"))  # close required; others all or none
        bad |= partial[owner]
        v = parsed[c].to_numpy()  # NaN where null: comparisons with NaN are False, so nulls pass
        with np.errstate(invalid="ignore"):
            bad |= ~np.isfinite(v) & ~p_null
            bad |= (v < 0) if c == "volume" else (v <= 0)
        values[c] = v
    with np.errstate(invalid="ignore"):
        ceiling = values["high"] * (1.0 + OHLC_REL_TOL)
        floor = values["low"] * (1.0 - OHLC_REL_TOL)
        bad |= (values["close"] > ceiling) | (values["open"] > ceiling)
        bad |= (values["close"] < floor) | (values["open"] < floor)
        bad |= values["high"] < values["low"] * (1.0 - OHLC_REL_TOL)
    file_bad = np.add.reduceat(bad.astype(np.int64), starts) > 0
    keep_rows = ~file_bad[owner]
    symbols = pl.Series("symbol", [symbol_from_path(files[i]) for i in chosen], dtype=pl.String)
    paths = pl.Series(PATH, [str(files[i]) for i in chosen], dtype=pl.String)
    frame = parsed.with_columns(
        symbols.gather(owner),
        pl.Series(LINE, np.arange(owner.size) - starts[owner] + 2),
        paths.gather(owner),
    ).filter(pl.Series(keep_rows))
    accepted = [chosen[k] for k in range(len(chosen)) if not file_bad[k]]
    return frame, accepted


def read_many(
    paths: Iterable[str | Path],
    *,
    repair: bool = False,
    log: list[Repair] | None = None,
) -> pl.DataFrame:
    """Read several bar files into one bar table sorted by ``(symbol, date)``.

    Each file is validated as in :func:`read_bars`; in addition a ``(symbol, date)`` found in two files is a
    :class:`~capscope.errors.DataError` naming both (with ``repair=True`` exact copies are dropped, logged).
    Plain sample-layout files are parsed together in one pass (:func:`_bulk_read`); any other file, and any
    file with a problem, is read on its own, so errors are exactly those of :func:`read_bars`.

    Parameters
    ----------
    paths
        Files (folders are expanded with :func:`iter_bar_files`).
    repair, log
        As in :func:`read_bars`.

    Returns
    -------
    polars.DataFrame
        A bar table; empty (with the contract's schema) when ``paths`` is empty.
    """
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        files.extend(iter_bar_files(p) if p.is_dir() else [p])
    if not files:
        return empty_bars()
    # order by symbol so the one-pass rows come out sorted when every file holds its own symbol
    files = sorted(files, key=lambda f: (symbol_from_path(f), str(f)))
    bulk, accepted = _bulk_read(files)
    done = set(accepted)
    singles = [
        _read_checked(p, symbol=None, repair=repair, log=log).with_columns(pl.lit(str(p)).alias(PATH))
        for i, p in enumerate(files)
        if i not in done
    ]
    parts = ([bulk.select(*BAR_COLUMNS, LINE, PATH)] if accepted else []) + [
        f.select(*BAR_COLUMNS, LINE, PATH) for f in singles
    ]
    combined = pl.concat(parts, how="vertical_relaxed")
    # a file's checked rows are sorted by (symbol, date): it holds one symbol iff first and last agree
    file_symbols = [symbol_from_path(files[i]) for i in accepted]
    for f in singles:
        file_symbols.append(f["symbol"][0] if f.height and f["symbol"][0] == f["symbol"][-1] else "")
    distinct = "" not in file_symbols and len(set(file_symbols)) == len(file_symbols)
    if not distinct:
        combined = check_duplicates(combined, path=None, repair=repair, log=log, unit="line")
    if singles or not distinct:
        combined = combined.sort(["symbol", "date"])
    return finish(combined)
