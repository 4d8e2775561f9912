"""Symbol blocks, the Parquet dataset and the Dask engine (``capscope.scale``): same results as one whole panel."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest

from capscope.analytics.breadth import BreadthResult
from capscope.analytics.breadth import breadth as whole_breadth
from capscope.analytics.study import StudyParams, parse_signals, study_panel
from capscope.data.panel import Panel
from capscope.events.scan import scan_panel
from capscope.patterns.api import find_patterns
from capscope.scale import run
from capscope.scale.blocks import BlockSource, PanelSource, ParquetSource, StoreSource, plan_blocks
from capscope.scale.dataset import META_FILE, ParquetDataset, bucket_of, export_parquet
from capscope.store import Store
from tests.cli_helpers import run_main

if TYPE_CHECKING:
    from distributed import LocalCluster

AS_OF = date(2024, 6, 28)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """One Dask LocalCluster (2 workers, one thread each) shared by the module's tests: threads of this process
    (``processes=False``), so no worker process start-up and no pickling of blocks between processes."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as running:
        yield running


def _write_generated(folder: Path, n_symbols: int, n_bars: int, seed: int) -> None:
    """Random-walk bars in the sample CSV layout: ragged starts, gaps and early ends, like a real market."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2016-01-04", periods=n_bars)
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(n_symbols):
        start = int(rng.integers(0, n_bars // 2)) if k % 3 else 0
        stop = n_bars - (int(rng.integers(0, n_bars // 4)) if k % 5 == 4 else 0)
        idx = np.arange(start, stop)
        idx = idx[rng.random(len(idx)) > 0.02]  # ~2 % missing days (halts, holidays of one listing)
        close = 20 * np.exp(np.cumsum(rng.normal(0, 0.02, len(idx))))
        opn = close * np.exp(rng.normal(0, 0.005, len(idx)))
        high = np.maximum(opn, close) * (1 + rng.random(len(idx)) * 0.01)
        low = np.minimum(opn, close) * (1 - rng.random(len(idx)) * 0.01)
        frame = pd.DataFrame(
            {
                "date": days[idx].strftime("%Y-%m-%d"),
                "open": opn,
                "high": high,
                "low": low,
                "close": close,
                "adj_close": close,
                "volume": rng.integers(1000, 100000, len(idx)).astype(float),
            }
        )
        frame.to_csv(folder / f"S{k:03d}.csv", index=False)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Panel]:
    """A store of 23 generated symbols x ~900 bars, its Parquet export (5 symbols per bucket) and whole panel."""
    root = tmp_path_factory.mktemp("scale")
    _write_generated(root / "csv", 23, 900, seed=17)
    store = root / "bars.duckdb"
    with Store(store) as st:
        st.ingest([root / "csv"])
        export_parquet(st, root / "ds", symbols_per_bucket=5)
        whole = st.panel()
    return store, root / "ds", whole


# -- the dataset --------------------------------------------------------------------------------------------
# dask-expr's own reset_index(inplace=...) call warns under pandas 3.1; not ours to fix
@pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")
@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
def test_export_layout_and_three_readers(generated: tuple[Path, Path, Panel]) -> None:
    import dask.dataframe as dd
    import duckdb
    import polars as pl

    store, ds, _ = generated
    meta = json.loads((ds / META_FILE).read_text())
    n_buckets = meta["partitioning"]["n_buckets"]
    assert n_buckets == 5 and meta["rows"] > 0  # ceil(23 / 5)
    with Store(store, read_only=True) as st:
        expected = st.bars().to_pandas()
    for sym, bucket, *_ in meta["symbols"]:
        assert bucket == bucket_of(sym, n_buckets)
        assert (ds / f"bucket={bucket:04d}" / "part-0.parquet").is_file()
    cols = ["symbol", "date", "open", "high", "low", "close", "adj_close", "volume"]

    def same(frame: pd.DataFrame) -> None:
        frame = frame[cols].sort_values(["symbol", "date"]).reset_index(drop=True)
        frame["date"] = pd.to_datetime(frame["date"])
        want = expected.assign(date=pd.to_datetime(expected["date"]))[cols]
        pd.testing.assert_frame_equal(frame, want, check_dtype=False)

    con = duckdb.connect()
    same(con.sql(f"SELECT * FROM read_parquet('{ds}/*/*.parquet', hive_partitioning = true)").df())
    same(pl.scan_parquet(f"{ds}/*/*.parquet", hive_partitioning=True).collect().to_pandas())
    ddf = dd.read_parquet(str(ds))
    assert "bucket" in ddf.columns and ddf.npartitions >= n_buckets
    same(ddf.compute().astype({"symbol": str}))
    # each file sorted by (symbol, date), the symbol column inside
    for f in ds.glob("*/*.parquet"):
        part = pl.read_parquet(f)
        assert part.columns == cols
        assert part.equals(part.sort(["symbol", "date"]))
        assert {bucket_of(s, n_buckets) for s in part["symbol"].unique()} == {int(f.parent.name[7:])}


def test_export_refuses_nonempty_folder_and_reads_damage(
    generated: tuple[Path, Path, Panel], tmp_path: Path
) -> None:
    from capscope.errors import DataError, UsageError

    store, ds, _ = generated
    with Store(store, read_only=True) as st, pytest.raises(UsageError, match="not an empty folder"):
        export_parquet(st, ds)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / META_FILE).write_text('{"format": "capscope-parquet", "version": 1}')
    with pytest.raises(DataError, match="damaged dataset metadata"):
        ParquetDataset(bad)
    (bad / META_FILE).write_text("{not json")
    with pytest.raises(DataError, match="unreadable dataset metadata"):
        ParquetDataset(bad)


def _damage_close_column(dataset: Path) -> None:
    """Overwrite the middle of the ``close`` column chunk of one bucket file: the dataset's metadata, symbols and
    dates still read (the universe is built), and the damage is met only when a block reads its prices."""
    import pyarrow.parquet as pq

    target = sorted(dataset.glob("bucket=*/part-0.parquet"))[1]
    meta = pq.ParquetFile(target).metadata
    chunk = meta.row_group(0).column(meta.schema.names.index("close"))
    start = chunk.dictionary_page_offset or chunk.data_page_offset
    with target.open("r+b") as f:
        f.seek(start + chunk.total_compressed_size // 2)
        f.write(bytes(range(256)) * 4)


def test_damaged_dataset_file_one_error_on_every_engine(
    generated: tuple[Path, Path, Panel], tmp_path: Path
) -> None:
    """A damaged bucket file met inside a block: the same one-line data error (exit 3) locally and on Dask's own
    worker processes (a user error raised in a task comes back as the error, not as a worker's crash log)."""
    import shutil
    import subprocess
    import sys

    _, ds, _ = generated
    bad = tmp_path / "ds"
    shutil.copytree(ds, bad)
    _damage_close_column(bad)
    args = [sys.executable, "-m", "capscope.cli.app", "study", "golden_cross", "--universe", "all"]
    args += ["--draws", "99", "--format", "json", "--data", str(bad)]
    env = {**os.environ, "COLUMNS": "200"}
    messages = []
    for engine in ("local", "dask"):  # dask: the default LocalCluster of 2 worker processes
        done = subprocess.run(
            [*args, "--engine", engine], capture_output=True, text=True, env=env, timeout=600
        )
        assert done.returncode == 3, (engine, done.stderr)
        assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1, (engine, done.stderr)
        assert "export it again" in done.stderr
        messages.append(done.stderr)
    assert messages[0] == messages[1]


# -- blocks = whole panel ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def whole_results(
    generated: tuple[Path, Path, Panel],
) -> tuple[pd.DataFrame, object, list[dict[str, object]]]:
    """Events, breadth and patterns of the generated universe computed on its whole panel (today's way)."""
    _, _, whole = generated
    events = scan_panel(whole, as_of=AS_OF)
    patterns = [r.to_dict() for r in find_patterns(whole, as_of=AS_OF)]
    assert len(events) > 100 and patterns  # the data exercise the stages
    return events, whole_breadth(whole, AS_OF), patterns


