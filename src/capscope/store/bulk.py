"""Bulk fast path of the ingest: parse and check many plain sample-layout CSV files in one vectorized pass.

Reading ~700 small files one by one costs a fixed overhead per file (open, parse set-up, a dozen polars and
numpy calls), which dominates an ingest of the sample data. Files that are *plainly* in the sample layout are
therefore concatenated (without their headers) and parsed by one ``polars.read_csv`` call, then checked with
array operations over all files at once.

The fast path only ever **accepts**. Its eligibility rules and checks are stricter than or equal to those of
:func:`capscope.data.readers.read_bars` (same parsing expressions as its happy path, the same tolerances); when
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
    only, no quotes, and exactly seven fields on every line.
    """
    if (
        not data.startswith(CANONICAL_HEADER)
        or not data.endswith(b"\n")
        or len(data) == len(CANONICAL_HEADER)
    ):
        return False
    if not data.isascii() or b"\r" in data or b'"' in data or b"\n\n" in data:
        return False
    return data.count(b",") == (_N_FIELDS - 1) * data.count(b"\n")


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
    try:
        raw = pl.read_csv(buffer, infer_schema=False, has_header=True, truncate_ragged_lines=False)
    except pl.exceptions.PolarsError:
        return None
    if raw.height != int(n_rows.sum()) or raw.width != _N_FIELDS:
        return None
    # the happy-path parsing expressions of capscope.data.validate (fast_validate / _parsed_expr)
    parsed = raw.select(
        pl.col("date").str.to_date("%Y-%m-%d", strict=False),
        *[pl.col(c).cast(pl.Float64, strict=False) for c in VALUE_COLUMNS],
    )
    for c in ("date", *VALUE_COLUMNS):
        if parsed[c].null_count() != raw[c].null_count():  # a value that did not parse
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
