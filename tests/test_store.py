"""The DuckDB store: ingest contract (atomic, idempotent, append-only, conflicts reported), queries, panel."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capscope.data.panel import Panel, panel_equal
from capscope.data.readers import read_bars
from capscope.errors import DataError, StoreError, UsageError
from capscope.store import IngestConflictError, Store
from capscope.store.stats import snapshot

HEADER = "date,open,high,low,close,adj_close,volume"


# -- helpers --------------------------------------------------------------------------------------------
def make_rows(n: int, *, start: date = date(2024, 1, 2), base: float = 100.0, seed: int = 0) -> list[str]:
    """``n`` valid CSV bar lines on consecutive weekdays (a random walk; high/low bracket open/close)."""
    rng = np.random.default_rng(seed)
    lines = []
    day = start
    close = base
    while len(lines) < n:
        if day.weekday() < 5:
            open_ = close * (1 + rng.normal(0, 0.01))
            close = open_ * (1 + rng.normal(0, 0.01))
            high = max(open_, close) * (1 + abs(rng.normal(0, 0.005)))
            low = min(open_, close) * (1 - abs(rng.normal(0, 0.005)))
            volume = int(rng.integers(1_000, 1_000_000))
            lines.append(f"{day.isoformat()},{open_:.4f},{high:.4f},{low:.4f},{close:.4f},,{volume}")
        day += timedelta(days=1)
    return lines


def write_csv(path: Path, lines: list[str], header: str = HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "\n" + "".join(line + "\n" for line in lines))
    return path


def content(store: Store) -> dict[str, tuple[int, int]]:
    """Everything the store holds (row counts and content hashes of all tables)."""
    return store.digest()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "store.duckdb") as st:
        yield st  # type: ignore[misc]


@pytest.fixture(scope="module")
def sample_frames(sample_dir: Path) -> dict[Path, pl.DataFrame]:
    """Every sample CSV read with ``read_bars`` (the careful per-file reader), once for the module."""
    return {p: read_bars(p) for p in sorted(sample_dir.rglob("*.csv"))}


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> Path:
    """A store holding the whole sample data directory (ingested once for the module)."""
    path = tmp_path_factory.mktemp("sample_store") / "sample.duckdb"
    with Store(path) as st:
        report = st.ingest(sample_dir)
        assert report.changed
    return path


# -- the sample data ------------------------------------------------------------------------------------
def _file_facts(path: Path) -> tuple[int, str, str]:
    """Rows, first and last date of a sample CSV, taken from its text (independently of the readers)."""
    lines = path.read_bytes().decode().strip().splitlines()[1:]
    return len(lines), lines[0].split(",")[0], lines[-1].split(",")[0]


def test_sample_ingest_lists_every_file_with_its_row_count(sample_store: Path, sample_dir: Path) -> None:
    files = sorted(sample_dir.rglob("*.csv"))
    assert len(files) >= 700
    with Store(sample_store, read_only=True) as st:
        summary = st.symbols()
    assert summary.height == len(files)
    by_symbol = {row["symbol"]: row for row in summary.iter_rows(named=True)}
    assert by_symbol["RUT"]["rows"] == 9811  # SOURCES.md: prices/RUT.csv has 9,811 rows
    assert by_symbol["RUT"]["first_date"] == date(1987, 9, 10)
    assert by_symbol["RUT"]["last_date"] == date(2026, 8, 21)
    for path in files:
        n, first, last = _file_facts(path)
        row = by_symbol[path.stem]
        assert (row["rows"], row["first_date"].isoformat(), row["last_date"].isoformat()) == (n, first, last)
        assert row["source"] == str(path.resolve())


def test_sample_reingest_is_a_no_op(sample_store: Path, sample_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.duckdb"
    shutil.copy(sample_store, copy)
    with Store(copy) as st:
        before = content(st)
        report = st.ingest(sample_dir)
        assert not report.changed
        assert report.rows_new == 0
        assert {f.status for f in report.files} == {"unchanged"}
        assert content(st) == before


def test_sample_panel_from_store_equals_panel_from_files(
    sample_store: Path, sample_dir: Path, sample_frames: dict[Path, pl.DataFrame]
) -> None:
    stocks = sorted((sample_dir / "stocks").glob("*.csv"))
    prices = sorted((sample_dir / "prices").glob("*.csv"))
    with Store(sample_store, read_only=True) as st:
        for files in (stocks, prices):
            symbols = [p.stem for p in files]
            expected = Panel.from_bars(pl.concat([sample_frames[p] for p in files]).sort(["symbol", "date"]))
            got = st.panel(symbols)
            assert panel_equal(got, expected)
            assert got.close.flags.c_contiguous and got.close.dtype == np.float64
        window = st.panel(["RUT", "GSPC"], start="2025-01-01", end="2025-06-30", fields=("close",))
        assert set(window.fields) == {"close"}
        assert window.symbols == ("RUT", "GSPC")
        assert window.dates[0] >= np.datetime64("2025-01-01") and window.dates[-1] <= np.datetime64(
            "2025-06-30"
        )
        rut = read_bars(sample_dir / "prices" / "RUT.csv").filter(
            pl.col("date").is_between(date(2025, 1, 1), date(2025, 6, 30))
        )
        col = window.series("RUT", "close")
        np.testing.assert_array_equal(col[~np.isnan(col)], rut["close"].to_numpy())


def test_sample_bars_equal_the_files(sample_store: Path, sample_frames: dict[Path, pl.DataFrame]) -> None:
    """The whole store equals the files read one by one with ``read_bars`` (bulk path == careful path)."""
    expected = pl.concat(list(sample_frames.values())).sort(["symbol", "date"])
    with Store(sample_store, read_only=True) as st:
        got = st.bars()
        assert st.bars(["RUT"], start="2000-01-01").equals(
            expected.filter((pl.col("symbol") == "RUT") & (pl.col("date") >= date(2000, 1, 1)))
        )
    assert got.schema == expected.schema
    assert got.equals(expected)
    assert got.filter(pl.col("symbol") == "IWB__dsturdy_close_only")["open"].null_count() > 0


# -- ingest contract on small files ---------------------------------------------------------------------
def test_ingest_records_source_sha_and_counts(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in" / "AAA.csv", make_rows(5))
    report = store.ingest(path)
    assert report.changed and report.rows_new == 5 and report.files[0].status == "new"
    import hashlib

    log = store.con.sql("SELECT path, sha256, symbol, rows_read, rows_new FROM ingest_files").fetchall()
    assert log == [(str(path.resolve()), hashlib.sha256(path.read_bytes()).hexdigest(), "AAA", 5, 5)]
    ingests = store.ingests()
    assert ingests.height == 1 and ingests["rows_new"][0] == 5 and ingests["files"][0] == 1


def test_append_only_new_rows(store: Store, tmp_path: Path) -> None:
    rows = make_rows(8)
    path = write_csv(tmp_path / "AAA.csv", rows[:5])
    store.ingest(path)
    write_csv(path, rows)  # same first five rows, three new ones
    report = store.ingest(path)
    assert report.files[0].status == "appended"
    assert (report.rows_read, report.rows_new) == (8, 3)
    assert store.bars(["AAA"]).equals(read_bars(path))
    # the old version of the file again: known bytes, skipped unread
    write_csv(path, rows[:5])
    report = store.ingest(path)
    assert report.rows_new == 0 and report.files[0].status == "unchanged"
    # a shorter version never seen before: read, nothing new, nothing lost
    write_csv(path, rows[1:4])
    report = store.ingest(path)
    assert report.rows_new == 0 and report.files[0].status == "no new rows"
    assert store.bars(["AAA"]).height == 8


def test_changed_existing_rows_are_reported_and_nothing_is_merged(store: Store, tmp_path: Path) -> None:
    rows = make_rows(6)
    path = write_csv(tmp_path / "AAA.csv", rows)
    other = write_csv(tmp_path / "BBB.csv", make_rows(3, seed=1))
    store.ingest([path, other])
    before = content(store)
    fields = rows[2].split(",")
    old_close = float(fields[4])
    fields[4] = f"{(float(fields[2]) + float(fields[3])) / 2:.5f}"  # still inside [low, high]
    assert float(fields[4]) != old_close
    changed = [*rows[:2], ",".join(fields), *rows[3:], *make_rows(8)[6:]]  # one changed bar + two new bars
    write_csv(path, changed)
    new_file = write_csv(tmp_path / "CCC.csv", make_rows(4, seed=2))
    with pytest.raises(IngestConflictError) as info:
        store.ingest([new_file, path])
    err = info.value
    assert err.n_rows == 1
    (conflict,) = err.conflicts
    assert conflict.symbol == "AAA" and conflict.field == "close"
    assert conflict.date == date.fromisoformat(fields[0])
    assert conflict.old == old_close and conflict.new == float(fields[4])
    text = str(err)
    assert "AAA" in text and fields[0] in text and repr(old_close) in text and "nothing was ingested" in text
    assert content(store) == before  # not even CCC or the two new AAA bars
    assert "CCC" not in store.symbols()["symbol"].to_list()


def test_two_input_files_for_one_symbol(store: Store, tmp_path: Path) -> None:
    rows = make_rows(5)
    a = write_csv(tmp_path / "a" / "AAA.csv", rows[:4])
    b = write_csv(tmp_path / "b" / "AAA.csv", rows[2:])  # overlaps on two identical rows
    report = store.ingest([tmp_path / "a", tmp_path / "b"])
    assert report.rows_new == 5
    assert store.bars(["AAA"]).height == 5
    assert {f.path for f in report.files} == {a.resolve(), b.resolve()}
    # disagreeing copies in one batch
    fields = rows[1].split(",")
    fields[4] = "999"
    fields[2] = "1000"
    write_csv(tmp_path / "c" / "BBB.csv", rows[:3])
    write_csv(tmp_path / "d" / "BBB.csv", [rows[0], ",".join(fields), rows[2]])
    before = content(store)
    with pytest.raises(IngestConflictError, match="two input files disagree"):
        store.ingest([tmp_path / "c", tmp_path / "d"])
    assert content(store) == before


def test_same_bytes_under_another_name_is_another_symbol(store: Store, tmp_path: Path) -> None:
    rows = make_rows(3)
    store.ingest(write_csv(tmp_path / "AAA.csv", rows))
    report = store.ingest(write_csv(tmp_path / "BBB.csv", rows))
    assert report.rows_new == 3
    assert store.symbols()["symbol"].to_list() == ["AAA", "BBB"]


BAD_CASES: dict[str, tuple[str, int | None, str | None]] = {
    # name: (file text, expected line, expected column)
    "missing_column": ("date,open,high,low,adj_close,volume\n2024-01-02,10,11,9,,100\n", 1, "close"),
    "bad_date": (f"{HEADER}\n2024-01-02,10,11,9,10.5,,100\n2024-13-03,10,11,9,10.5,,100\n", 3, "date"),
    "negative_price": (f"{HEADER}\n2024-01-02,10,11,9,10.5,,100\n2024-01-03,10,11,-9,10.5,,100\n", 3, "low"),
    "zero_price": (f"{HEADER}\n2024-01-02,10,11,9,10.5,,100\n2024-01-03,10,11,9,0,,100\n", 3, "close"),
    "duplicate_date": (f"{HEADER}\n2024-01-02,10,11,9,10.5,,100\n2024-01-02,10,11,9,10.6,,100\n", 3, "date"),
    "unsorted": (f"{HEADER}\n2024-01-03,10,11,9,10.5,,100\n2024-01-02,10,11,9,10.6,,100\n", 3, "date"),
    "high_below_low": (f"{HEADER}\n2024-01-02,10,11,9,10.5,,100\n2024-01-03,10,9,11,10.5,,100\n", 3, "high"),
    "empty_close": (f"{HEADER}\n2024-01-02,10,11,9,10.5,,100\n2024-01-03,10,11,9,,,100\n", 3, "close"),
    "text_in_number": (f"{HEADER}\n2024-01-02,10,11,9,10.5,,100\n2024-01-03,10,11,9,abc,,100\n", 3, "close"),
    "empty_file": ("", None, None),
    "header_only": (f"{HEADER}\n", None, None),
    "wrong_delimiter": (HEADER.replace(",", ";") + "\n2024-01-02;10;11;9;10.5;;100\n", 1, None),
    "truncated_last_line": (f"{HEADER}\n2024-01-02,10,11,9,10.5,,100\n2024-01-03,10,11,9", 3, None),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_leaves_the_store_unchanged(case: str, store: Store, tmp_path: Path) -> None:
    store.ingest(write_csv(tmp_path / "old" / "OLD.csv", make_rows(20)))
    before = content(store)
    folder = tmp_path / "batch"
    write_csv(folder / "AAA.csv", make_rows(10, seed=3))  # a good file in the same batch
    write_csv(folder / "OLD.csv", make_rows(25))  # and good new rows for a stored symbol
    bad = folder / "ZZZ.csv"
    text, line, column = BAD_CASES[case]
    bad.write_text(text)
    with pytest.raises(DataError) as info:
        store.ingest(folder)
    err = info.value
    assert err.path is not None and Path(err.path).name == "ZZZ.csv"
    assert "ZZZ.csv" in str(err)
    if line is not None:
        assert err.line == line
    if column is not None:
        assert err.column == column
    assert content(store) == before
    assert store.symbols()["symbol"].to_list() == ["OLD"]


def test_non_utf8_file_leaves_the_store_unchanged(store: Store, tmp_path: Path) -> None:
    store.ingest(write_csv(tmp_path / "OLD.csv", make_rows(3)))
    before = content(store)
    bad = tmp_path / "batch" / "LAT.csv"
    bad.parent.mkdir()
    bad.write_bytes(
        f"{HEADER}\n2024-01-02,10,11,9,10.5,,100\n2024-01-03,10,11,9,10\xe9,,100\n".encode("latin-1")
    )
    with pytest.raises(DataError, match="UTF-8") as info:
        store.ingest(bad.parent)
    assert info.value.line == 3
    assert content(store) == before


def test_exception_during_write_rolls_back(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.ingest(write_csv(tmp_path / "OLD.csv", make_rows(3)))
    before = content(store)
    import capscope.store.ingest as ingest_module

    def boom(*args: object, **kwargs: object) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ingest_module, "_log", boom)  # fails after the bars were inserted
    with pytest.raises(RuntimeError, match="disk on fire"):
        store.ingest(write_csv(tmp_path / "NEW.csv", make_rows(4)))
    assert content(store) == before
    monkeypatch.undo()
    assert store.ingest(tmp_path / "NEW.csv").rows_new == 4  # the store is still usable


def test_missing_path_is_a_clear_error(store: Store, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        store.ingest(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no bar files"):
        store.ingest(tmp_path / "empty")


# -- queries ---------------------------------------------------------------------------------------------
def test_panel_matches_from_bars_with_gaps_and_ranges(store: Store, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    folder = tmp_path / "gaps"
    for k, sym in enumerate(["AAA", "BBB", "CCC", "DDD"]):
        rows = make_rows(60, start=date(2024, 1, 2) + timedelta(days=int(rng.integers(0, 20))), seed=k)
        keep = rng.random(len(rows)) > 0.3  # holes
        write_csv(folder / f"{sym}.csv", [r for r, ok in zip(rows, keep, strict=True) if ok])
    store.ingest(folder)
    files = sorted(folder.glob("*.csv"))
    all_bars = pl.concat([read_bars(p) for p in files]).sort(["symbol", "date"])
    assert panel_equal(store.panel(), Panel.from_bars(all_bars))
    start, end = date(2024, 1, 20), date(2024, 2, 20)
    window = all_bars.filter(pl.col("date").is_between(start, end))
    assert panel_equal(store.panel(start=start, end=end), Panel.from_bars(window))
    picked = store.panel(["DDD", "AAA"], start=start, end=end)
    assert picked.symbols == ("DDD", "AAA")
    expected = Panel.from_bars(window.filter(pl.col("symbol").is_in(["AAA", "DDD"])))
    for name in expected.fields:
        np.testing.assert_array_equal(picked[name], expected[name][:, [1, 0]])
    assert store.bars(start=start, end=end).equals(window)


def test_unknown_symbols_and_fields(store: Store, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="store is empty"):
        store.panel(["AAA"])
    store.ingest(write_csv(tmp_path / "AAPL.csv", make_rows(3)))
    with pytest.raises(UsageError, match="did you mean AAPL"):
        store.bars(["aapl"])
    with pytest.raises(UsageError, match="unknown field"):
        store.panel(fields=("close", "vwap"))
    with pytest.raises(UsageError, match="not a date"):
        store.bars(start="yesterday")
    empty = store.panel(["AAPL"], start="2030-01-01")
    assert empty.n_bars == 0 and empty.symbols == ("AAPL",)


def test_store_reopen_read_only_and_schema_checks(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as st:
        st.ingest(write_csv(tmp_path / "AAA.csv", make_rows(3)))
        before = content(st)
    with Store(path, read_only=True) as st:
        assert content(st) == before
        with pytest.raises(StoreError, match="read-only"):
            st.ingest(tmp_path / "AAA.csv")
    with pytest.raises(StoreError, match="no store"):
        Store(tmp_path / "missing.duckdb", read_only=True)
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database")
    with pytest.raises(StoreError, match=r"is damaged: .*not a valid DuckDB database.*rebuild it"):
        Store(junk)
    with Store(path) as st:
        st.con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'").fetchall()
    with pytest.raises(StoreError, match="schema version 999"):
        Store(path)


def test_store_path_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "env" / "store.duckdb"
    monkeypatch.setenv("CAPSCOPE_STORE", str(target))
    with Store() as st:
        assert st.path == target
    assert target.exists()


# -- snapshot statistics -----------------------------------------------------------------------------------
def test_snapshot_hand_computed() -> None:
    days = [date(2024, 12, 30), date(2024, 12, 31), date(2025, 3, 3), date(2025, 12, 30), date(2026, 1, 2)]
    bars = pl.DataFrame(
        {
            "symbol": ["X"] * 5,
            "date": days,
            "open": [10.0, 11.0, 30.0, 20.0, 22.0],
            "high": [12.0, 12.0, 35.0, 21.0, 23.0],
            "low": [9.0, 10.0, 25.0, 19.0, 21.0],
            "close": [11.0, 11.5, 31.0, 20.0, 22.0],
            "adj_close": [None] * 5,
            "volume": [1.0] * 5,
        }
    )
    snap = snapshot(bars)
    assert snap.date == date(2026, 1, 2) and snap.close == 22.0
    assert snap.change_1d == pytest.approx(22 / 20 - 1)
    assert snap.ytd_base_date == date(2025, 12, 30) and snap.ytd_return == pytest.approx(22 / 20 - 1)
    # window: bars after 2025-01-02 -> 2025-03-03, 2025-12-30, 2026-01-02
    assert (snap.high_52w, snap.high_52w_date) == (35.0, date(2025, 3, 3))
    assert (snap.low_52w, snap.low_52w_date) == (19.0, date(2025, 12, 30))
    as_of = snapshot(bars, date(2025, 6, 30))  # only bars up to as_of
    assert as_of.date == date(2025, 3, 3) and as_of.ytd_return == pytest.approx(31 / 11.5 - 1)
    assert as_of.high_52w == 35.0 and as_of.low_52w == 9.0
    first_year = snapshot(bars, date(2024, 12, 31))
    assert first_year.ytd_return is None
    with pytest.raises(UsageError):
        snapshot(bars, date(2020, 1, 1))


# -- bulk fast path ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bulk_path_never_accepts_bad_files(case: str, tmp_path: Path) -> None:
    from capscope.data.readers import read_bars
    from capscope.store import bulk
    from capscope.store.schema import VALUE_COLUMNS

    good = (HEADER + "\n" + "".join(r + "\n" for r in make_rows(5))).encode()
    bad = BAD_CASES[case][0].encode()
    # the good file alone goes through the fast path and gives exactly the careful reader's bars
    parsed = bulk.read_bulk([good])
    assert parsed is not None
    (tmp_path / "GOOD.csv").write_bytes(good)
    careful = read_bars(tmp_path / "GOOD.csv")
    assert parsed["file_pos"].to_list() == [0] * 5
    assert parsed["date"].to_list() == careful["date"].to_list()
    for column in VALUE_COLUMNS:
        assert parsed[column].to_list() == careful[column].to_list(), column
    assert not bulk.eligible(bad) or bulk.read_bulk([good, bad]) is None


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t.replace("\n", "\r\n"),  # CRLF: not eligible, read carefully
        lambda t: "\ufeff" + t,  # UTF-8 BOM
        lambda t: t.replace(HEADER, "Date,Open,High,Low,Close,Adj Close,Volume"),  # Yahoo header
        lambda t: t.rstrip("\n"),  # no final newline
    ],
    ids=["crlf", "bom", "yahoo_header", "no_final_newline"],
)
def test_files_outside_the_fast_path_give_the_same_bars(mutate, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from capscope.store import bulk

    rows = make_rows(30, seed=5)
    plain = write_csv(tmp_path / "a" / "AAA.csv", rows)
    text = plain.read_text()
    other = tmp_path / "b" / "AAA.csv"
    other.parent.mkdir()
    other.write_bytes(mutate(text).encode())
    assert bulk.eligible(plain.read_bytes()) and not bulk.eligible(other.read_bytes())
    with Store(tmp_path / "a.duckdb") as a, Store(tmp_path / "b.duckdb") as b:
        a.ingest(plain)
        b.ingest(other)
        assert a.bars().equals(b.bars())
        assert a.bars().equals(read_bars(other))


def test_bulk_rejects_what_the_reader_rejects_in_a_later_file(tmp_path: Path) -> None:
    from capscope.store import bulk

    rows = make_rows(4)
    good = (HEADER + "\n" + "".join(r + "\n" for r in rows)).encode()
    nan_close = good.replace(rows[2].split(",")[4].encode(), b"nan", 1)
    partly_empty = good.replace(b",," + rows[1].split(",")[6].encode(), b",,", 1)  # one empty volume
    for bad in (nan_close, partly_empty):
        assert bulk.eligible(bad)
        assert bulk.read_bulk([good, good, bad]) is None
        path = tmp_path / "X.csv"
        path.write_bytes(bad)
        with pytest.raises(DataError):
            read_bars(path)
    both = bulk.read_bulk([good, good])
    assert both is not None and both.height == 8 and both["file_pos"].to_list() == [0] * 4 + [1] * 4


def test_repair_is_opt_in_and_reported(store: Store, tmp_path: Path) -> None:
    rows = make_rows(5)
    path = write_csv(
        tmp_path / "AAA.csv", [rows[1], rows[0], *rows[2:], rows[4]]
    )  # swapped + exact duplicate
    with pytest.raises(DataError):
        store.ingest(path)
    assert store.counts()["bars"] == 0
    report = store.ingest(path, repair=True)
    assert report.rows_new == 5
    assert len(report.repairs) >= 2 and all("AAA.csv" in line for line in report.repairs)
    assert store.bars(["AAA"]).equals(read_bars(write_csv(tmp_path / "clean" / "AAA.csv", rows)))


# -- property: the store's panel is Panel.from_bars of what was ingested -------------------------------------


@st.composite
def bar_files(draw: st.DrawFn) -> dict[str, list[str]]:
    """1-4 symbols, each on a random subset of 40 weekdays, with valid random bars (some close-only)."""
    calendar = [date(2024, 1, 1) + timedelta(days=k) for k in range(56)]
    calendar = [d for d in calendar if d.weekday() < 5]
    n_symbols = draw(st.integers(1, 4))
    out: dict[str, list[str]] = {}
    for k in range(n_symbols):
        mask = draw(st.lists(st.booleans(), min_size=len(calendar), max_size=len(calendar)))
        days = [d for d, keep in zip(calendar, mask, strict=True) if keep] or [calendar[k]]
        close_only = draw(st.booleans())
        lines = []
        for d in days:
            close = draw(st.floats(1.0, 1000.0, allow_nan=False))
            if close_only:
                lines.append(f"{d.isoformat()},,,,{close!r},,")
            else:
                spread = draw(st.floats(0.0, 0.1))
                lines.append(
                    f"{d.isoformat()},{close!r},{close * (1 + spread)!r},{close * (1 - spread)!r},{close!r},,"
                    f"{draw(st.integers(0, 10**9))}"
                )
        out[f"S{k}"] = lines
    return out


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=bar_files(), fast=st.booleans())
def test_panel_property(files: dict[str, list[str]], fast: bool) -> None:
    import tempfile

    from capscope.store.ingest import ingest_files

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = [write_csv(root / "data" / f"{sym}.csv", lines) for sym, lines in files.items()]
        with Store(root / "s.duckdb") as store:
            ingest_files(store.con, [root / "data"], fast=fast)
            expected = Panel.from_bars(pl.concat([read_bars(p) for p in paths]).sort(["symbol", "date"]))
            assert panel_equal(store.panel(), expected)
            assert store.bars().equals(pl.concat([read_bars(p) for p in paths]).sort(["symbol", "date"]))


def test_scatter_kernel_equals_reference_twin() -> None:
    from capscope.store.scatter import scatter, scatter_reference

    rng = np.random.default_rng(11)
    for n_rows, n_ids in ((1, 1), (50, 3), (5000, 40)):
        n_days = max(1, n_rows // 2)
        pairs = rng.choice(n_days * n_ids, size=min(n_rows, n_days * n_ids), replace=False)
        day = 19000 + 3 * (pairs // n_ids)  # gaps between days, any order
        ids = rng.permutation(np.arange(100, 100 + 2 * n_ids, 2))  # sparse symbol ids
        sid = ids[pairs % n_ids].astype(np.int32)
        lut = np.full(ids.max() + 1, -1, dtype=np.int64)
        lut[ids] = rng.permutation(n_ids)
        values = [rng.normal(size=len(day)), np.where(rng.random(len(day)) < 0.2, np.nan, 1.0)]
        fast = scatter(day, sid, lut, n_ids, values)
        slow = scatter_reference(day, sid, lut, n_ids, values)
        np.testing.assert_array_equal(fast[0], slow[0])
        np.testing.assert_array_equal(fast[1], slow[1])
        for a, b in zip(fast[2], slow[2], strict=True):
            assert a.flags.c_contiguous and a.shape == (len(np.unique(day)), n_ids)
            np.testing.assert_array_equal(a, b)


def test_one_batch_mixing_fast_and_careful_files(store: Store, tmp_path: Path) -> None:
    plain = write_csv(tmp_path / "in" / "AAA.csv", make_rows(20, seed=8))
    crlf = tmp_path / "in" / "BBB.csv"
    crlf.write_bytes(
        (HEADER + "\n" + "".join(r + "\n" for r in make_rows(15, seed=9))).replace("\n", "\r\n").encode()
    )
    report = store.ingest(tmp_path / "in")
    assert report.rows_new == 35 and [f.status for f in report.files] == ["new", "new"]
    expected = pl.concat([read_bars(plain), read_bars(crlf)]).sort(["symbol", "date"])
    assert store.bars().equals(expected)
