"""Every command's table at 60, 80, 100 and 160 columns: no date or number is cut (issue 15).

rich marks a cut cell with an ellipsis; the tables keep dates and numbers on one line at their full width and fold
only text, leaving out low-priority columns (named under the table) when the terminal is narrow. The checks: no
ellipsis anywhere, the values a reader needs (last date, last close, row counts) present intact on one line, no
line wider than the terminal unless --wide was asked for, and --wide shows every column.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from capscope.cli.app import run
from capscope.cli.tables import fmt_int, fmt_price, fmt_volume

from .cli_helpers import PRICE_SYMBOLS, build_universe, reading_commands

WIDTHS = (60, 80, 100, 160)


@pytest.fixture(scope="module")
def universe(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("widths")
    data, store = build_universe(root)
    return root, data, store


def _bars(data: Path, symbol: str) -> pl.DataFrame:
    from capscope.data.readers import read_bars

    return read_bars(data / "prices" / f"{symbol}.csv")


def _expected(data: Path) -> dict[str, list[str]]:
    """Strings each command's table must show whole (dates, closes, counts of the generated data)."""
    last = {s: _bars(data, s).row(-1, named=True) for s in PRICE_SYMBOLS}
    aaa = _bars(data, "AAA")
    return {
        "show": [last["AAA"]["date"].isoformat(), fmt_price(last["AAA"]["close"])],
        "overview": [fmt_price(last["AAA"]["close"]), fmt_price(last["BBB"]["close"])],
        "symbols": [*(last[s]["date"].isoformat() for s in PRICE_SYMBOLS), fmt_int(aaa.height)],
        "scan": [],
        "patterns": [],
        "rotation": [last["AAA"]["date"].isoformat()],
        "breadth": [],
        "brief": [],
        "verify": [],
        "doctor": [],
    }


def _run(
    args: list[str], width: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    code = run(args)
    out = capsys.readouterr()
    assert code == 0, (args, out.err)
    return out.out


def _assert_readable(text: str, width: int, wide: bool, must_show: list[str]) -> None:
    assert "…" not in text, text
    for token in must_show:
        assert token in text, (token, text)
    # a date is never split over two lines or cut short
    assert not re.search(r"\b\d{4}-\d{2}-?\s*$", text, re.MULTILINE), text
    if not wide:  # table lines fit the terminal (a long path on its own line may run over, to stay copyable)
        too_long = [line for line in text.splitlines() if len(line) > width and set(line) & set("│┃━─")]
        assert not too_long, too_long


@pytest.mark.parametrize("width", WIDTHS)
def test_every_command_at_width(
    width: int,
    universe: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, data, store = universe
    expected = _expected(data)
    commands = reading_commands(store, data, root)
    commands["scan"] += ["--since", "all", "--limit", "8"]
    commands["patterns"] += ["--all"]
    commands["rotation"] = ["rotation", "--pairs", "AAA:BBB", "--rrg", "GRW,VAL", "--benchmark", "BBB"]
    commands["rotation"] += ["--store", str(store)]
    for name, args in commands.items():
        text = _run(args, width, monkeypatch, capsys)
        _assert_readable(text, width, False, expected[name])


@pytest.fixture(scope="module")
def recon_universe(universe: tuple[Path, Path, Path]) -> Path:
    from capscope.analytics.reconstitution.synthetic import synthetic_universe

    path = universe[0] / "recon-universe.csv"
    synthetic_universe(3000, seed=0).write_csv(path)
    return path


@pytest.mark.parametrize("width", WIDTHS)
def test_newer_commands_at_width(
    width: int,
    universe: tuple[Path, Path, Path],
    recon_universe: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """study, recon calendar/run, sources and export (added after the helpers) at the same widths."""
    root, data, store = universe
    commands = {
        "study": ["study", "golden_cross", "-s", "AAA,BBB", "--draws", "99", "--store", str(store)],
        "recon calendar": ["recon", "calendar", "2026"],
        "recon run": [
            "recon",
            "run",
            str(recon_universe),
            "--rank-date",
            "2025-04-30",
            "--store",
            str(store),
        ],
        "sources": ["sources", "AAA", "--data", str(data)],
        "export": ["export", "parquet", "--store", str(store), "--out", str(root / f"parquet-{width}")],
    }
    for args in commands.values():
        text = _run(args, width, monkeypatch, capsys)
        _assert_readable(text, width, False, [])


@pytest.mark.parametrize("width", (60, 100))
def test_wide_shows_every_column(
    width: int,
    universe: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, data, store = universe
    last = _bars(data, "AAA").row(-1, named=True)
    narrow = _run(["show", "AAA", "--store", str(store)], width, monkeypatch, capsys)
    wide = _run(["show", "AAA", "--store", str(store), "--wide"], width, monkeypatch, capsys)
    headers = ("open", "high", "low", "close", "adj_close", "volume")
    assert all(h in wide for h in headers) and "hidden at this width" not in wide
    assert fmt_volume(last["volume"]) in wide and fmt_price(last["open"]) in wide
    _assert_readable(wide, width, True, [last["date"].isoformat()])
    if width == 60:  # at 60 columns some columns must give way, and the table says which
        hidden = re.search(r"hidden at this width: ([^;]+);", " ".join(narrow.split()))
        assert hidden is not None, narrow
        assert all(h not in narrow.split("hidden")[0] for h in hidden.group(1).split(", "))


def test_volume_prints_as_an_integer(
    universe: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, data, store = universe
    text = _run(["show", "AAA", "--store", str(store), "--wide"], 160, monkeypatch, capsys)
    volumes = _bars(data, "AAA")["volume"].tail(10).to_list()
    for v in volumes:
        assert f"{round(v):,d}" in text
        assert f"{v:,.2f}" not in text
