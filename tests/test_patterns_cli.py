"""``capscope patterns``: table and JSON output, filters, clear errors (no tracebacks)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from capscope.cli.patterns import patterns
from capscope.errors import UsageError


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("patterns")(patterns)
    app.command("noop")(lambda: None)  # keep typer in multi-command mode, as in the real app
    return app


def _write_ihs(folder: Path, symbol: str = "XYZ") -> None:
    anchors = [(0, 118), (15, 122), (30, 100), (40, 110), (55, 90), (70, 110), (82, 100), (120, 140)]
    n = anchors[-1][0] + 1
    close = np.interp(np.arange(n), [a for a, _ in anchors], [p for _, p in anchors])
    dates = np.busday_offset(np.datetime64("2024-01-01"), np.arange(n), roll="forward")
    lines = ["date,open,high,low,close,adj_close,volume"]
    for d, c in zip(dates, close, strict=True):
        lines.append(f"{d},{c:.6f},{c * 1.004:.6f},{c * 0.996:.6f},{c:.6f},,1000")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{symbol}.csv").write_text("\n".join(lines) + "\n")


def test_json_output(tmp_path: Path) -> None:
    _write_ihs(tmp_path / "prices")
    res = CliRunner().invoke(
        _app(),
        [
            "patterns",
            "XYZ",
            "--data",
            str(tmp_path),
            "--format",
            "json",
            "--kinds",
            "inverse_head_and_shoulders",
            "--all",
        ],
    )
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    assert payload["mode"] == "chartist"
    (rec,) = payload["patterns"]
    assert rec["kind"] == "inverse_head_and_shoulders" and rec["status"] == "target_reached"
    assert [p["role"] for p in rec["points"]][1:] == [
        "left_shoulder",
        "neckline_left",
        "head",
        "neckline_right",
        "right_shoulder",
    ]
    assert rec["neckline"]["price0"] == pytest.approx(110 * 1.004, rel=1e-6)
    assert set(rec) >= {
        "symbol",
        "kind",
        "status",
        "points",
        "neckline",
        "breakout",
        "target",
        "invalidation",
        "quality",
        "date",
    }


def test_as_of_and_status_filter(tmp_path: Path) -> None:
    _write_ihs(tmp_path)
    args = [
        "patterns",
        "XYZ",
        "--data",
        str(tmp_path),
        "--format",
        "json",
        "--kinds",
        "inverse_head_and_shoulders",
    ]
    # bar 88: the right shoulder (bar 82) is confirmed (bar 86), the neckline (110.44) not yet broken
    day = str(np.busday_offset(np.datetime64("2024-01-01"), 88, roll="forward"))
    res = CliRunner().invoke(_app(), [*args, "--as-of", day])
    assert res.exit_code == 0, res.output
    (rec,) = json.loads(res.output)["patterns"]
    assert rec["status"] == "forming" and rec["breakout"] is None and rec["date"] <= day
    res = CliRunner().invoke(_app(), [*args, "--status", "failed"])
    assert json.loads(res.output)["patterns"] == []


def test_table_output(tmp_path: Path) -> None:
    _write_ihs(tmp_path)
    res = CliRunner().invoke(
        _app(), ["patterns", "XYZ", "--data", str(tmp_path), "--all"], env={"COLUMNS": "250"}
    )
    assert res.exit_code == 0, res.output
    assert "inverse_head_and_shoulders" in res.output and "target_reached" in res.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--format", "xml"], "--format"),
        (["--status", "broken"], "--status 'broken' is not one of: forming"),
        (["--kinds", "cup_and_handle"], "--kinds 'cup_and_handle' is not one of"),
        (["--mode", "magic"], "--mode 'magic' is not one of: chartist, lmw"),
        (["--as-of", "1990-01-01"], "before XYZ's first bar (2024-01-01)"),
        (["--as-of", "yesterday"], "not a date"),
    ],
)
def test_user_errors(tmp_path: Path, extra: list[str], message: str) -> None:
    _write_ihs(tmp_path)
    res = CliRunner().invoke(_app(), ["patterns", "XYZ", "--data", str(tmp_path), *extra])
    assert isinstance(res.exception, UsageError), res.output
    assert message in str(res.exception)


def test_unknown_symbol_suggests(tmp_path: Path) -> None:
    _write_ihs(tmp_path)
    res = CliRunner().invoke(_app(), ["patterns", "XYY", "--data", str(tmp_path)])
    assert isinstance(res.exception, UsageError)
    assert "did you mean 'XYZ'" in str(res.exception)


def test_real_app_registers_patterns() -> None:
    from capscope.cli.app import app

    res = CliRunner().invoke(app, ["patterns", "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0 and "Example: capscope patterns RUT" in res.output


def test_min_quality_filter(tmp_path: Path) -> None:
    _write_ihs(tmp_path)
    base = ["patterns", "XYZ", "--data", str(tmp_path), "--format", "json", "--all"]
    everything = json.loads(CliRunner().invoke(_app(), base).output)["patterns"]
    assert everything
    cut = sorted(r["quality"] for r in everything)[len(everything) // 2]
    kept = json.loads(CliRunner().invoke(_app(), [*base, "--min-quality", str(cut)]).output)["patterns"]
    assert kept == [r for r in everything if r["quality"] >= cut]
    res = CliRunner().invoke(_app(), [*base, "--min-quality", "1.5"])
    assert res.exit_code != 0


def test_scan_json_carries_pattern_records(tmp_path: Path) -> None:
    """`capscope scan --format json` puts the chartist records beside the events (same records as `patterns`)."""
    _write_ihs(tmp_path / "prices")
    args = ["--data", str(tmp_path), "--format", "json"]
    from capscope.cli.app import app as full_app

    scan = CliRunner().invoke(full_app, ["scan", "XYZ", "--since", "all", *args])
    assert scan.exit_code == 0, scan.output
    payload = json.loads(scan.output)
    kinds = {p["kind"] for p in payload["patterns"]}
    assert "inverse_head_and_shoulders" in kinds
    pats = CliRunner().invoke(_app(), ["patterns", "XYZ", "--all", *args])
    assert pats.exit_code == 0, pats.output
    assert sorted(json.dumps(p, sort_keys=True) for p in payload["patterns"]) == sorted(
        json.dumps(p, sort_keys=True) for p in json.loads(pats.output)["patterns"]
    )


def test_table_limit_keeps_the_first_rows_by_symbol_and_counts_all(tmp_path: Path) -> None:
    """--limit N shows the first N rows in symbol order (the blocks keep only that many while they arrive)
    and the title counts every record; --limit 0 shows all, equal to the JSON records."""
    rng = np.random.default_rng(5)
    lines = ["date,open,high,low,close,adj_close,volume"]
    dates = np.busday_offset(np.datetime64("2020-01-01"), np.arange(1500), roll="forward")
    for sym in ("CCC", "AAA", "BBB"):
        close = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, dates.size)))
        (tmp_path / f"{sym}.csv").write_text(
            "\n".join(
                lines
                + [
                    f"{d},{c:.4f},{c * 1.01:.4f},{c * 0.99:.4f},{c:.4f},,1000"
                    for d, c in zip(dates, close, strict=True)
                ]
            )
            + "\n"
        )
    args = ["patterns", "CCC", "AAA", "BBB", "--data", str(tmp_path), "--all"]
    found = json.loads(CliRunner().invoke(_app(), [*args, "--format", "json"]).output)["patterns"]
    want = [(r["symbol"], r["kind"], r["status"], r["date"]) for r in found]
    assert len(want) > 6 and [w[0] for w in want] == sorted(w[0] for w in want)

    def rows(output: str) -> list[tuple[str, ...]]:
        return [
            tuple(c.strip() for c in line.split("│")[1:5])
            for line in output.splitlines()
            if line.startswith("│") and line.split("│")[1].strip()
        ]

    env = {"COLUMNS": "250"}
    every = CliRunner().invoke(_app(), [*args, "--limit", "0"], env=env)
    assert every.exit_code == 0 and rows(every.output) == want
    few = CliRunner().invoke(_app(), [*args, "--limit", "5"], env=env)
    assert few.exit_code == 0 and rows(few.output) == want[:5]
    assert f"{len(want)} chartist patterns" in few.output
    assert f"{len(want) - 5} more patterns not shown" in few.output
