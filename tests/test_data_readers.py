"""Readers: the sample data, and round trips through the Yahoo, Stooq and Parquet layouts."""

from __future__ import annotations

import csv
import math
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from capscope.data.readers import (
    detect_format,
    iter_bar_files,
    normalise_column_name,
    read_bars,
    read_many,
    symbol_from_path,
)
from capscope.data.schema import BAR_COLUMNS, BAR_SCHEMA
from capscope.errors import DataError


def _count_data_lines(path: Path) -> int:
    """Independent row count: non-empty lines after the header."""
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip()) - 1


def _csv_module_rows(path: Path) -> list[tuple[object, ...]]:
    """Independent parse with the standard library: (date, open, high, low, close, adj_close, volume)."""
    out = []
    with path.open(newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            out.append(
                (
                    date.fromisoformat(rec["date"]),
                    *[float(rec[c]) if rec[c] != "" else None for c in BAR_COLUMNS[2:]],
                )
            )
    return out


# ------------------------------------------------------------------------------------------------ sample data


@pytest.mark.sample
def test_rut_sample(sample_dir: Path) -> None:
    path = sample_dir / "prices" / "RUT.csv"
    bars = read_bars(path)
    assert bars.schema == pl.Schema(BAR_SCHEMA)
    assert bars.height == 9811  # SOURCES.md: 9,811 rows
    assert bars["date"][0] == date(1987, 9, 10)
    assert bars["date"][-1] == date(2026, 8, 21)
    by_day = dict(zip(bars["date"].to_list(), bars["close"].to_list(), strict=True))
    # reference closes published in SOURCES.md ("reference values")
    assert by_day[date(2024, 11, 25)] == pytest.approx(2442.03, abs=0.01)
    assert by_day[date(2025, 4, 8)] == pytest.approx(1760.71, abs=0.01)
    assert by_day[date(2026, 8, 14)] == pytest.approx(3068.42, abs=0.01)
    # mixed number formats in one column: 6037540000 and 5782730000.0
    volume = dict(zip(bars["date"].to_list(), bars["volume"].to_list(), strict=True))
    assert volume[date(2026, 7, 1)] == 5782730000.0
    assert volume[date(1987, 9, 10)] == 179800000.0
    assert bars["adj_close"].null_count() == bars.height
    # every value equals an independent parse by the csv module
    expected = _csv_module_rows(path)
    assert bars.select(BAR_COLUMNS[1:]).rows() == expected


@pytest.mark.sample
@pytest.mark.parametrize("folder", ["prices", "prices/alt"])
def test_every_sample_file_reads_and_validates(sample_dir: Path, folder: str) -> None:
    files = sorted((sample_dir / folder).glob("*.csv"))
    assert files
    for path in files:
        bars = read_bars(path)
        assert bars.height == _count_data_lines(path), path
        assert bars["symbol"].unique().to_list() == [path.stem]
        assert bars["date"].is_sorted() and bars["date"].is_unique().all()
        assert (bars["close"] > 0).all()


@pytest.mark.sample
def test_close_only_files_have_null_ohlc(sample_dir: Path) -> None:
    files = sorted((sample_dir / "prices" / "alt").glob("*_close_only.csv"))
    assert len(files) == 5
    for path in files:
        bars = read_bars(path)
        for column in ("open", "high", "low", "volume", "adj_close"):
            assert bars[column].null_count() == bars.height
        assert bars["close"].null_count() == 0


@pytest.mark.sample
def test_read_many_stocks(sample_dir: Path) -> None:
    """Every stock file reads and validates; per-symbol row counts match the files' line counts."""
    files = sorted((sample_dir / "stocks").glob("*.csv"))
    bars = read_many(files)
    assert bars["symbol"].n_unique() == len(files) == 701
    counts = dict(bars.group_by("symbol").len().iter_rows())
    assert counts == {p.stem: _count_data_lines(p) for p in files}
    assert bars.select(pl.struct("symbol", "date").is_unique().all()).item()
    assert bars.equals(bars.sort("symbol", "date"))
    assert (bars["close"] > 0).all() and (bars["high"] >= bars["low"]).all()
    one = read_bars(sample_dir / "stocks" / "CSR.csv")
    assert bars.filter(pl.col("symbol") == "CSR").equals(one)


@pytest.mark.sample
def test_read_many_one_pass_equals_one_file_at_a_time(sample_dir: Path) -> None:
    """read_many parses plain files together; the result must equal reading each file with read_bars."""
    files = [
        *sorted((sample_dir / "prices").rglob("*.csv")),
        *sorted((sample_dir / "stocks").glob("*.csv"))[::7],
    ]
    one_by_one = pl.concat([read_bars(p) for p in files]).sort("symbol", "date")
    assert read_many(files).equals(one_by_one)


def test_read_many_merges_files_of_one_symbol(tmp_path: Path) -> None:
    bars = _bars()
    (tmp_path / "late").mkdir()
    (tmp_path / "early").mkdir()
    bars[2:].drop("symbol").write_csv(tmp_path / "late" / "XYZ.csv")
    bars[:2].drop("symbol").write_csv(tmp_path / "early" / "XYZ.csv")
    other = bars.with_columns(pl.lit("ABC").alias("symbol"))
    other.drop("symbol").write_csv(tmp_path / "ABC.csv")
    got = read_many([tmp_path / "late" / "XYZ.csv", tmp_path / "ABC.csv", tmp_path / "early" / "XYZ.csv"])
    assert got.equals(pl.concat([other, bars]))


@pytest.mark.sample
def test_iter_bar_files_on_sample(sample_dir: Path) -> None:
    files = list(iter_bar_files(sample_dir))
    assert len(files) == 15 + 19 + 701
    assert all(p.suffix == ".csv" for p in files)  # SOURCES.md is not a bar file


# ------------------------------------------------------------------------------------------------ helpers


def test_symbol_from_path() -> None:
    assert symbol_from_path(Path("/x/RUT.csv")) == "RUT"
    assert symbol_from_path(Path("alt/RUT__alitalbi.csv")) == "RUT__alitalbi"
    assert symbol_from_path(Path("bars/symbol=IWM/part-0.parquet")) == "IWM"


def test_normalise_and_detect() -> None:
    assert normalise_column_name(" Adj Close ") == "adj_close"
    assert normalise_column_name("<VOL>") == "vol"
    assert detect_format(["date", "open", "high", "low", "close", "adj_close", "volume"]) == "capscope"
    assert detect_format(["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"]) == "yahoo"
    assert detect_format(["Date", "Open", "High", "Low", "Close", "Volume"]) == "stooq"
    assert detect_format(["<TICKER>", "<PER>", "<DATE>", "<TIME>", "<OPEN>"]) == "stooq-ascii"


def test_iter_bar_files_skips_hidden_and_other(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".cache").mkdir()
    for name in ["A.csv", "b/B.parquet", ".cache/C.csv", "notes.md", ".hidden.csv"]:
        (tmp_path / name).write_text("x")
    assert [p.relative_to(tmp_path).as_posix() for p in iter_bar_files(tmp_path)] == ["A.csv", "b/B.parquet"]
    with pytest.raises(DataError, match="no such file"):
        list(iter_bar_files(tmp_path / "missing"))


def test_read_many_empty() -> None:
    assert read_many([]).schema == pl.Schema(BAR_SCHEMA)


# ------------------------------------------------------------------------------------------------ round trips


def _bars() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "symbol": ["XYZ"] * 3,
            "date": [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 5)],
            "open": [10.0, 10.5, 11.0],
            "high": [11.0, 12.0, 11.5],
            "low": [9.0, 10.0, 10.5],
            "close": [10.5, 11.0, 11.2],
            "adj_close": [10.4, 10.9, 11.1],
            "volume": [6037540000.0, 5782730000.0, 150.0],
        },
        schema=BAR_SCHEMA,
    )


