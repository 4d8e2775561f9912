"""``capscope breadth`` end to end on the sample universe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_helpers import run_main as run

pytestmark = pytest.mark.sample


def test_breadth_json_stocks(
    sample_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        ["breadth", "--as-of", "2025-04-08", "--format", "json", "--tail", "3"], monkeypatch, capsys
    )
    assert code == 0, err
    doc = json.loads(out)
    n_files = len(list((sample_dir / "stocks").glob("*.csv")))
    assert doc["n_symbols"] == n_files and doc["universe"] == "stocks"
    latest = doc["latest"]
    assert latest["date"] == "2025-04-08" == doc["series"]["dates"][-1]
    assert 0 <= latest["pct_above_long"] <= 100
    assert latest["advances"] + latest["declines"] + latest["unchanged"] <= latest["active"]
    assert doc["params"]["ratio_adjusted"] is True and doc["params"]["hl_on"] == "close"


def test_breadth_universe_file_and_table(
    sample_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from capscope.analytics.breadth import breadth
    from capscope.data.panel import Panel
    from capscope.data.readers import read_many

    names = ["AAT", "ABG", "ABM"]
    universe = tmp_path / "u.txt"
    universe.write_text("# three stocks\nAAT, ABG\nABM\n")
    code, out, err = run(["breadth", "--universe", str(universe), "--format", "json"], monkeypatch, capsys)
    assert code == 0, err
    doc = json.loads(out)
    panel = Panel.from_bars(read_many([sample_dir / "stocks" / f"{s}.csv" for s in names]))
    assert doc["n_symbols"] == 3 and doc["latest"] == breadth(panel).latest()
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = run(
        ["breadth", "--universe", str(universe), "--rows", "2", "--high-low"], monkeypatch, capsys
    )
    assert code == 0, err
    assert "McClellan" in out and "high/low" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["breadth", "--universe", "nosuchfile.txt"], "is not one of: stocks, all or an existing file"),
        (["breadth", "--format", "csv"], "--format"),
    ],
)
def test_breadth_user_errors(
    args: list[str],
    message: str,
    sample_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(args, monkeypatch, capsys)
    assert code == 2 and message in err and "Traceback" not in err + out


def test_breadth_help_has_example(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["breadth", "--help"], monkeypatch, capsys)
    assert code == 0 and "Example: capscope breadth" in out


def test_breadth_as_of_before_data(
    sample_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    universe = tmp_path / "u.txt"
    universe.write_text("AAT\n")
    code, out, err = run(
        ["breadth", "--universe", str(universe), "--as-of", "2001-01-01"], monkeypatch, capsys
    )
    assert code == 2 and "is before the first bar of the data" in err and "Traceback" not in err + out
    universe.write_text("NOPE_NOT_A_SYMBOL\n")
    code, _, err = run(["breadth", "--universe", str(universe)], monkeypatch, capsys)
    assert code == 2 and "unknown symbol 'NOPE_NOT_A_SYMBOL'" in err
