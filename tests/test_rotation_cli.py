"""``capscope rotation`` end to end on the sample data: JSON content, table warnings, clean user errors."""

from __future__ import annotations

import json

import pytest

from tests.cli_helpers import run_main as run

pytestmark = pytest.mark.sample


def test_rotation_json(
    sample_dir: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from capscope.analytics import rotation as rot
    from capscope.data.panel import Panel
    from capscope.data.readers import read_many

    args = ["rotation", "--as-of", "2025-06-30", "--pairs", "RUT:GSPC,IWM:IWO", "--rrg", "IWO,IWN"]
    code, out, err = run(
        [*args, "--benchmark", "IWB", "--since", "2025-04-08", "--format", "json"], monkeypatch, capsys
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["as_of"] == "2025-06-30" and doc["source"].startswith("files under")
    rut, mixed = doc["pairs"]
    assert rut["pair"] == "RUT:GSPC" and rut["end_date"] == "2025-06-30"
    assert [r["label"] for r in rut["returns"]] == [
        "YTD",
        "1M",
        "3M",
        "6M",
        "12M",
        "since 2025-04-08",
        "from 52w low",
    ]
    assert not rut["warnings"]
    assert len(rut["turning_points"]) == min(20, rut["turning_points_total"])
    assert any("mixed price basis" in w for w in mixed["warnings"])
    assert any("mixed price basis" in w for w in doc["warnings"])
    assert {p["symbol"] for p in doc["rrg"]["latest"]} == {"IWO", "IWN"}
    # the CLI prints what the library computes
    from pathlib import Path

    root = Path(str(sample_dir)) / "prices"
    panel = Panel.from_bars(read_many([root / "RUT.csv", root / "GSPC.csv"]))
    direct = rot.relative_strength(
        panel, "RUT", "GSPC", "2025-06-30", periods=rot.default_periods(since=["2025-04-08"])
    )
    assert rut["returns"] == [r.to_dict() for r in direct.returns]


def test_rotation_table_shows_basis_warning(
    sample_dir: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = run(
        ["rotation", "--as-of", "2025-06-30", "--pairs", "IWM:IWO", "--rrg", ""], monkeypatch, capsys
    )
    assert code == 0, err
    assert "IWM:IWO" in out and "warning:" in out and "mixed price basis" in out
    code, out, _ = run(
        ["rotation", "--pairs", "IWM:IWO", "--rrg", "", "--basis", "IWO=raw"], monkeypatch, capsys
    )
    assert code == 0 and "mixed price basis" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rotation", "--pairs", "RUT"], "expected NUMERATOR:DENOMINATOR"),
        (["rotation", "--pairs", "RUT:NOPE", "--rrg", ""], "unknown symbol 'NOPE'"),
        (
            ["rotation", "--as-of", "1900-01-01", "--rrg", "", "--pairs", "RUT:GSPC"],
            "is before RUT's first bar",
        ),
        (["rotation", "--as-of", "yesterday"], "not a date"),
        (["rotation", "--format", "xml"], "--format"),
        (["rotation", "--basis", "IWM=total"], "unknown kind"),
    ],
)
def test_rotation_user_errors(
    args: list[str],
    message: str,
    sample_dir: object,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(args, monkeypatch, capsys)
    assert code == 2
    assert message in err and "Traceback" not in err + out


def test_rotation_help_has_example(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["rotation", "--help"], monkeypatch, capsys)
    assert code == 0 and "Example: capscope rotation" in out


def test_rotation_reads_the_store_when_it_holds_the_symbols(
    sample_dir: object,
    tmp_path: object,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pathlib import Path

    from capscope.store import Store

    prices = Path(str(sample_dir)) / "prices"
    db = Path(str(tmp_path)) / "bars.duckdb"
    with Store(db) as store:
        store.ingest([prices / "RUT.csv", prices / "GSPC.csv"])
    monkeypatch.delenv("CAPSCOPE_DATA", raising=False)
    args = ["rotation", "--store", str(db), "--pairs", "RUT:GSPC", "--rrg", "", "--format", "json"]
    code, out, err = run([*args, "--as-of", "2025-06-30"], monkeypatch, capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["source"] == f"store {db}"
    from_files = [
        "rotation",
        "--data",
        str(sample_dir),
        "--pairs",
        "RUT:GSPC",
        "--rrg",
        "",
        "--format",
        "json",
    ]
    code_f, out_f, _ = run([*from_files, "--as-of", "2025-06-30"], monkeypatch, capsys)
    assert code_f == 0
    assert json.loads(out_f)["pairs"] == doc["pairs"]  # same numbers from the store and from the files
    code, _, err = run(
        ["rotation", "--store", str(db), "--pairs", "IWM:SPY", "--rrg", ""], monkeypatch, capsys
    )
    assert code == 2 and "unknown symbols 'IWM', 'SPY' in the store" in err
