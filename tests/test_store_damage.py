"""A damaged, missing or unwritable store: every command exits 4 with the right message and leaves the file as it was.

Damage kinds (issue 15): a truncated file, 64 KB overwritten in the middle, a text file, a directory given as the
store, a read-only directory. Messages: damage -> "the store at PATH is damaged: ...; rebuild it with capscope
ingest --store NEW_PATH" (never advice to delete it); a directory says so; a permission problem says so; a missing
named store says "no store at PATH; run capscope ingest --store PATH" and is not created.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from capscope.cli.app import run

from .cli_helpers import build_universe, reading_commands

DAMAGED = "is damaged:"
REBUILD = "rebuild it with capscope ingest --store NEW_PATH"


@pytest.fixture(scope="module")
def universe(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("universe")
    data, store = build_universe(root)
    return root, data, store


def _fingerprint(path: Path) -> str:
    if path.is_dir():
        return "dir:" + ",".join(sorted(p.name for p in path.iterdir()))
    if not path.exists():
        return "missing"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _truncate(path: Path) -> None:
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)


def _overwrite_middle(path: Path) -> None:
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(size // 2)
        f.write(bytes(range(256)) * 256)  # 64 KB of a pattern no DuckDB block holds


def _text(path: Path) -> None:
    path.write_text("symbol,date,close\nAAA,2024-01-02,10\n")


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (_truncate, DAMAGED),
    "overwritten_middle": (_overwrite_middle, DAMAGED),
    "text_file": (_text, DAMAGED),
}


def _commands(store: Path, data: Path, root: Path) -> dict[str, list[str]]:
    cmds = reading_commands(store, data, root)
    cmds["ingest"] = ["ingest", str(data / "prices" / "AAA.csv"), "--store", str(store)]
    cmds["study"] = ["study", "golden_cross", "-s", "AAA", "--draws", "99", "--store", str(store)]
    cmds["export"] = ["export", "parquet", "--store", str(store), "--out", str(root / "export-out")]
    cmds["watch"] = ["watch", "--once", "--interval", "0", "--data", str(data), "--store", str(store)]
    return cmds


def _check(code: int, out: str, err: str, *phrases: str) -> None:
    text = " ".join((out + err).split())
    assert code == 4, (code, out, err)
    for phrase in phrases:
        assert phrase in text, (phrase, text)
    assert "Traceback" not in text and "delete" not in text.lower() and "unexpected error" not in text


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_store_every_command_exit_4(
    damage: str, universe: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, data, good = universe
    store = tmp_path / "damaged.duckdb"
    shutil.copy(good, store)
    mutate, phrase = DAMAGE[damage]
    mutate(store)
    before = _fingerprint(store)
    for name, args in _commands(store, data, root).items():
        code, out, err = _run(args, capsys)
        _check(code, out, err, phrase, REBUILD, str(store))
        assert _fingerprint(store) == before, f"{name} changed the damaged store"
        assert not Path(str(store) + ".wal").exists(), name


def test_directory_as_store(
    universe: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, data, _ = universe
    folder = tmp_path / "a-folder"
    folder.mkdir()
    (folder / "keep.txt").write_text("x")
    before = _fingerprint(folder)
    for name, args in _commands(folder, data, root).items():
        code, out, err = _run(args, capsys)
        _check(code, out, err, "is a directory, not a store file")
        assert _fingerprint(folder) == before, name


def test_missing_named_store_is_never_created(
    universe: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, data, _ = universe
    store = tmp_path / "missing" / "x.duckdb"
    for name, args in reading_commands(store, data, root).items():
        code, out, err = _run(args, capsys)
        if name == "doctor":  # doctor reports the missing store and exits 0: it is a report, not a reader
            assert code == 0 and "no store yet" in " ".join(out.split())
        else:
            _check(code, out, err, f"no store at {store}; run capscope ingest --store {store}")
        assert not store.parent.exists(), f"{name} created {store.parent}"


def test_env_store_is_used_or_the_command_fails(
    universe: tuple[Path, Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CAPSCOPE_STORE names a store: a missing one fails even when the data files hold the symbols."""
    _, data, _ = universe
    store = tmp_path / "env" / "x.duckdb"
    monkeypatch.setenv("CAPSCOPE_STORE", str(store))
    monkeypatch.setenv("CAPSCOPE_DATA", str(data))
    for args in (["scan", "AAA"], ["breadth"], ["patterns", "AAA"], ["rotation", "--pairs", "AAA:BBB"]):
        code, out, err = _run(args, capsys)
        _check(code, out, err, f"no store at {store}")
    assert not store.parent.exists()
    code, _, err = _run(["scan", "AAA", "--data", str(data)], capsys)  # --data names the files: used
    assert code == 0, err


