"""Ingest streams files in batches inside its one transaction: same result for any batch size, all-or-nothing.

Each test ingests generated files with ``batch_bytes=1`` (every file its own batch, so every rule that spans files
is exercised across batches), and where it matters with the default too (one batch here), and compares what the
store holds. The staging table is connection-local and gone afterwards, whatever happened.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from capscope.errors import DataError
from capscope.store import IngestConflictError, Store
from capscope.store.ingest import BATCH_BYTES, _batches, ingest_files

from .test_store import make_rows, write_csv


def _store_rows(store: Store) -> tuple[dict[str, tuple[int, int]], list[tuple[object, ...]]]:
    """Bars and symbols (digest) plus the ingest log without its absolute paths."""
    digest = store.digest()
    log = store.con.sql(
        "SELECT file_name, sha256, symbol, rows_read, rows_new FROM ingest_files ORDER BY ALL"
    ).fetchall()
    return {k: digest[k] for k in ("bars", "symbols")}, log


def _files(root: Path) -> list[Path]:
    """Several one-symbol CSVs, a second overlapping copy of one symbol in another folder, a multi-symbol Parquet."""
    rows = make_rows(40, seed=1)
    out = [
        write_csv(root / "a" / "AAA.csv", rows[:30]),
        write_csv(root / "a" / "BBB.csv", make_rows(25, seed=2)),
        write_csv(root / "b" / "AAA.csv", rows[20:]),  # 10 identical rows shared with a/AAA.csv, 10 new
    ]
    frames = []
    for k, sym in enumerate(("CCC", "DDD")):
        lines = make_rows(15, seed=10 + k)
        frames.append(
            pl.DataFrame(
                {
                    "symbol": [sym] * len(lines),
                    "date": [date.fromisoformat(line.split(",")[0]) for line in lines],
                    **{
                        name: [float(line.split(",")[j]) for line in lines]
                        for j, name in enumerate(("open", "high", "low", "close"), start=1)
                    },
                    "volume": [int(line.split(",")[6]) for line in lines],
                }
            )
        )
    parquet = root / "c" / "many.parquet"
    parquet.parent.mkdir(parents=True)
    pl.concat(frames).write_parquet(parquet)
    out.append(parquet)
    return out


@pytest.mark.parametrize("fast", [True, False])
def test_any_batch_size_gives_the_same_store(tmp_path: Path, fast: bool) -> None:
    files = _files(tmp_path / "data")
    seen: dict[int, object] = {}
    for budget in (BATCH_BYTES, 1):
        with Store(tmp_path / f"s{budget}.duckdb") as store:
            report = ingest_files(store.con, files, fast=fast, batch_bytes=budget)
            statuses = [(f.path.name, f.status, f.rows_read, f.rows_new, f.symbols) for f in report.files]
            seen[budget] = (_store_rows(store), statuses)
    assert len(_batches(files, 1)) == len(files) and len(_batches(files, BATCH_BYTES)) == 1
    assert seen[1] == seen[BATCH_BYTES]
    (bars, _log), statuses = seen[1]  # type: ignore[misc]
    assert bars["bars"][0] == 40 + 25 + 15 + 15  # the shared AAA rows stored once
    assert [s[1:4] for s in statuses] == [
        ("new", 30, 30),
        ("new", 25, 25),
        ("appended", 20, 10),
        ("new", 30, 30),
    ]


def test_a_bad_file_in_the_last_batch_writes_nothing(tmp_path: Path) -> None:
    files = _files(tmp_path / "data")
    bad = write_csv(tmp_path / "data" / "z" / "ZZZ.csv", ["2024-01-02,10,9,11,10,,100"])  # high < low
    with Store(tmp_path / "s.duckdb") as store:
        store.ingest(write_csv(tmp_path / "old" / "OLD.csv", make_rows(5, seed=7)))
        before = store.digest()
        with pytest.raises(DataError) as info:
            ingest_files(store.con, [*files, bad], batch_bytes=1)
        assert "ZZZ.csv" in str(info.value)
        assert store.digest() == before
        assert not store.con.sql("SELECT * FROM duckdb_tables() WHERE temporary").fetchall()
        assert store.symbols()["symbol"].to_list() == ["OLD"]


def test_new_symbol_disagreeing_across_batches_is_two_files(tmp_path: Path) -> None:
    rows = make_rows(6, seed=3)
    changed = rows[3].split(",")
    changed[4] = str(float(changed[4]) * 1.01)
    changed[2] = str(max(float(changed[2]), float(changed[4])) * 1.01)
    a = write_csv(tmp_path / "a" / "NEW.csv", rows[:5])
    b = write_csv(tmp_path / "b" / "NEW.csv", [*rows[:3], ",".join(changed), rows[4]])
    with Store(tmp_path / "s.duckdb") as store:
        before = store.digest()
        with pytest.raises(IngestConflictError, match="two input files disagree") as info:
            ingest_files(store.con, [a, b], batch_bytes=1)
        assert info.value.n_rows == 1 and info.value.conflicts[0].field in {"close", "high"}
        assert store.digest() == before


def test_stored_symbol_conflicts_name_where_the_other_row_came_from(tmp_path: Path) -> None:
    rows = make_rows(10, seed=4)
    with Store(tmp_path / "s.duckdb") as store:
        store.ingest(write_csv(tmp_path / "old" / "OLD.csv", rows[:4]))
        before = store.digest()
        # a later batch changes a bar stored before this ingest
        edited = rows[1].split(",")
        edited[6] = "7"
        a = write_csv(tmp_path / "a" / "OLD.csv", rows[:6])
        b = write_csv(tmp_path / "b" / "OLD.csv", [rows[0], ",".join(edited), *rows[2:6]])
        with pytest.raises(IngestConflictError, match="already in the store") as info:
            ingest_files(store.con, [write_csv(tmp_path / "z" / "NEW.csv", make_rows(3)), b], batch_bytes=1)
        assert info.value.conflicts[0].field == "volume" and info.value.conflicts[0].old != 7
        assert store.digest() == before
        # a later batch disagrees with a bar an earlier batch brings (not stored before): two files disagree
        appended = rows[5].split(",")
        appended[6] = "7"
        c = write_csv(tmp_path / "c" / "OLD.csv", [*rows[:5], ",".join(appended)])
        with pytest.raises(IngestConflictError, match="two input files disagree"):
            ingest_files(store.con, [a, c], batch_bytes=1)
        assert store.digest() == before
        # appends in two batches that agree are stored once
        report = ingest_files(store.con, [a, write_csv(tmp_path / "d" / "OLD.csv", rows[:8])], batch_bytes=1)
        assert [f.rows_new for f in report.files] == [2, 2]
        assert store.bars(["OLD"]).height == 8
