"""Property tests for the readers and the validator on generated bar tables (``tests/strategies.py``).

* A valid table round-trips exactly (bit for bit) through the sample CSV layout, the Yahoo layout and Parquet.
* One injected corruption is always reported at the right line and column.
* Shuffled rows and exact copies are restored by ``repair=True``, with one logged repair per dropped copy.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capscope.data.readers import read_bars, read_many
from capscope.data.validate import Repair
from capscope.errors import DataError
from tests.strategies import bar_frames

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _write_sample_csv(bars: pl.DataFrame, path: Path) -> None:
    bars.drop("symbol").write_csv(path, date_format="%Y-%m-%d")


@SETTINGS
@given(bars=bar_frames())
def test_csv_round_trip_is_exact(bars: pl.DataFrame) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "SYM.csv"
        _write_sample_csv(bars, path)
        assert read_bars(path).equals(bars)


@SETTINGS
@given(bars=bar_frames(close_only=False, with_adj_close=True))
def test_yahoo_round_trip_is_exact(bars: pl.DataFrame) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "SYM.csv"
        bars.select(
            pl.col("date").alias("Date"),
            pl.col("open").alias("Open"),
            pl.col("high").alias("High"),
            pl.col("low").alias("Low"),
            pl.col("close").alias("Close"),
            pl.col("adj_close").alias("Adj Close"),
            pl.col("volume").cast(pl.Int64).alias("Volume"),
        ).write_csv(path)
        assert read_bars(path).equals(bars)


@SETTINGS
@given(bars=bar_frames())
def test_parquet_round_trip_is_exact(bars: pl.DataFrame) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "SYM.parquet"
        bars.write_parquet(path)
        assert read_bars(path).equals(bars)


# kind -> column the error must name; each kind applies to full bars, some also to close-only bars
KINDS = {
    "bad_date": "date",
    "impossible_date": "date",
    "negative_close": "close",
    "zero_close": "close",
    "empty_close": "close",
    "nan_close": "close",
    "text_close": "close",
    "non_utf8_close": "close",
    "earlier_date": "date",
    "duplicate_date": "date",
    "extra_field": "volume",
    "zero_open": "open",
    "high_below_low": "high",
    "close_above_high": "close",
    "open_below_low": "open",
    "empty_volume": "volume",
}
FULL_BAR_ONLY = {"zero_open", "high_below_low", "close_above_high", "open_below_low", "empty_volume"}
NEEDS_PREVIOUS = {"earlier_date", "duplicate_date"}


def _corrupt(bars: pl.DataFrame, i: int, kind: str) -> bytes:
    """CSV bytes of ``bars`` with row ``i`` corrupted (data row i is line i + 2)."""
    fields = ["date", "open", "high", "low", "close", "adj_close", "volume"]
    rows = bars.select(fields).rows()

    def fmt(v: object) -> str:
        return "" if v is None else (repr(v) if isinstance(v, float) else str(v))

    lines = [[fmt(v) for v in row] for row in rows]
    row = lines[i]
    d, o, h, lo, c = rows[i][:5]
    if kind == "bad_date":
        row[0] = "2024/01/02"
    elif kind == "impossible_date":
        row[0] = f"{d.year:04d}-02-30"
    elif kind == "negative_close":
        row[4] = fmt(-c)
    elif kind == "zero_close":
        row[4] = "0"
    elif kind == "empty_close":
        row[4] = ""
    elif kind == "nan_close":
        row[4] = "nan"
    elif kind == "text_close":
        row[4] = "n/a"
    elif kind == "earlier_date":
        row[0] = str(rows[0][0] - timedelta(days=1))
    elif kind == "duplicate_date":
        row[0] = str(rows[i - 1][0])
        row[4] = fmt(c * 3.0 + 1.0)  # differs from the previous close, so never an exact copy
        if h is not None:
            row[2] = fmt(max(o, c * 3.0 + 1.0) * 2)
    elif kind == "extra_field":
        row.append("1")
    elif kind == "zero_open":
        row[1] = "0"
    elif kind == "high_below_low":
        row[2] = fmt(lo / 2)
    elif kind == "close_above_high":
        row[4] = fmt(h * 2 + 1)
    elif kind == "open_below_low":
        row[1] = fmt(lo / 2)
    elif kind == "empty_volume":
        row[6] = ""
    text = "\n".join([",".join(fields), *(",".join(r) for r in lines)]) + "\n"
    data = text.encode()
    if kind == "non_utf8_close":
        marker = ",".join(row).encode()
        pos = data.index(marker) + len(",".join(row[:5]).encode())
        data = data[:pos] + b"\xff" + data[pos:]
    return data


@SETTINGS
@given(data=st.data())
def test_injected_corruption_is_reported_at_its_line(data: st.DataObject) -> None:
    bars = data.draw(bar_frames(min_rows=2, max_rows=30), label="bars")
    close_only = bars["open"].null_count() == bars.height
    kinds = [k for k in KINDS if not (close_only and k in FULL_BAR_ONLY)]
    kind = data.draw(st.sampled_from(kinds), label="kind")
    low = 1 if kind in NEEDS_PREVIOUS else 0
    i = data.draw(st.integers(low, bars.height - 1), label="row")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "SYM.csv"
        path.write_bytes(_corrupt(bars, i, kind))
        with pytest.raises(DataError) as info:
            read_bars(path)
    err = info.value
    assert (err.path, err.line, err.column) == (str(path), i + 2, KINDS[kind]), str(err)
    assert f"line {i + 2}" in str(err)


@SETTINGS
@given(data=st.data())
def test_repair_restores_shuffled_rows_with_copies(data: st.DataObject) -> None:
    bars = data.draw(bar_frames(min_rows=1, max_rows=25), label="bars")
    copies = data.draw(st.lists(st.integers(0, bars.height - 1), max_size=5), label="copies")
    messy = pl.concat([bars, *[bars[j : j + 1] for j in copies]])
    messy = messy.sample(fraction=1.0, shuffle=True, seed=data.draw(st.integers(0, 2**32 - 1), label="seed"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "SYM.csv"
        _write_sample_csv(messy, path)
        log: list[Repair] = []
        assert read_bars(path, repair=True, log=log).equals(bars)
    assert sum(r.action == "dropped_duplicate" for r in log) == len(copies)
    assert all(r.line is not None and 2 <= r.line <= messy.height + 1 for r in log)


@SETTINGS
@given(data=st.data())
def test_read_many_agrees_with_read_bars(data: st.DataObject) -> None:
    """The one-pass multi-file path gives the same table, or the same error, as reading file by file."""
    n_files = data.draw(st.integers(1, 4), label="n_files")
    frames = [
        data.draw(bar_frames(symbol=f"S{k}", min_rows=2, max_rows=15), label=f"bars{k}")
        for k in range(n_files)
    ]
    bad_file = data.draw(st.one_of(st.none(), st.integers(0, n_files - 1)), label="bad_file")
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for k, bars in enumerate(frames):
            path = Path(tmp) / f"S{k}.csv"
            if k == bad_file:
                close_only = bars["open"].null_count() == bars.height
                kinds = [kd for kd in KINDS if not (close_only and kd in FULL_BAR_ONLY)]
                kind = data.draw(st.sampled_from(kinds), label="kind")
                i = data.draw(st.integers(1 if kind in NEEDS_PREVIOUS else 0, bars.height - 1), label="row")
                path.write_bytes(_corrupt(bars, i, kind))
            else:
                _write_sample_csv(bars, path)
            paths.append(path)
        if bad_file is None:
            assert read_many(paths).equals(pl.concat(frames))
        else:
            with pytest.raises(DataError) as many:
                read_many(paths)
            with pytest.raises(DataError) as one:
                read_bars(paths[bad_file])
            assert (many.value.path, many.value.line, many.value.column) == (
                one.value.path,
                one.value.line,
                one.value.column,
            )
            assert str(many.value) == str(one.value)


@SETTINGS
@given(data=st.data())
def test_multi_symbol_files_fast_path_agrees_with_step_by_step(data: st.DataObject) -> None:
    """A file holding many symbols (a ``symbol`` column) in any row order gives the same table, or the same error,
    through the one-pass check as through the step-by-step checks; well-ordered files do take the one pass."""
    from unittest import mock

    import capscope.data.readers as readers
    from capscope.data.validate import fast_validate

    n_sym = data.draw(st.integers(1, 4), label="n_symbols")
    close_only, adj = data.draw(st.booleans(), label="close_only"), data.draw(st.booleans(), label="adj")
    frames = [
        data.draw(
            bar_frames(symbol=f"S{k}", max_rows=12, close_only=close_only, with_adj_close=adj), label=f"s{k}"
        )
        for k in range(n_sym)
    ]
    order = data.draw(st.sampled_from(["symbol", "symbol desc", "date", "shuffled"]), label="order")
    whole = pl.concat(frames)
    if order == "symbol desc":
        whole = pl.concat(frames[::-1])
    elif order == "date":
        whole = whole.sort("date", maintain_order=True)
    elif order == "shuffled":
        whole = whole.sample(fraction=1.0, shuffle=True, seed=data.draw(st.integers(0, 999), label="seed"))
    copy = data.draw(st.one_of(st.none(), st.integers(0, whole.height - 1)), label="copy")
    if copy is not None:
        whole = pl.concat([whole, whole.slice(copy, 1)])
    suffix = data.draw(st.sampled_from([".parquet", ".csv"]), label="format")

    def outcome(path: Path) -> pl.DataFrame | str:
        try:
            return read_bars(path)
        except DataError as err:
            return str(err)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"many{suffix}"
        if suffix == ".parquet":
            whole.write_parquet(path)
        else:
            whole.write_csv(path, date_format="%Y-%m-%d")
        calls: list[bool] = []

        def spy(*args: object, **kwargs: object) -> pl.DataFrame | None:
            result = fast_validate(*args, **kwargs)  # type: ignore[arg-type]
            calls.append(result is not None)
            return result

        with mock.patch.object(readers, "fast_validate", spy):
            fast = outcome(path)
        with mock.patch.object(readers, "fast_validate", lambda *a, **k: None):
            slow = outcome(path)
    assert type(fast) is type(slow)
    if isinstance(fast, str):
        assert fast == slow
    else:
        assert isinstance(slow, pl.DataFrame) and fast.equals(slow)
        assert fast.equals(pl.concat(frames).sort(["symbol", "date"]))
    if order in ("symbol", "symbol desc", "date") and copy is None:
        assert calls == [True]  # one pass, no fallback