@pytest.fixture
def read_only_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory without write permission (chmod 555). Root ignores permission bits, so under root the
    permission check (os.access) is told the truth about the mode bits instead."""
    folder = tmp_path / "ro"
    folder.mkdir()
    yield folder
    folder.chmod(0o755)


def _deny_writes_under_root(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() != 0:
        return
    import capscope.store.health as health

    real = os.access

    def access(path: object, mode: int) -> bool:
        p = Path(str(path))
        if mode & os.W_OK and (p == folder or p.parent == folder):
            return bool(p.stat().st_mode & stat.S_IWUSR)
        return real(path, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(health.os, "access", access)


def test_read_only_directory(
    universe: tuple[Path, Path, Path],
    read_only_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, data, good = universe
    store = read_only_dir / "store.duckdb"
    shutil.copy(good, store)
    store.chmod(0o444)
    read_only_dir.chmod(0o555)
    _deny_writes_under_root(read_only_dir, monkeypatch)
    before = _fingerprint(store)
    code, out, err = _run(["ingest", str(data / "prices" / "AAA.csv"), "--store", str(store)], capsys)
    _check(code, out, err, "permission problem", str(store))
    assert _fingerprint(store) == before
    # reading a sound store needs no write permission
    code, out, err = _run(["show", "AAA", "--store", str(store)], capsys)
    assert code == 0, err
    # a store that does not exist in a read-only directory: readers say it is missing, ingest says why it cannot
    missing = read_only_dir / "new.duckdb"
    for name, args in _commands(missing, data, root).items():
        code, out, err = _run(args, capsys)
        if name == "doctor":
            assert code == 0
        elif name in ("ingest", "watch"):  # writers would create the store: a permission problem
            _check(
                code, out, err, "permission problem", f"cannot create files in the directory {read_only_dir}"
            )
        else:
            _check(code, out, err, f"no store at {missing}")
        assert not missing.exists(), name
    assert _fingerprint(store) == before


def test_doctor_integrity_check_finds_a_count_mismatch(
    universe: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store whose bars disagree with its ingest log (rows deleted behind capscope's back) is damaged."""
    import duckdb

    _, data, good = universe
    store = tmp_path / "edited.duckdb"
    shutil.copy(good, store)
    code, out, err = _run(["doctor", "--store", str(store)], capsys)
    assert code == 0 and "ok: every table read in full" in " ".join(out.split()), err
    con = duckdb.connect(str(store))
    con.execute("DELETE FROM bars WHERE symbol_id = (SELECT symbol_id FROM symbols WHERE symbol = 'BBB')")
    con.execute("CHECKPOINT")
    con.close()
    code, out, err = _run(["doctor", "--store", str(store)], capsys)
    _check(code, out, err, DAMAGED, "BBB: 0 bars stored, the ingest log says 500 were added")
    before = _fingerprint(store)
    code, out, err = _run(["ingest", str(data / "prices" / "AAA.csv"), "--store", str(store)], capsys)
    _check(code, out, err, DAMAGED, "BBB: 0 bars stored")
    assert _fingerprint(store) == before


def test_missing_table_and_wrong_schema_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import duckdb

    from capscope.store import Store

    for edit, phrase in (
        ("DROP TABLE ingest_files", "missing table ingest_files"),
        ("UPDATE meta SET value = '99' WHERE key = 'schema_version'", "schema version 99"),
        ("ALTER TABLE bars DROP COLUMN volume", "table bars has columns"),
    ):
        store = tmp_path / f"{len(phrase)}.duckdb"
        Store(store).close()
        con = duckdb.connect(str(store))
        con.execute(edit)
        con.close()
        before = _fingerprint(store)
        for args in (["symbols", "--store", str(store)], ["ingest", str(tmp_path), "--store", str(store)]):
            code, out, err = _run(args, capsys)
            _check(code, out, err, DAMAGED, phrase, REBUILD)
        assert _fingerprint(store) == before