def test_yahoo_csv_round_trip(tmp_path: Path) -> None:
    bars = _bars()
    lines = ["Date,Open,High,Low,Close,Adj Close,Volume"]
    for r in bars.iter_rows(named=True):
        # yfinance writes the session start with the exchange's UTC offset; volume as an integer
        lines.append(
            f"{r['date']} 00:00:00-05:00,{r['open']!r},{r['high']!r},{r['low']!r},{r['close']!r},"
            f"{r['adj_close']!r},{int(r['volume'])}"
        )
    path = tmp_path / "XYZ.csv"
    path.write_text("\n".join(lines) + "\n")
    assert read_bars(path).equals(bars)


def test_stooq_csv_round_trip(tmp_path: Path) -> None:
    bars = _bars().with_columns(pl.lit(None, dtype=pl.Float64).alias("adj_close"))
    path = tmp_path / "xyz_us_d.csv"
    bars.select(
        pl.col("date").alias("Date"),
        pl.col("open").alias("Open"),
        pl.col("high").alias("High"),
        pl.col("low").alias("Low"),
        pl.col("close").alias("Close"),
        pl.col("volume").alias("Volume"),
    ).write_csv(path)
    assert read_bars(path, symbol="XYZ").equals(bars)


def test_stooq_ascii_round_trip(tmp_path: Path) -> None:
    bars = _bars().with_columns(pl.lit(None, dtype=pl.Float64).alias("adj_close"))
    lines = ["<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>"]
    for r in bars.iter_rows(named=True):
        lines.append(
            f"XYZ,D,{r['date']:%Y%m%d},000000,{r['open']!r},{r['high']!r},{r['low']!r},{r['close']!r},"
            f"{int(r['volume'])},0"
        )
    path = tmp_path / "xyz.us.txt"
    path.write_text("\n".join(lines) + "\n")
    assert read_bars(path).equals(bars)
    with pytest.raises(DataError, match="symbol column says 'XYZ'"):
        read_bars(path, symbol="ABC")


