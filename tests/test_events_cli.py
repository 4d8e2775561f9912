"""``capscope scan``: JSON / CSV / table output, as-of and since, universes, store vs files, errors."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from capscope.cli.app import app
from capscope.errors import UsageError
from capscope.events import records as R

pytestmark = pytest.mark.sample
runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, ["scan", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def fail(*args: str) -> BaseException:
    result = runner.invoke(app, ["scan", *args])
    assert result.exit_code != 0
    assert result.exception is not None
    return result.exception


def _panel(sample_dir: Path, *symbols: str):  # type: ignore[no-untyped-def]
    from capscope.data.panel import Panel
    from capscope.data.readers import read_many

    files = [next(sample_dir.rglob(f"{s}.csv")) for s in symbols]
    return Panel.from_bars(read_many(files))


def test_json_layout_kinds_and_since(sample_dir: Path) -> None:
    out = json.loads(
        run("RUT", "IWM", "--since", "2026-01-01", "--kinds", "ma_cross,macd", "--format", "json")
    )
    assert set(out) == {"as_of", "events", "patterns"}
    from capscope.data.readers import read_bars

    # the as-of date defaults to the last bar of the symbols asked for (read here, not pinned to the sample)
    last = max(read_bars(next(sample_dir.rglob(f"{s}.csv")))["date"].max() for s in ("RUT", "IWM"))
    assert out["as_of"] == last.isoformat()
    assert all(p["symbol"] in {"RUT", "IWM"} and p["date"] >= "2026-01-01" for p in out["patterns"])
    events = out["events"]
    assert events and {e["symbol"] for e in events} == {"RUT", "IWM"}
    assert {e["kind"] for e in events} <= {
        R.GOLDEN_CROSS,
        R.DEATH_CROSS,
        R.MACD_BULLISH_CROSS,
        R.MACD_BEARISH_CROSS,
    }
    assert all(e["date"] >= "2026-01-01" for e in events)
    assert [e["date"] for e in events] == sorted(e["date"] for e in events)
    for e in events:
        assert set(e) == {"symbol", "date", "kind", "price", *R.KIND_FIELDS[e["kind"]]}


def test_json_as_of_equals_truncated_scan(sample_dir: Path) -> None:
    from capscope.events.scan import scan_panel

    day = "2025-03-14"
    out = json.loads(run("IWM", "--as-of", day, "--since", "all", "--format", "json"))
    assert out["as_of"] == day
    panel = _panel(sample_dir, "IWM")
    truncated = R.events_to_records(scan_panel(panel.truncate(day)))
    assert out["events"] == truncated
    full = scan_panel(panel)
    assert out["events"] == R.events_to_records(full[full.date <= pd.Timestamp(day)])
    assert max(e["date"] for e in out["events"]) <= day


def test_csv_matches_json() -> None:
    args = ("RUT", "--since", "2025-01-01")
    csv = pd.read_csv(io.StringIO(run(*args, "--format", "csv")))
    js = json.loads(run(*args, "--format", "json"))["events"]
    assert list(csv.columns) == list(R.EVENT_COLUMNS)
    assert len(csv) == len(js) > 10
    assert csv["date"].tolist() == [e["date"] for e in js]
    assert csv["kind"].tolist() == [e["kind"] for e in js]
    np.testing.assert_allclose(csv["price"].to_numpy(), [e["price"] for e in js])


def test_table_newest_first() -> None:
    out = run("RUT", "--since", "2026-01-01", "--limit", "0")
    assert "capscope scan" in out and "RUT" in out
    import re

    dates = re.findall(r"\b(20\d\d-\d\d-\d\d)\b", out.split("\n", 2)[-1])
    event_dates = [d for d in dates if d >= "2026-01-01"]
    assert event_dates and event_dates[0] >= event_dates[-1]


def test_universe_file_and_batching(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    universe = tmp_path / "u.txt"
    universe.write_text("# small caps\nAAT, ABG\nABM  # trailing comment\n", encoding="utf-8")
    base = json.loads(run("--universe", str(universe), "--since", "all", "--format", "json"))
    assert {e["symbol"] for e in base["events"]} == {"AAT", "ABG", "ABM"}
    import capscope.cli.scan as scan_cli

    monkeypatch.setattr(scan_cli, "BATCH_SIZE", 1)  # one symbol per panel: the events must not change
    batched = json.loads(run("--universe", str(universe), "--since", "all", "--format", "json"))
    assert batched == base


def test_universe_all_and_store(sample_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for sym in ("AAT", "ABG", "ACA"):
        shutil.copy(sample_dir / "stocks" / f"{sym}.csv", data / f"{sym}.csv")
    from_files = json.loads(
        run("--universe", "all", "--data", str(data), "--since", "all", "--format", "json")
    )
    assert {e["symbol"] for e in from_files["events"]} == {"AAT", "ABG", "ACA"}
    from capscope.store import Store

    store = tmp_path / "bars.duckdb"
    with Store(store) as st:
        st.ingest([data])
    from_store = json.loads(
        run("--universe", "all", "--store", str(store), "--since", "all", "--format", "json")
    )
    assert from_store == from_files
    err = fail("ZZZZ", "--store", str(store))
    assert isinstance(err, UsageError)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("RUTT",), "did you mean 'RUT'"),
        (("RUT", "--kinds", "golden"), "unknown event kind 'golden'"),
        (("RUT", "--format", "xml"), "--format"),
        (("RUT", "--as-of", "2025-13-40"), "not a date"),
        (("RUT", "--since", "yesterday"), "not a date"),
        ((), "no symbols"),
        (("RUT", "RUT"), "more than once"),
        (("--universe", "/nonexistent/u.txt"), "no such file"),
        (("RUT", "--as-of", "1900-01-01"), "is before RUT's first bar ("),
    ],
)
def test_user_errors(args: tuple[str, ...], message: str) -> None:
    err = fail(*args)
    assert isinstance(err, UsageError), err
    assert message in str(err)


def test_error_has_no_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "capscope.cli.app", "scan", "IWMM"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == UsageError.exit_code
    assert "Traceback" not in proc.stderr and "did you mean 'IWM'" in proc.stderr


def test_help_has_example() -> None:
    result = runner.invoke(app, ["scan", "--help"])
    assert result.exit_code == 0 and "capscope scan RUT" in result.stdout