@pytest.mark.parametrize(
    ("kind", "block_size"), [("store", 5), ("parquet", 5), ("parquet", 100), ("panel", 7)]
)
def test_blocks_equal_whole_panel(
    generated: tuple[Path, Path, Panel],
    whole_results: tuple[pd.DataFrame, BreadthResult, list[dict[str, object]]],
    kind: str,
    block_size: int,
) -> None:
    store, ds, whole = generated
    want_events, want_breadth, want_patterns = whole_results
    source: BlockSource = {
        "store": lambda: StoreSource(store),
        "parquet": lambda: ParquetSource(ds),
        "panel": lambda: PanelSource(whole, "panel"),
    }[kind]()
    events, _ = run.scan(run.universe(source, None, AS_OF), block_size=block_size)
    pd.testing.assert_frame_equal(events, want_events, check_categorical=False)
    got = run.breadth(run.universe(source, None, AS_OF), block_size=block_size)
    assert got.n_symbols == want_breadth.n_symbols and got.warnings == want_breadth.warnings
    for name, col in want_breadth.columns.items():
        np.testing.assert_array_equal(got.columns[name], col, err_msg=name)
    found = run.patterns(run.universe(source, list(whole.symbols)), as_of=AS_OF, block_size=block_size)
    assert [r.to_dict() for r in found] == want_patterns
    # filters applied inside the blocks keep exactly what filtering the whole list keeps
    dates = sorted({str(r["date"]) for r in want_patterns})
    since = date.fromisoformat(dates[len(dates) // 2])
    statuses = sorted({str(r["status"]) for r in want_patterns})[:2]
    kept = run.patterns(
        run.universe(source, list(whole.symbols)),
        as_of=AS_OF,
        block_size=block_size,
        since=since,
        statuses=statuses,
    )
    want = [r for r in want_patterns if str(r["date"]) >= since.isoformat() and r["status"] in statuses]
    assert [r.to_dict() for r in kept] == want and 0 < len(want) < len(want_patterns)


def test_blocks_are_bounded(generated: tuple[Path, Path, Panel]) -> None:
    """Each block holds at most block_size symbols, every symbol is in exactly one block, a Parquet block reads
    one bucket file, and per-symbol blocks start at their first bar."""
    _, ds, _ = generated
    source = ParquetSource(ds)
    uni = run.universe(source)
    blocks = plan_blocks(source, uni.symbols, uni.dates, None, block_size=3, firsts=uni.firsts)
    assert all(len(b.symbols) <= 3 for b in blocks)
    assert sorted(s for b in blocks for s in b.symbols) == sorted(uni.symbols)
    for b in blocks:
        assert len({source.dataset.info[s].bucket for s in b.symbols}) == 1
        assert b.dates[0] == np.datetime64(min(uni.firsts[s] for s in b.symbols), "D")
    panel = blocks[-1].panel()
    assert panel.n_symbols == len(blocks[-1].symbols) and panel.n_bars == len(blocks[-1].dates)


def test_breadth_blocks_need_the_universe_dates(generated: tuple[Path, Path, Panel]) -> None:
    """Why blocks are read on the universe's dates: a block read on its own dates gives other counts."""
    from capscope.analytics.breadth import breadth_counts

    _, _, whole = generated
    first, rest = list(whole.symbols[:1]), list(whole.symbols[1:])
    source = PanelSource(whole, "panel")
    rest_counts = breadth_counts(source.panel(rest, whole.dates, None))
    aligned = breadth_counts(source.panel(first, whole.dates, None)) + rest_counts
    np.testing.assert_array_equal(aligned, breadth_counts(whole))
    own = whole.select(first).drop_empty_dates()  # the symbol's gaps and pre-listing rows vanish
    assert own.n_bars < whole.n_bars
    scattered = np.zeros_like(aligned)
    scattered[np.searchsorted(whole.dates, own.dates)] = breadth_counts(own)
    assert not np.array_equal(scattered + rest_counts, aligned)


def test_dask_equals_local_on_generated(generated: tuple[Path, Path, Panel], cluster: LocalCluster) -> None:
    _, ds, whole = generated
    source = ParquetSource(ds)
    local_events, _ = run.scan(run.universe(source, None, AS_OF), block_size=4)
    local_breadth = run.breadth(run.universe(source, None, AS_OF), block_size=4)
    local_patterns = run.patterns(run.universe(source, list(whole.symbols)), as_of=AS_OF, block_size=4)
    kw: dict[str, Any] = {"engine": "dask", "scheduler": cluster.scheduler_address, "block_size": 4}
    events, _ = run.scan(run.universe(source, None, AS_OF), **kw)
    got_breadth = run.breadth(run.universe(source, None, AS_OF), **kw)
    got_patterns = run.patterns(run.universe(source, list(whole.symbols)), as_of=AS_OF, **kw)
    pd.testing.assert_frame_equal(events, local_events)
    for name, col in local_breadth.columns.items():
        np.testing.assert_array_equal(got_breadth.columns[name], col, err_msg=name)
    assert [r.to_dict() for r in got_patterns] == [r.to_dict() for r in local_patterns]


# -- the event study over blocks ----------------------------------------------------------------------------------
#: Event kinds (one with a filter, one read against its regime) and a chart pattern studied on its breakout.
STUDY_SIGNALS = ("golden_cross", "macd_bullish_cross:above_zero=true", "rsi_oversold", "double_bottom")


def _study_params(inference: str, baseline: str = "all") -> StudyParams:
    return StudyParams(horizons=(5, 21), draws=199, inference=inference, baseline=baseline)


def _assert_close(got: Any, want: Any, p_tol: float, path: str = "") -> None:
    """Equal JSON documents, floats up to summation order (relative 1e-9).

    A placebo p-value counts the placebos at least as extreme as the observed excess; a placebo whose shifts are
    all zero equals it up to rounding, so that one count may differ between two summation orders: p-values and
    q-values may differ by that one placebo: ``p_tol`` = 2 / (draws + 1) times the number of cells (BH's q of a
    cell moves by at most cells / rank times the change of one p-value).
    """
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), path
        for key in want:
            _assert_close(got[key], want[key], p_tol, f"{path}/{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _assert_close(g, w, p_tol, f"{path}[{i}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert isinstance(got, float), path
        if path.endswith(("p_value", "q_value")):
            assert got == pytest.approx(want, abs=p_tol), path
        else:
            assert got == pytest.approx(want, rel=1e-9, abs=1e-12), path
    else:
        assert got == want, path


@pytest.mark.parametrize(("inference", "baseline"), [("placebo", "all"), ("bootstrap", "regime")])
def test_study_blocks_equal_whole_panel(
    generated: tuple[Path, Path, Panel], inference: str, baseline: str
) -> None:
    """Blocks of any size give the whole panel's study; every source (one plan for all) gives identical JSON."""
    store, ds, whole = generated
    signals = parse_signals(list(STUDY_SIGNALS))
    params = _study_params(inference, baseline)
    want = study_panel(whole, signals, params, as_of=AS_OF).to_dict()
    assert all(want["results"][k]["n_events"] > 0 for k in (0, 2, 4, 6))  # every signal is exercised
    got = {
        kind: run.study(run.universe(source, None, AS_OF), signals, params, block_size=5).to_dict()
        for kind, source in (
            ("store", StoreSource(store)),
            ("parquet", ParquetSource(ds)),
            ("panel", PanelSource(whole, "panel")),
        )
    }
    assert got["store"] == got["parquet"] == got["panel"]
    p_tol = 2.0 * len(want["results"]) / (params.draws + 1)
    _assert_close(got["parquet"], want, p_tol)
    bigger = run.study(run.universe(ParquetSource(ds), None, AS_OF), signals, params, block_size=100)
    _assert_close(bigger.to_dict(), want, p_tol)


def test_study_dask_equals_local(generated: tuple[Path, Path, Panel], cluster: LocalCluster) -> None:
    """The same blocks on Dask: identical JSON (placebo and bootstrap inference, q-values, SPA / StepM)."""
    _, ds, _ = generated
    source = ParquetSource(ds)
    signals = parse_signals(list(STUDY_SIGNALS))
    for inference in ("placebo", "bootstrap"):
        params = _study_params(inference)
        uni = run.universe(source, None, AS_OF)
        local = run.study(uni, signals, params, block_size=5).to_dict()
        on_dask = run.study(
            uni, signals, params, engine="dask", scheduler=cluster.scheduler_address, block_size=5
        ).to_dict()
        assert on_dask == local
        assert local["run_tests"].get("spa") and any(r["q_value"] is not None for r in local["results"])


# -- the commands ----------------------------------------------------------------------------------------------
def test_cli_export_and_engines(
    generated: tuple[Path, Path, Panel],
    cluster: LocalCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store, _, _ = generated
    monkeypatch.setenv("CAPSCOPE_DATA", str(store.parent / "csv"))  # breadth's 'all' = the data dir's files
    out = tmp_path / "ds"
    code, stdout, err = run_main(
        ["export", "parquet", "--out", str(out), "--store", str(store), "--symbols-per-file", "8"],
        monkeypatch,
        capsys,
    )
    assert code == 0, err
    assert "23 symbols" in stdout and len(list(out.glob("bucket=*/part-0.parquet"))) == 3
    code, _, err = run_main(
        ["export", "parquet", "--out", str(out), "--store", str(store)], monkeypatch, capsys
    )
    assert code == 2 and "not an empty folder" in err

    def json_of(args: list[str]) -> dict[str, object]:
        code, stdout, err = run_main(args, monkeypatch, capsys)
        assert code == 0, err
        doc: dict[str, object] = json.loads(stdout)
        doc.pop("source", None)
        return doc

    scan = ["scan", "--universe", "all", "--since", "all", "--as-of", str(AS_OF), "--format", "json"]
    brd = ["breadth", "--universe", "all", "--as-of", str(AS_OF), "--format", "json", "--tail", "30"]
    pat = ["patterns", "S001", "S004", "S010", "--all", "--as-of", str(AS_OF), "--format", "json"]
    study = ["study", *STUDY_SIGNALS, "--universe", "all", "--as-of", str(AS_OF), "--horizons", "5,21"]
    study += ["--draws", "199", "--format", "json"]
    dask = ["--engine", "dask", "--scheduler", cluster.scheduler_address]
    for args in (scan, brd, pat, study):
        from_store = json_of([*args, "--store", str(store)])
        from_parquet = json_of([*args, "--data", str(out)])
        on_dask = json_of([*args, "--data", str(out), *dask])
        assert from_store == from_parquet == on_dask
        assert (
            from_store.get("events")
            or from_store.get("patterns")
            or from_store.get("latest")
            or from_store.get("run_tests")
        )
    for args in (scan, study):
        code, _, err = run_main([*args, "--store", str(store), "--engine", "dask"], monkeypatch, capsys)
        assert code == 2 and "capscope export parquet" in err
        code, _, err = run_main([*args, "--store", str(store), "--engine", "spark"], monkeypatch, capsys)
        assert code == 2 and "--engine 'spark'" in err
        code, _, err = run_main([*args, "--data", str(out), "--scheduler", "tcp://x:1"], monkeypatch, capsys)
        assert code == 2 and "--scheduler needs --engine dask" in err
    code, _, err = run_main(["scan", "S01", "--data", str(out)], monkeypatch, capsys)
    assert code == 2 and "did you mean" in err
    code, _, err = run_main(["study", "golden_cross", "-s", "S01", "--data", str(out)], monkeypatch, capsys)
    assert code == 2 and "did you mean" in err


# -- the sample universe ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_dataset(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sample data in a store and its Parquet export (shared by the sample tests of this module)."""
    root = tmp_path_factory.mktemp("sample")
    with Store(root / "s.duckdb") as st:
        st.ingest([sample_dir])
        export_parquet(st, root / "ds")
    return root / "s.duckdb", root / "ds"


@pytest.mark.sample
def test_dask_equals_local_on_sample(sample_dataset: tuple[Path, Path], cluster: LocalCluster) -> None:
    source = ParquetSource(sample_dataset[1])
    as_of = date(2025, 6, 30)
    since = date(2024, 1, 1)
    # breadth of the whole sample; scan and patterns on every 3rd / 10th symbol keep the test short (per-symbol
    # stages: the other symbols run the same code)
    third, tenth = source.dataset.symbols()[::3], source.dataset.symbols()[::10]
    local = (
        run.scan(run.universe(source, third, as_of), since=since)[0],
        run.breadth(run.universe(source, None, as_of)),
        run.patterns(run.universe(source, tenth), as_of=as_of),
    )
    kw: dict[str, Any] = {"engine": "dask", "scheduler": cluster.scheduler_address}
    events = run.scan(run.universe(source, third, as_of), since=since, **kw)[0]
    got_breadth = run.breadth(run.universe(source, None, as_of), **kw)
    got_patterns = run.patterns(run.universe(source, tenth), as_of=as_of, **kw)
    assert len(events) > 500
    pd.testing.assert_frame_equal(events, local[0])
    for name, col in local[1].columns.items():
        np.testing.assert_array_equal(got_breadth.columns[name], col, err_msg=name)
    assert local[2] and [r.to_dict() for r in got_patterns] == [r.to_dict() for r in local[2]]


@pytest.mark.sample
def test_study_dask_equals_local_on_sample(sample_dataset: tuple[Path, Path], cluster: LocalCluster) -> None:
    """The study of every 3rd sample symbol (event kinds, a filter, a chart pattern; placebo inference): the
    store and the dataset locally and the dataset on Dask give identical JSON."""
    store, ds = sample_dataset
    source = ParquetSource(ds)
    symbols = source.dataset.symbols()[::3]
    signals = parse_signals(
        ["golden_cross", "macd_bullish_cross:above_zero=true", "inverse_head_and_shoulders"]
    )
    params = StudyParams(horizons=(5, 21, 63), draws=199)
    as_of = date(2025, 6, 30)
    local = run.study(run.universe(source, symbols, as_of), signals, params).to_dict()
    from_store = run.study(run.universe(StoreSource(store), symbols, as_of), signals, params).to_dict()
    on_dask = run.study(
        run.universe(source, symbols, as_of),
        signals,
        params,
        engine="dask",
        scheduler=cluster.scheduler_address,
    ).to_dict()
    assert min(r["n_events"] for r in local["results"]) > 20 and local["run_tests"].get("spa")
    assert on_dask == local
    assert from_store == local