def test_sample_layout_round_trip(tmp_path: Path) -> None:
    bars = _bars()
    path = tmp_path / "XYZ.csv"
    bars.drop("symbol").write_csv(path)
    assert detect_format(path.read_text().splitlines()[0].split(",")) == "capscope"
    assert read_bars(path).equals(bars)


def test_parquet_round_trip(tmp_path: Path) -> None:
    bars = _bars()
    path = tmp_path / "XYZ.parquet"
    bars.drop("symbol").write_parquet(path)
    assert read_bars(path).equals(bars)


def test_parquet_with_other_types(tmp_path: Path) -> None:
    """Datetime dates, integer volume and float32 prices convert to the contract's dtypes."""
    bars = _bars()
    path = tmp_path / "XYZ.parquet"
    bars.with_columns(
        pl.col("date").cast(pl.Datetime("us")),
        pl.col("volume").cast(pl.Int64),
        pl.col("close").cast(pl.Float32),
    ).drop("symbol").write_parquet(path)
    got = read_bars(path)
    assert got.schema == pl.Schema(BAR_SCHEMA)
    assert got["date"].to_list() == bars["date"].to_list()
    assert got["volume"].to_list() == bars["volume"].to_list()
    assert got["close"].to_list() == [float(pl.Series([v], dtype=pl.Float32)[0]) for v in bars["close"]]


def test_multi_symbol_parquet_and_folder(tmp_path: Path) -> None:
    a = _bars()
    b = _bars().with_columns(pl.lit("ABC").alias("symbol"), pl.col("close") * 1.0)
    both = pl.concat([a, b])
    path = tmp_path / "both.parquet"
    both.write_parquet(path)
    assert read_bars(path).equals(both.sort("symbol", "date"))
    # a hive-partitioned folder: the symbol comes from the folder name
    folder = tmp_path / "hive"
    for sym, part in (("XYZ", a), ("ABC", b)):
        (folder / f"symbol={sym}").mkdir(parents=True)
        part.drop("symbol").write_parquet(folder / f"symbol={sym}" / "part-0.parquet")
    assert read_bars(folder).equals(both.sort("symbol", "date"))


def test_folder_of_mixed_formats(tmp_path: Path) -> None:
    a = _bars()
    a.drop("symbol").write_csv(tmp_path / "XYZ.csv")
    b = _bars().with_columns(pl.lit("ABC").alias("symbol"))
    b.drop("symbol").write_parquet(tmp_path / "ABC.parquet")
    assert read_bars(tmp_path).equals(pl.concat([b, a]))


def test_yahoo_date_with_time_only_keeps_date(tmp_path: Path) -> None:
    path = tmp_path / "T.csv"
    path.write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2024-01-02T09:30:00Z,1,2,0.5,1.5,1.5,10\n"
        "2024-01-03 00:00:00+09:00,1,2,0.5,1.5,1.5,10\n"
        "2024-01-04,1,2,0.5,1.5,1.5,10\n"
    )
    assert read_bars(path)["date"].to_list() == [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]


def test_numbers_with_blanks_and_exponents(tmp_path: Path) -> None:
    path = tmp_path / "E.csv"
    path.write_text("date,open,high,low,close,adj_close,volume\n2024-01-02, 1 ,2e0,0.5,1.5,,1.2e9\n")
    row = read_bars(path).row(0, named=True)
    assert (row["open"], row["high"], row["volume"]) == (1.0, 2.0, 1.2e9)
    assert not math.isnan(row["close"])


def test_quoted_csv(tmp_path: Path) -> None:
    path = tmp_path / "Q.csv"
    path.write_text(
        '"Date","Open","High","Low","Close","Adj Close","Volume"\n'
        '"2024-01-02","10","11","9","10.5","10.4","100"\n'
        '"2024-01-03","10.5","12","10","11","10.9","200"\n'
    )
    bars = read_bars(path)
    assert bars["close"].to_list() == [10.5, 11.0] and bars["adj_close"].to_list() == [10.4, 10.9]
