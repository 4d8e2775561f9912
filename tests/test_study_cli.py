"""``capscope study``: output layouts and usage errors (on generated bar files in tmp_path)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.cli_helpers import run_main


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("study-data") / "prices"
    root.mkdir()
    rng = np.random.default_rng(42)
    dates = np.busday_offset("2019-01-02", np.arange(900), roll="forward")
    for sym in ("AAA", "BBB", "CCC"):
        close = 40 * np.exp(np.cumsum(rng.standard_normal(900) * 0.015))
        open_ = close * (1 + rng.standard_normal(900) * 0.002)
        high = np.maximum(open_, close) * 1.01
        low = np.minimum(open_, close) * 0.99
        lines = ["date,open,high,low,close,adj_close,volume"]
        lines += [
            f"{d},{o:.4f},{h:.4f},{lo:.4f},{c:.4f},,1000"
            for d, o, h, lo, c in zip(dates, open_, high, low, close, strict=True)
        ]
        (root / f"{sym}.csv").write_text("\n".join(lines) + "\n")
    return root.parent


def _run(args: list[str], data_dir: Path, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "80")
    return run_main(["study", *args, "--data", str(data_dir)], monkeypatch, capsys)


def test_json_layout(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        [
            "golden_cross",
            "double_bottom",
            "-s",
            "AAA,BBB,CCC",
            "--horizons",
            "5,21",
            "--draws",
            "199",
            "--format",
            "json",
        ],
        data_dir,
        monkeypatch,
        capsys,
    )
    assert code == 0
    d = json.loads(out)
    assert d["as_of"] == str(np.busday_offset("2019-01-02", 899, roll="forward"))  # the last bar
    assert [(r["kind"], r["horizon"]) for r in d["results"]] == [
        ("golden_cross", 5),
        ("golden_cross", 21),
        ("double_bottom", 5),
        ("double_bottom", 21),
    ]
    assert d["params"]["draws"] == 199 and d["params"]["seed"] == 20260101
    assert d["outcomes"][0]["kind"] == "double_bottom"
    assert "spa" in d["run_tests"]


def test_table_fits_80_columns(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        ["macd_bullish_cross:above_zero=true", "-s", "AAA,BBB", "--draws", "199", "--as-of", "2021-12-31"],
        data_dir,
        monkeypatch,
        capsys,
    )
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "excess% [95% CI]" in out and "2021-12-31" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["golden_crosss", "-s", "AAA"], "did you mean golden_cross"),
        (["golden_cross:ma=smma", "-s", "AAA"], "values: ema, sma"),
        (["golden_cross:foo=1", "-s", "AAA"], "fields of golden_cross"),
        (["golden_cross"], "no symbols"),
        (["golden_cross", "-s", "AAB"], "AAA"),
        (["golden_cross", "-s", "AAA", "--as-of", "2025-02-30"], "not a date"),
        (["golden_cross", "-s", "AAA", "--as-of", "1990-01-01"], "no bars on or before"),
        (["golden_cross", "-s", "AAA", "--horizons", "5,x"], "not a whole number"),
        (["golden_cross", "-s", "AAA", "--horizons", "0"], "at least 1 bar"),
        (["golden_cross", "-s", "AAA", "--entry", "open"], "close, next_open"),
        (["golden_cross", "-s", "AAA", "--baseline", "market"], "all, regime"),
        (["golden_cross", "-s", "AAA", "--format", "csv"], "table, json"),
        (["golden_cross", "-s", "AAA", "--draws", "10"], "at least 99"),
        (["golden_cross", "-s", "AAA", "--since", "2030-01-01"], "the window would be empty"),
        (["golden_cross", "-s", "AAA", "--inference", "bootstrapp"], "did you mean 'bootstrap'"),
        ([], "no signal"),
    ],
)
def test_usage_errors(
    args: list[str],
    message: str,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _run(args, data_dir, monkeypatch, capsys)
    assert code == 2, err
    assert message in err
    assert "Traceback" not in err and out == ""


def test_as_of_after_the_data_is_answered_with_one_warning(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(
        ["golden_cross", "-s", "AAA", "--draws", "99", "--as-of", "2030-01-01", "--format", "json"],
        data_dir,
        monkeypatch,
        capsys,
    )
    assert code == 0
    assert err.count("after the last bar") == 1
    assert json.loads(out)["as_of"] == str(np.busday_offset("2019-01-02", 899, roll="forward"))
