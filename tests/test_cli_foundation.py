"""CLI: ingest, symbols, show, doctor, overview — exit codes, output, no tracebacks on user errors."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from capscope.cli.app import main
from capscope.store import Store

from .test_store import HEADER, make_rows, write_csv


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Result:
    """Run ``capscope ARGS`` in-process through the console-script entry point (``main``)."""
    monkeypatch.setattr(sys, "argv", ["capscope", *args])
    monkeypatch.setenv("COLUMNS", "200")  # wide tables: nothing truncated
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def has(text: str, phrase: str) -> bool:
    """``phrase`` occurs in ``text``, ignoring line wrapping and table borders."""
    return squash(phrase) in squash(text)


def squash(text: str) -> str:
    """Text without whitespace and table borders (rich wraps long cells and paths at the console width)."""
    return "".join(ch for ch in text if not ch.isspace() and ch not in "│┃")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    return lambda *args: run_cli(list(args), capsys, monkeypatch)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    write_csv(folder / "AAA.csv", make_rows(300, seed=1))
    write_csv(folder / "BBB.csv", make_rows(120, seed=2))
    return folder


COMMANDS = ("ingest", "symbols", "show", "doctor", "overview")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_an_example(command: str, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(command, "--help")
    assert result.code == 0
    assert "Example: capscope " + command in " ".join(result.out.split())


def test_ingest_then_symbols_in_every_format(cli, data: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "cli.duckdb"
    result = cli("ingest", str(data), "--store", str(store))
    assert result.code == 0, result.err
    assert has(result.out, "420") and has(result.out, "committed")
    again = cli("ingest", str(data), "--store", str(store))
    assert again.code == 0 and has(again.out, "store unchanged")

    as_json = cli("symbols", "--store", str(store), "--format", "json")
    assert as_json.code == 0
    records = json.loads(as_json.out)
    assert [(r["symbol"], r["rows"]) for r in records] == [("AAA", 300), ("BBB", 120)]
    assert records[0]["first_date"] == make_rows(1, seed=1)[0].split(",")[0]
    assert records[0]["source"] == str((data / "AAA.csv").resolve())

    as_csv = cli("symbols", "--store", str(store), "-f", "csv")
    lines = as_csv.out.strip().splitlines()
    assert lines[0] == "symbol,first_date,last_date,rows,source,alternate_of"
    assert lines[2].startswith("BBB,") and ",120," in lines[2]

    table = cli("symbols", "--store", str(store))
    assert has(table.out, "AAA") and has(table.out, "2 symbols, 420 bars")
    bad = cli("symbols", "--store", str(store), "--format", "xml")
    assert bad.code == 2 and has(bad.err, "is not one of: table, json, csv")


def test_symbols_lists_alternate_sources_in_their_symbols_row(cli, data: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "cli.duckdb"
    alt = tmp_path / "alt"
    write_csv(alt / "AAA__mirror.csv", make_rows(50, seed=1))
    write_csv(alt / "CCC__mirror.csv", make_rows(20, seed=3))  # an alternate without its primary stays a row
    assert cli("ingest", str(data), str(alt), "--store", str(store)).code == 0
    table = cli("symbols", "--store", str(store), "--wide")
    assert has(table.out, "3 symbols, 490 bars (with 1 alternate source)")
    row = next(line for line in table.out.splitlines() if "AAA" in line)
    assert "mirror" in row and "AAA__mirror" not in table.out and "CCC__mirror" in table.out
    records = json.loads(cli("symbols", "--store", str(store), "--format", "json").out)
    assert {r["symbol"]: r["alternate_of"] for r in records} == {
        "AAA": None,
        "AAA__mirror": "AAA",
        "BBB": None,
        "CCC__mirror": "CCC",
    }


def test_ingest_bad_file_exit_3_store_untouched(cli, data: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "cli.duckdb"
    assert cli("ingest", str(data), "--store", str(store)).code == 0
    with Store(store) as st:
        before = st.digest()
    bad_dir = tmp_path / "bad"
    write_csv(bad_dir / "CCC.csv", make_rows(5, seed=3))
    (bad_dir / "ZZZ.csv").write_text(f"{HEADER}\n2024-01-02,10,11,9,10.5,,100\n2024-01-03,10,11,9,-1,,100\n")
    result = cli("ingest", str(bad_dir), "--store", str(store))
    assert result.code == 3
    assert "ZZZ.csv,line3,column'close'" in squash(result.err)
    assert "Traceback" not in result.err + result.out
    with Store(store) as st:
        assert st.digest() == before


def test_ingest_conflict_exit_4(cli, data: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "cli.duckdb"
    assert cli("ingest", str(data), "--store", str(store)).code == 0
    rows = make_rows(120, seed=2)
    fields = rows[0].split(",")
    fields[6] = "1"  # volume changed on a stored bar
    write_csv(data / "BBB.csv", [",".join(fields), *rows[1:]])
    result = cli("ingest", str(data), "--store", str(store))
    assert result.code == 4
    assert has(result.err, "BBB") and has(result.err, fields[0]) and "volume" in squash(result.err)
    assert "Traceback" not in result.err


def test_ingest_defaults_to_the_data_dir(
    cli, data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CAPSCOPE_DATA", str(data))
    store = tmp_path / "env.duckdb"
    monkeypatch.setenv("CAPSCOPE_STORE", str(store))
    assert cli("ingest").code == 0
    with Store(store, read_only=True) as st:
        assert st.symbols()["rows"].to_list() == [300, 120]
    missing = cli("ingest", "--data", str(tmp_path / "nowhere"))
    assert missing.code == 2 and has(missing.err, "no such file")


def test_show_respects_as_of(cli, data: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "cli.duckdb"
    cli("ingest", str(data), "--store", str(store))
    rows = make_rows(300, seed=1)
    as_of = rows[99].split(",")[0]
    later = rows[100].split(",")[0]
    result = cli("show", "AAA", "--as-of", as_of, "--rows", "3", "--store", str(store))
    assert result.code == 0, result.err
    assert has(result.out, as_of) and later not in result.out
    assert has(result.out, rows[97].split(",")[0]) and rows[96].split(",")[0] not in result.out  # 3 rows
    close = float(rows[99].split(",")[4])
    assert f"close {close:,.2f}" in " ".join(result.out.split())
    assert has(result.out, "100 bars since")

    unknown = cli("show", "AAX", "--store", str(store))
    assert unknown.code == 2 and has(unknown.err, "did you mean 'AAA'") and "Traceback" not in unknown.err
    early = cli("show", "AAA", "--as-of", "1990-01-01", "--store", str(store))
    assert early.code == 2 and has(early.err, "is before AAA's first bar")
    bad_date = cli("show", "AAA", "--as-of", "2024-02-30", "--store", str(store))
    assert bad_date.code == 2 and has(bad_date.err, "not a date")
    no_store = cli("show", "AAA", "--store", str(tmp_path / "none.duckdb"))
    assert no_store.code == 4 and has(no_store.err, "capscope ingest")


def test_overview_hand_checked(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "idx"
    lines = [
        "2024-12-31,100,101,99,100,,1",
        "2025-06-02,140,150,139,145,,1",
        "2025-12-31,119,121,118,120,,1",
        "2026-01-02,120,133,119,132,,1",
        "2026-01-05,132,134,90,95,,1",
    ]
    write_csv(folder / "RUT.csv", lines)
    write_csv(folder / "GSPC.csv", [line.replace(",1", ",2") for line in lines])
    store = tmp_path / "o.duckdb"
    assert cli("ingest", str(folder), "--store", str(store)).code == 0
    result = cli("overview", "--store", str(store), "--as-of", "2026-01-02")
    assert result.code == 0, result.err
    row = next(line for line in result.out.splitlines() if "RUT" in line)
    cells = [c.strip() for c in row.replace("│", "|").split("|") if c.strip()]
    # close 132; YTD 132/120-1 = +10.00%; 52w (after 2025-01-02): high 150, low 118; vs high 132/150-1 = -12.00%
    assert cells == ["RUT", "2026-01-02", "132.00", "+10.00%", "150.00", "118.00", "-12.00%"]
    assert has(result.out, "GSPC")
    only = cli("overview", "--store", str(store), "-s", "GSPC")
    assert only.code == 0 and "RUT" not in only.out and has(only.out, "95.00")
    missing = cli("overview", "--store", str(store), "-s", "RUT,NOPE")
    assert missing.code == 2 and has(missing.err, "NOPE")


def test_doctor_reports_store_and_versions(cli, data: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "doc.duckdb"
    empty = cli("doctor", "--store", str(store), "--data", str(data))
    assert empty.code == 0 and has(empty.out, "no store yet") and not store.exists()
    cli("ingest", str(data), "--store", str(store))
    result = cli("doctor", "--store", str(store), "--data", str(data))
    assert result.code == 0
    text = squash(result.out)
    assert str(store) in text and "2symbols,420bars,1ingest;" in text
    assert "--dataoption" in text and "duckdb" in text and "numbacache" in text and "chromium" in text


def test_console_script_bad_file_has_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "BAD.csv"
    bad.write_text(f"{HEADER}\n2024-01-03,10,11,9,10.5,,100\n2024-01-02,10,11,9,10.5,,100\n")
    exe = Path(sys.executable).with_name("capscope")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "capscope.cli.app"]
    proc = subprocess.run(
        [*cmd, "ingest", str(bad), "--store", str(tmp_path / "s.duckdb")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3
    assert "BAD.csv,line3" in squash(proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout


@pytest.mark.sample
def test_sample_ingest_and_symbols(cli, sample_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "sample.duckdb"
    result = cli("ingest", "--data", str(sample_dir), "--store", str(store))
    assert result.code == 0, result.err
    listing = cli("symbols", "--store", str(store), "--format", "csv")
    rows = {line.split(",")[0]: line.split(",") for line in listing.out.strip().splitlines()[1:]}
    assert len(rows) == len(list(sample_dir.rglob("*.csv")))
    # what the store lists equals what the file holds (read independently, not pinned to today's sample)
    from capscope.data.readers import read_bars

    rut = read_bars(sample_dir / "prices" / "RUT.csv")
    assert rows["RUT"][1:4] == [rut["date"].min().isoformat(), rut["date"].max().isoformat(), str(rut.height)]
    overview = cli("overview", "--store", str(store), "--as-of", "2025-04-08")
    # SOURCES.md reference closes: RUT 1,760.71 and S&P 500 4,982.77 on 2025-04-08
    assert has(overview.out, "1,760.71") and has(overview.out, "4,982.77")
