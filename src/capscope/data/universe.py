"""Universe tables for the reconstitution simulator: read a CSV or Parquet file and check it against its schema.

One row per security as of the rank day. Columns (names are matched case-insensitively; unknown columns are
errors, with the valid names in the message):

============== ======== =====================================================================================
column         required meaning and check
============== ======== =====================================================================================
symbol         yes      non-empty, unique
price          yes      close on the rank day, USD, > 0
shares_total   yes      total shares outstanding, > 0 (total market cap = price x shares_total)
float_fraction yes      float-adjusted share of the shares, in [0, 1]
voting_fraction yes     share of voting rights in unrestricted hands, in [0, 1]
country        yes      ISO 3166 alpha-2 code of the country assigned by the index rules (``US``)
security_type  yes      one of :data:`SECURITY_TYPES`
book_to_price  yes      book value per share / price (finite; negative book equity allowed)
sales_growth_5y yes     5-year sales-per-share growth (finite; e.g. 0.08 for 8 % a year)
growth_forecast no      medium-term (2-year) analyst growth forecast; empty where there is none
current_index  no       ``R1000``, ``R2000`` or empty (not a member)
current_style  no       current value probability in [0, 1], or ``value`` (1) / ``growth`` (0); empty: none
adv            no       average daily volume in shares, >= 0; empty: taken from the store's bars
============== ======== =====================================================================================

Every problem raises :class:`~capscope.errors.DataError` naming the file, the line (header = line 1; Parquet:
the 1-based row) and the column, and saying what to do — the conventions of the bar files
(:mod:`capscope.data.validate`, whose byte-level CSV checks and number parsing are reused here).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Final

import polars as pl

from capscope.data.validate import LINE, check_csv_bytes, parse_numbers
from capscope.errors import DataError, UsageError

REQUIRED: Final[tuple[str, ...]] = (
    "symbol",
    "price",
    "shares_total",
    "float_fraction",
    "voting_fraction",
    "country",
    "security_type",
    "book_to_price",
    "sales_growth_5y",
)
OPTIONAL: Final[tuple[str, ...]] = ("growth_forecast", "current_index", "current_style", "adv")
COLUMNS: Final[tuple[str, ...]] = REQUIRED + OPTIONAL
#: Security types a universe table may hold. ``common`` and ``reit`` are eligible; the rest are excluded by the
#: Russell US rules (ADRs, MLPs, BDCs, preferreds per the research notes; the others are assumed excluded as
#: funds, blank-check companies or instruments that are not shares).
SECURITY_TYPES: Final[tuple[str, ...]] = (
    "common",
    "reit",
    "adr",
    "mlp",
    "bdc",
    "preferred",
    "etf",
    "closed_end_fund",
    "spac",
    "royalty_trust",
    "warrant",
    "right",
    "unit",
)
INDEXES: Final[tuple[str, ...]] = ("R1000", "R2000")
_NUMERIC: Final[tuple[str, ...]] = (
    "price",
    "shares_total",
    "float_fraction",
    "voting_fraction",
    "book_to_price",
    "sales_growth_5y",
    "growth_forecast",
    "adv",
)


def _fail(frame: pl.DataFrame, mask: pl.Series, column: str, path: str, unit: str, what: str) -> None:
    """Raise at the first row where ``mask`` holds, naming a few more."""
    hit = frame.filter(mask.fill_null(False))
    if hit.height == 0:
        return
    lines = hit[LINE].to_list()
    value = hit[column][0]
    more = f"; also {unit}s {', '.join(str(n) for n in lines[1:4])}" + (" and more" if len(lines) > 4 else "")
    raise DataError(
        f"{column} {value!r}: {what}" + (more if len(lines) > 1 else ""),
        path=path,
        line=int(lines[0]),
        column=column,
    )


def _read_raw(path: Path) -> tuple[pl.DataFrame, str]:
    """Read the file into strings (CSV) or its own types (Parquet), with :data:`LINE`; returns (frame, unit)."""
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            frame = pl.read_parquet(path)
        except Exception as exc:  # polars raises several types for damaged files
            raise DataError(f"cannot read the Parquet file ({exc}); write it again", path=path) from None
        return frame.with_columns(pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(LINE)), "row"
    data = path.read_bytes()
    if not data.strip():
        raise DataError(
            f"file is empty; expected a header line with the columns {', '.join(REQUIRED)}", path=path, line=1
        )
    text = check_csv_bytes(data, path)
    frame = pl.read_csv(io.BytesIO(text.data), infer_schema=False)
    return frame.with_columns(pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(LINE)), "line"


def read_universe(path: str | Path) -> pl.DataFrame:
    """Read and check a universe table.

    Parameters
    ----------
    path
        CSV (``.csv``) or Parquet (``.parquet``) file.

    Returns
    -------
    polars.DataFrame
        The columns of :data:`COLUMNS` in that order (optional ones null where absent): ``symbol``, ``country``,
        ``security_type``, ``current_index`` as strings, ``current_style`` as the value probability (float), the
        rest float64; plus :data:`LINE` (source line or row of each row).

    Raises
    ------
    UsageError
        The file does not exist.
    DataError
        Unknown or missing columns, a value that does not parse or breaks its rule, duplicate symbols, no rows.
    """
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"universe table {p}: no such file")
    where = str(p)
    frame, unit = _read_raw(p)
    rename = {c: c.strip().lower() for c in frame.columns if c != LINE}
    frame = frame.rename(rename)
    names = [c for c in frame.columns if c != LINE]
    unknown = [c for c in names if c not in COLUMNS]
    if unknown:
        raise DataError(
            f"unknown column(s) {', '.join(repr(c) for c in unknown)}; valid columns: {', '.join(COLUMNS)} "
            f"(required: {', '.join(REQUIRED)})",
            path=where,
            line=1 if unit == "line" else None,
            column=unknown[0],
        )
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}; the file has {', '.join(names) or 'no columns'}",
            path=where,
            line=1 if unit == "line" else None,
            column=missing[0],
        )
    if frame.height == 0:
        raise DataError("the table has a header but no rows; add one row per security", path=where, line=2)
    for c in OPTIONAL:
        if c not in names:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(c))
    # text columns: strip, empty -> null
    for c in ("symbol", "country", "security_type", "current_index", "current_style"):
        col = frame[c].cast(pl.String).str.strip_chars()
        frame = frame.with_columns(pl.when(col == "").then(None).otherwise(col).alias(c))
    frame = parse_numbers(frame, [c for c in _NUMERIC], path=where, unit=unit)
    for c in REQUIRED:
        _fail(frame, frame[c].is_null(), c, where, unit, "empty; every row needs a value in this column")
    dup = frame["symbol"].is_duplicated()
    if dup.any():
        first = frame.filter(dup)["symbol"][0]
        lines = frame.filter(pl.col("symbol") == first)[LINE].to_list()
        raise DataError(
            f"symbol {first!r} appears more than once ({unit}s {', '.join(map(str, lines))}); keep one row per "
            "security",
            path=where,
            line=int(lines[1]),
            column="symbol",
        )
    _fail(frame, frame["price"] <= 0, "price", where, unit, "must be > 0 (the rank-day close in USD)")
    _fail(frame, frame["shares_total"] <= 0, "shares_total", where, unit, "must be > 0")
    for c in ("float_fraction", "voting_fraction"):
        _fail(
            frame,
            (frame[c] < 0) | (frame[c] > 1),
            c,
            where,
            unit,
            "must lie in [0, 1] (a fraction, not a percent)",
        )
    _fail(frame, frame["adv"] < 0, "adv", where, unit, "must be >= 0 (shares a day)")
    _fail(
        frame,
        ~frame["country"].str.contains(r"^[A-Z]{2}$"),
        "country",
        where,
        unit,
        "not an ISO 3166 alpha-2 code; write two capital letters such as US, CA, GB",
    )
    _fail(
        frame,
        ~frame["security_type"].is_in(list(SECURITY_TYPES)),
        "security_type",
        where,
        unit,
        f"unknown security type; valid types: {', '.join(SECURITY_TYPES)}",
    )
    _fail(
        frame,
        frame["current_index"].is_not_null() & ~frame["current_index"].is_in(list(INDEXES)),
        "current_index",
        where,
        unit,
        "valid values: R1000, R2000 or empty (not a member)",
    )
    style_text = pl.col("current_style").str.to_lowercase()
    style = (
        pl.when(style_text == "value")
        .then(1.0)
        .when(style_text == "growth")
        .then(0.0)
        .otherwise(style_text.cast(pl.Float64, strict=False))
    )
    frame = frame.with_columns(style.alias("__style"))
    bad_style = frame["current_style"].is_not_null() & (
        frame["__style"].is_null()
        | (frame["__style"] < 0)
        | (frame["__style"] > 1)
        | frame["__style"].is_nan()
    )
    _fail(
        frame,
        bad_style,
        "current_style",
        where,
        unit,
        "valid values: a value probability in [0, 1], 'value' (1), 'growth' (0) or empty",
    )
    frame = frame.with_columns(pl.col("__style").alias("current_style")).drop("__style")
    return frame.select(*COLUMNS, LINE)
