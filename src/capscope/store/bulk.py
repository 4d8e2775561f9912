"""Bulk fast path of the ingest: parse and check many plain sample-layout CSV files in one vectorized pass.

Reading ~700 small files one by one costs a fixed overhead per file (open, parse set-up, a dozen polars and
numpy calls), which dominates an ingest of the sample data. Files that are *plainly* in the sample layout are
therefore concatenated (without their headers) and parsed by one ``polars.read_csv`` call, then checked with
array operations over all files at once.

The fast path only ever **accepts**. Its eligibility rules and checks are stricter than or equal to those of
:func:`capscope.data.readers.read_bars` (typed parsing of values whose shape is checked first, the same
tolerances); when
anything is unusual (any file not plainly in the layout, a value that does not parse, a rule broken anywhere)
it returns ``None`` / leaves the file out, and the caller reads those files with ``read_bars``, which raises
the precise :class:`~capscope.errors.DataError` (file, line, column) or applies the opt-in repairs. The tests
check that both paths give identical bar tables on the sample data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import numpy as np

from capscope.store.schema import VALUE_COLUMNS

if TYPE_CHECKING:
    import polars as pl

#: The exact first line a file needs for the fast path (the sample layout, see DESIGN.md "Bar table").
CANONICAL_HEADER: Final[bytes] = b"date,open,high,low,close,adj_close,volume\n"
_N_FIELDS: Final = 7


def eligible(data: bytes) -> bool:
    """True when a file's bytes are plainly in the sample layout.

    Canonical header, at least one data line, every line ending in ``\\n`` (no ``\\r``, no blank line), ASCII
    only, no quotes, no spaces or tabs, and exactly seven fields on every line.
    """
    if (
        not data.startswith(CANONICAL_HEADER)
        or not data.endswith(b"\n")
        or len(data) == len(CANONICAL_HEADER)
    ):
        return False
    if not data.isascii() or b"\n\n" in data:
        return False
    if b"\r" in data or b'"' in data or b" " in data or b"\t" in data:
        return False
    return data.count(b",") == (_N_FIELDS - 1) * data.count(b"\n")


def _dates_well_formed(buffer: bytes) -> bool:
    """Every data line starts with ``DDDD-DD-DD,`` (D a digit), checked on the bytes with numpy.

    With this guard the CSV parser's typed date parsing gives the same dates as the readers' ``%Y-%m-%d``
    parsing (it would otherwise also take e.g. ``2024/01/02``).
    """
    arr = np.frombuffer(buffer, dtype=np.uint8)
    newlines = np.flatnonzero(arr == ord("\n"))
    starts = newlines[:-1] + 1
    if bool((newlines[1:] - starts < 11).any()):
        return False
    ok = (arr[starts + 4] == ord("-")) & (arr[starts + 7] == ord("-")) & (arr[starts + 10] == ord(","))
    for k in (0, 1, 2, 3, 5, 6, 8, 9):
        ok &= (arr[starts + k] - ord("0")) < 10  # uint8 wraps below '0'
    return bool(ok.all())


def read_bulk(datas: Sequence[bytes]) -> pl.DataFrame | None:
    """Parse and check eligible files at once.

    Parameters
    ----------
    datas
        The bytes of files for which :func:`eligible` is true.

    Returns
    -------
    polars.DataFrame or None
        Columns ``file_pos`` (Int32, index into ``datas``), ``date`` and the value columns, rows in file
        order; ``None`` when any file needs the per-file reader.
    """
    import polars as pl

    from capscope.data.validate import OHLC_REL_TOL

    if not datas:
        return None
    skip = len(CANONICAL_HEADER)
    n_rows = np.fromiter((d.count(b"\n") - 1 for d in datas), dtype=np.int64, count=len(datas))
    buffer = CANONICAL_HEADER + b"".join(memoryview(d)[skip:] for d in datas)
    if not _dates_well_formed(buffer):
        return None
    schema = {"date": pl.Date(), **{c: pl.Float64() for c in VALUE_COLUMNS}}
    try:  # typed parsing raises on any value that is not a number / date
        parsed = pl.read_csv(buffer, schema=schema, has_header=True, truncate_ragged_lines=False)
    except pl.exceptions.PolarsError:
        return None
    if parsed.height != int(n_rows.sum()):
        return None
    if parsed["date"].null_count() or parsed["close"].null_count():
        return None
    file_of_row = np.repeat(np.arange(len(datas)), n_rows)
    null_files = {}
    for c in VALUE_COLUMNS:
        column = parsed[c]
        if bool((column.is_nan() | column.is_infinite()).any()):
            return None
        per_file = np.bincount(file_of_row, weights=column.is_null().to_numpy(), minlength=len(datas))
        if not bool(np.all((per_file == 0) | (per_file == n_rows))):  # partly empty column in a file
            return None
        null_files[c] = per_file == n_rows
    if not (
        np.array_equal(null_files["open"], null_files["high"])
        and np.array_equal(null_files["open"], null_files["low"])
    ):
        return None
    days = parsed["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    rising = np.diff(days) > 0
    rising[np.cumsum(n_rows)[:-1] - 1] = True  # a new file may start at any date
    if not bool(rising.all()):
        return None
    values = {c: parsed[c].to_numpy() for c in VALUE_COLUMNS}  # nulls -> NaN; NaN compares False below
    with np.errstate(invalid="ignore"):
        for c in ("open", "high", "low", "close", "adj_close"):
            if bool((values[c] <= 0).any()):
                return None
        if bool((values["volume"] < 0).any()):
            return None
        high, low, open_, close = values["high"], values["low"], values["open"], values["close"]
        ceiling = high * (1.0 + OHLC_REL_TOL)
        floor = low * (1.0 - OHLC_REL_TOL)
        if bool((close > ceiling).any() or (open_ > ceiling).any()):
            return None
        if bool((close < floor).any() or (open_ < floor).any() or (high < floor).any()):
            return None
    return parsed.with_columns(pl.Series("file_pos", file_of_row, dtype=pl.Int32))
