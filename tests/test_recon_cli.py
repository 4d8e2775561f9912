"""``capscope recon run``: a generated universe end to end (table and JSON), universe-table errors with file, line
and column, option errors and their exit codes, and volume from the store."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from capscope.analytics.reconstitution.synthetic import synthetic_universe
from capscope.data.universe import read_universe
from capscope.errors import DataError
from tests.cli_helpers import run_main

KEYS = {"rank_date", "breakpoints", "members", "adds", "deletes", "migrations", "style_moves", "demand"}


@pytest.fixture(scope="module")
def universe_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("recon") / "universe.csv"
    synthetic_universe(seed=11).write_csv(path)
    return path


def test_run_json(
    universe_csv: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(
        [
            "recon",
            "run",
            str(universe_csv),
            "--rank-date",
            "2026-04-30",
            "--indexed-assets",
            "2e11",
            "--format",
            "json",
        ],
        monkeypatch,
        capsys,
    )
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == KEYS
    assert data["rank_date"] == "2026-04-30"
    assert data["breakpoints"]["reconstitution"] == "june"
    m = data["members"]
    assert set(m[0]) == {"symbol", "index", "rank", "total_cap", "weight", "value_probability"}
    assert {x["index"] for x in m} == {"R1000", "R2000", None}
    assert sum(x["index"] == "R1000" for x in m) == data["breakpoints"]["counts"]["R1000"]
    assert set(data["migrations"]) == {"with_banding", "without_banding", "held_by_band"}
    values = [abs(d["value"]) for d in data["demand"]]
    assert values and values == sorted(values, reverse=True)
    assert all(d["days_of_adv"] is not None for d in data["demand"])  # every row of the table has an adv


@pytest.mark.parametrize("columns", [60, 80, 100, 160])
def test_run_table_fits_the_terminal(
    universe_csv: Path, columns: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    code, out, err = run_main(
        ["recon", "run", str(universe_csv), "--rank-date", "2026-10-30", "--indexed-assets", "2e11"],
        monkeypatch,
        capsys,
    )
    assert code == 0, err
    assert "december reconstitution" in out  # the rank day 2026-10-30 is December's (inferred)
    assert "R1000/R2000 breakpoint" in out and "Passive trade" in out
    assert max(len(line) for line in out.splitlines()) <= columns
    assert "…" not in out  # no date or number cut


def test_december_before_2026_is_refused(
    universe_csv: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(
        ["recon", "run", str(universe_csv), "--rank-date", "2025-10-31", "--reconstitution", "december"],
        monkeypatch,
        capsys,
    )
    assert code == 2 and "starts in 2026" in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--rank-date", "2026-02-30"], "is not a date"),
        (["--reconstitution", "november"], "is not one of: june, december"),
        (["--format", "xml"], "is not one of: table, json"),
        (["--indexed-assets", "-5"], "non-negative"),
        (["--indexed-assets", "nan"], "non-negative"),
        (["--adv-window", "0"], "must be >= 1"),
        (["--rows", "0"], "must be >= 1"),
    ],
)
def test_option_errors(
    universe_csv: Path,
    args: list[str],
    needle: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run_main(["recon", "run", str(universe_csv), *args], monkeypatch, capsys)
    assert code == 2
    assert needle in err and "Traceback" not in err


HEADER = (
    "symbol,price,shares_total,float_fraction,voting_fraction,country,security_type,book_to_price,"
    "sales_growth_5y,current_index"
)
GOOD = "AAA,10,1e8,0.9,1,US,common,0.5,0.1,R2000"


@pytest.mark.parametrize(
    ("text", "line", "column", "needle"),
    [
        (HEADER + ",colour\n" + GOOD + ",red\n", 1, "colour", "valid columns: symbol, price"),
        (
            HEADER.replace(",book_to_price", "") + "\n" + "AAA,10,1e8,0.9,1,US,common,0.1,R2000\n",
            1,
            "book_to_price",
            "missing column",
        ),
        (
            HEADER + "\n" + GOOD + "\nBBB,10,1e8,0.9,1,US,stock,0.5,0.1,\n",
            3,
            "security_type",
            "valid types: common, reit, adr",
        ),
        (
            HEADER + "\n" + GOOD + "\nBBB,10,1e8,0.9,1,US,common,0.5,0.1,R3000\n",
            3,
            "current_index",
            "R1000, R2000 or empty",
        ),
        (
            HEADER + "\n" + GOOD + "\nBBB,10,1e8,90,1,US,common,0.5,0.1,\n",
            3,
            "float_fraction",
            "not a percent",
        ),
        (HEADER + "\n" + GOOD + "\nBBB,ten,1e8,0.9,1,US,common,0.5,0.1,\n", 3, "price", "not a number"),
        (HEADER + "\n" + GOOD + "\nBBB,-1,1e8,0.9,1,US,common,0.5,0.1,\n", 3, "price", "must be > 0"),
        (HEADER + "\n" + GOOD + "\nBBB,10,1e8,0.9,1,usa,common,0.5,0.1,\n", 3, "country", "ISO 3166"),
        (HEADER + "\n" + GOOD + "\nBBB,10,1e8,0.9,1,US,common,,0.1,\n", 3, "book_to_price", "empty"),
        (HEADER + "\n" + GOOD + "\n" + GOOD + "\n", 3, "symbol", "more than once"),
        (HEADER + "\n" + GOOD + "\nBBB,10,1e8\n", 3, "float_fraction", "fields but the header has"),
    ],
)
def test_bad_universe_files(
    tmp_path: Path,
    text: str,
    line: int,
    column: str,
    needle: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    f = tmp_path / "u.csv"
    f.write_text(text)
    with pytest.raises(DataError) as info:
        read_universe(f)
    assert (info.value.path, info.value.line, info.value.column) == (str(f), line, column)
    assert needle in str(info.value)
    code, _, err = run_main(["recon", "run", str(f), "--rank-date", "2026-04-30"], monkeypatch, capsys)
    assert code == 3
    assert f"{f}, line {line}, column '{column}'" in err and needle in err


def test_current_style_words_and_parquet_rows(tmp_path: Path) -> None:
    f = tmp_path / "u.csv"
    f.write_text(
        HEADER + ",current_style\n" + GOOD + ",value\nBBB,10,1e8,0.9,1,US,reit,0.5,0.1,R1000,growth\n"
    )
    got = read_universe(f)
    assert got["current_style"].to_list() == [1.0, 0.0]
    pq = tmp_path / "u.parquet"
    got.drop("__line").with_columns(pl.lit(-2.0).alias("price")).write_parquet(pq)
    with pytest.raises(DataError) as info:
        read_universe(pq)
    assert (info.value.line, info.value.column) == (1, "price")  # Parquet: 1-based row


def test_missing_file_and_empty_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(
        ["recon", "run", str(tmp_path / "nope.csv"), "--rank-date", "2026-04-30"], monkeypatch, capsys
    )
    assert code == 2 and "no such file" in err
    (tmp_path / "e.csv").write_text("")
    code, _, err = run_main(
        ["recon", "run", str(tmp_path / "e.csv"), "--rank-date", "2026-04-30"], monkeypatch, capsys
    )
    assert code == 3 and "file is empty" in err


def test_adv_from_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rows without adv take the average volume of the store's bars before the rank day (none after it)."""
    bars = tmp_path / "bars"
    bars.mkdir()
    days = [dt.date(2026, 4, 20) + dt.timedelta(days=i) for i in range(15)]
    lines = ["date,open,high,low,close,adj_close,volume"] + [
        f"{d.isoformat()},10,10,10,10,10,{1000 * (i + 1)}" for i, d in enumerate(days)
    ]
    (bars / "AAA.csv").write_text("\n".join(lines) + "\n")
    store = tmp_path / "s.duckdb"
    code, _, err = run_main(["ingest", str(bars), "--store", str(store)], monkeypatch, capsys)
    assert code == 0, err
    u = tmp_path / "u.csv"
    u.write_text(HEADER + "\n" + GOOD + "\nBBB,10,1e9,0.9,1,US,common,0.5,0.1,R2000\n")
    code, out, err = run_main(
        ["recon", "run", str(u), "--rank-date", "2026-04-30", "--indexed-assets", "1e9", "--adv-window", "3",
         "--store", str(store), "--format", "json"],
        monkeypatch,
        capsys,
    )  # fmt: skip
    assert code == 0, err
    adv = {d["symbol"]: d["adv"] for d in json.loads(out)["demand"]}
    assert adv["AAA"] == pytest.approx((8000 + 9000 + 10000) / 3)  # 04-27..04-29, before the rank day
    assert "BBB" in err and "days of volume are not computed" in err