def test_an_old_schema_store_is_not_migrated_when_damaged(
    universe: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Opening a version-1 store for writing migrates it (a write): a damaged one is refused first, unchanged."""
    import duckdb

    from capscope.store.schema import WATCH_DDL

    _, data, good = universe
    store = tmp_path / "v1.duckdb"
    shutil.copy(good, store)
    con = duckdb.connect(str(store))
    for statement in WATCH_DDL:
        table = statement.split("EXISTS", 1)[1].split("(", 1)[0].strip()
        con.execute(f"DROP TABLE {table}")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.execute("CHECKPOINT")
    # a block the bars table uses (DuckDB: 3 x 4 KB of headers, then blocks of block_size bytes)
    block_size = con.execute("SELECT block_size FROM pragma_database_size()").fetchall()[0][0]
    block = con.execute(
        "SELECT max(block_id) FROM pragma_storage_info('bars') WHERE column_name = 'close'"
    ).fetchall()[0][0]
    con.close()
    with store.open("r+b") as f:
        f.seek(3 * 4096 + block * block_size + 64)
        f.write(b"\xff" * 4096)
    before = _fingerprint(store)
    for args in (
        ["watch", "--once", "--interval", "0", "--data", str(data), "--store", str(store)],
        ["ingest", str(data / "prices" / "AAA.csv"), "--store", str(store)],
    ):
        code, out, err = _run(args, capsys)
        _check(code, out, err, DAMAGED, REBUILD)
        assert _fingerprint(store) == before


def _damage_price_block(root: Path) -> Path:
    """A store damaged only inside the bars' price data: it opens and lists its symbols, and the damage is met
    only when a command reads prices (the block-by-block readers of ``capscope.scale``).

    The damaged block is found, not assumed: one that DuckDB's ``pragma_storage_info`` lists only for price
    columns of ``bars`` (40,000 bars fill several blocks), overwritten past its checksum.
    """
    import duckdb

    from capscope.store import Store

    from .test_store import make_rows, write_csv

    for k in range(20):
        write_csv(root / "data" / f"D{k:02d}.csv", make_rows(2000, seed=k))
    store = root / "prices.duckdb"
    with Store(store) as st:
        st.ingest([root / "data"])
    con = duckdb.connect(str(store), read_only=True)
    try:
        users: dict[int, set[tuple[str, str]]] = {}
        for (table,) in con.sql("SELECT table_name FROM duckdb_tables()").fetchall():
            for column, block in con.sql(
                f"SELECT column_name, block_id FROM pragma_storage_info('{table}') WHERE block_id >= 0"
            ).fetchall():
                users.setdefault(int(block), set()).add((str(table), str(column)))
        block_size = int(con.sql("SELECT block_size FROM pragma_database_size()").fetchall()[0][0])
    finally:
        con.close()
    prices = {("bars", c) for c in ("open", "high", "low", "close", "adj_close", "volume")}
    blocks = sorted(b for b, cols in users.items() if cols <= prices)
    assert blocks, users  # a store this size has price-only blocks; if not, the test must say so
    # DuckDB's file: three 4 KiB headers, then blocks (each starting with its 8-byte checksum)
    with store.open("r+b") as f:
        f.seek(3 * 4096 + blocks[0] * block_size + 4096)
        f.write(bytes(range(256)) * 16)
    with Store(store, read_only=True) as st:  # the damage is not met when opening or listing symbols
        assert len(st.symbol_rows()) == 20
    return store


def test_damaged_prices_exit_4_with_every_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The commands that read blocks (scan, patterns, breadth, study) give the one store message, exit 4, with
    the local engine (damage met reading a block) and with --engine dask (a store is not a Dask source, but a
    damaged store is reported as damaged before the advice to export it)."""
    store = _damage_price_block(tmp_path)
    before = _fingerprint(store)
    commands = {
        "scan": ["scan", "--universe", "all", "--since", "all"],
        "patterns": ["patterns", "D00", "D07"],
        "breadth": ["breadth", "--universe", "all"],
        "study": ["study", "golden_cross", "--universe", "all", "--draws", "99"],
    }
    messages = set()
    for name, args in commands.items():
        for engine in ("local", "dask"):
            code, out, err = _run([*args, "--store", str(store), "--engine", engine], capsys)
            _check(code, out, err, DAMAGED, REBUILD, str(store))
            assert out == "" and err.startswith("error: the store at"), (name, engine, err)
            messages.add(" ".join(err.split()))
            assert _fingerprint(store) == before, f"{name} --engine {engine} changed the damaged store"
    assert len(messages) == 1, messages  # the same message whichever command and engine met the damage


def test_watch_checks_the_whole_store_once_at_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """watch's cycles read only the newest rows, so damage deep in the prices would go unseen (exit 0, "no new
    bars"); it checks the whole store once when it starts and gives the one store message, exit 4."""
    store = _damage_price_block(tmp_path)
    before = _fingerprint(store)
    code, out, err = _run(
        ["watch", "--once", "--data", str(tmp_path / "data"), "--store", str(store)], capsys
    )
    _check(code, out, err, DAMAGED, REBUILD, str(store))
    assert _fingerprint(store) == before
