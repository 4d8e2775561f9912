"""One symbol, many sources: SYMBOL__source files are sources, not symbols; cross-check warnings name the sources
and dates; an agreeing same-basis source extends the primary with provenance; raw and adjusted never spliced."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from capscope.analytics.basis import CloseKind
from capscope.analytics.sources import cross_check, extend, extend_in_panel, series_on_basis
from capscope.data.alternates import index_sources, is_alternate, primary_symbols, split_source
from capscope.data.panel import Panel
from tests.cli_helpers import run_main


def _dates(n: int, start: str = "2024-01-02") -> np.ndarray:
    return np.busday_offset(start, np.arange(n), roll="forward").astype("datetime64[D]")


def _walk(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.012, n)))


def _write(
    path: Path, dates: np.ndarray, close: np.ndarray, *, ohlc: bool = True, adj: np.ndarray | None = None
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["date,open,high,low,close,adj_close,volume"]
    for k, (d, c) in enumerate(zip(dates, close, strict=True)):
        o = f"{c:.6f},{c * 1.01:.6f},{c * 0.99:.6f}" if ohlc else ",,"
        a = f"{adj[k]:.6f}" if adj is not None else ""
        lines.append(f"{d},{o},{c:.6f},{a},{1000 if ohlc else ''}")
    path.write_text("\n".join(lines) + "\n")


# -- the convention --------------------------------------------------------------------------------------------
def test_split_source_convention() -> None:
    assert split_source("RUT") == ("RUT", None)
    assert split_source("RUT__alitalbi") == ("RUT", "alitalbi")
    assert split_source("IWO__dsturdy_close_only") == ("IWO", "dsturdy_close_only")
    assert split_source("BRK_B") == ("BRK_B", None)  # one underscore is part of a symbol
    assert split_source("__x") == ("__x", None) and split_source("X__") == ("X__", None)
    assert is_alternate("SPY__deep-raj17") and not is_alternate("SPY")
    assert primary_symbols(["A", "A__x", "B", "C__y"]) == ["A", "B"]


def test_index_sources_groups_files(tmp_path: Path) -> None:
    d = _dates(5)
    for rel in ("prices/A.csv", "prices/alt/A__one.csv", "elsewhere/A__two.csv", "prices/alt/Z__only.csv"):
        _write(tmp_path / rel, d, np.full(5, 10.0))
    from capscope.data.readers import iter_bar_files

    idx = index_sources(iter_bar_files(tmp_path))
    assert set(idx) == {"A", "Z"}
    assert idx["A"].primary == tmp_path / "prices/A.csv"
    assert set(idx["A"].alternates) == {"one", "two"}
    assert idx["Z"].primary is None and set(idx["Z"].alternates) == {"only"}


# -- cross-check and extension on constructed series -------------------------------------------------------------
def _panel(
    columns: dict[str, tuple[np.ndarray, np.ndarray]], adj: dict[str, np.ndarray] | None = None
) -> Panel:
    """Panel on the union of the columns' dates (NaN where a column has no bar)."""
    names = tuple(columns)
    dates = np.unique(np.concatenate([d for d, _ in columns.values()]))
    close = np.full((len(dates), len(names)), np.nan)
    adj_close = np.full_like(close, np.nan)
    for j, (name, (d, c)) in enumerate(columns.items()):
        rows = np.searchsorted(dates, d)
        close[rows, j] = c
        if adj and name in adj:
            adj_close[rows, j] = adj[name]
    fields = {k: close.copy() for k in ("open", "high", "low", "close")}
    fields["adj_close"] = adj_close
    fields["volume"] = np.where(np.isfinite(close), 1.0, np.nan)
    return Panel(dates, names, fields)


def test_cross_check_scale_and_disagreement_dates() -> None:
    d = _dates(300)
    p = _walk(300, 1)
    alt = p * 0.97  # adjusted as of a later day: one constant factor
    alt[[50, 51, 200]] *= 1.01  # three dates off by ~1%
    panel = _panel({"X": (d, p), "X__b": (d, alt)})
    prim = series_on_basis(panel, "X", "X", "primary", overrides={"X": CloseKind.ADJUSTED})
    other = series_on_basis(
        panel, "X__b", "X", "b", want=prim.basis.basis, overrides={"X__b": CloseKind.ADJUSTED}
    )
    assert prim is not None and other is not None
    check = cross_check(prim, other, source="b", tolerance=0.001)
    assert check.common_bars == 300 and check.scale == pytest.approx(0.97)
    assert [x["date"] for x in check.disagreements] == [str(d[50]), str(d[51]), str(d[200])]
    assert check.disagreements[0]["difference"] == pytest.approx(0.01)
    warning = check.warning()
    assert warning is not None and "'primary' and 'b'" in warning and str(d[200]) in warning
    assert "3 of 300 common dates" in warning


def test_extension_splice_and_provenance() -> None:
    d = _dates(160)
    full = _walk(160, 2)
    primary = (d[:120], full[:120])
    alt = (d[40:], full[40:] * 1.5)  # same series, other scale, reaching 40 bars further
    panel = _panel({"Y": primary, "Y__late": alt})
    ext = extend_in_panel(
        panel, "Y", [("late", "Y__late")], overrides={"Y": CloseKind.RAW, "Y__late": CloseKind.RAW}
    )
    assert [s["source"] for s in ext.segments] == ["primary", "late"]
    assert ext.segments[0] == {
        "source": "primary",
        "name": "Y",
        "first": str(d[0]),
        "last": str(d[119]),
        "bars": 120,
    }
    late = ext.segments[1]
    assert (late["first"], late["last"], late["bars"], late["spliced_after"]) == (
        str(d[120]),
        str(d[159]),
        40,
        str(d[119]),
    )
    assert late["scale"] == pytest.approx(1 / 1.5)
    np.testing.assert_array_equal(ext.dates, d)
    # the spliced values continue the primary with the alternate's own returns
    np.testing.assert_allclose(ext.values, full, rtol=1e-9)
    assert not ext.refused and not ext.warnings


def test_raw_and_adjusted_are_never_spliced() -> None:
    d = _dates(160)
    full = _walk(160, 3)
    panel = _panel({"Z": (d[:120], full[:120]), "Z__adj": (d[40:], full[40:])})
    # the primary is raw traded prices; the alternate's close is dividend-adjusted and it has no raw close
    ext = extend_in_panel(
        panel, "Z", [("adj", "Z__adj")], overrides={"Z": CloseKind.RAW, "Z__adj": CloseKind.ADJUSTED}
    )
    assert [s["source"] for s in ext.segments] == ["primary"]
    assert len(ext.dates) == 120
    assert ext.refused == [{"source": "adj", "reason": ext.checks[0].reason}]
    assert "raw and adjusted" in ext.refused[0]["reason"] and not ext.checks[0].compared
    # the other way round (adjusted primary, raw-only alternate): refused as well
    ext = extend_in_panel(
        panel, "Z", [("adj", "Z__adj")], overrides={"Z": CloseKind.ADJUSTED, "Z__adj": CloseKind.RAW}
    )
    assert len(ext.dates) == 120 and ext.refused


def test_raw_close_beside_adj_close_is_compared_with_a_raw_primary() -> None:
    d = _dates(100)
    raw = _walk(100, 4)
    adj = raw * np.linspace(0.9, 1.0, 100)  # dividends make adj/raw drift
    panel = _panel({"W": (d, raw), "W__v": (d, raw)}, adj={"W__v": adj})
    prim = series_on_basis(panel, "W", "W", "primary", overrides={"W": CloseKind.RAW})
    assert prim is not None and prim.basis.field == "close"
    other = series_on_basis(panel, "W__v", "W", "v", want=prim.basis.basis, overrides={"W__v": CloseKind.RAW})
    assert other is not None and other.basis.field == "close"  # not its adj_close
    assert cross_check(prim, other, source="v").agrees


def test_no_extension_from_a_source_disagreeing_at_the_end_of_the_overlap() -> None:
    d = _dates(160)
    full = _walk(160, 5)
    alt = full[40:].copy()
    alt[75] *= 1.02  # d[115]: inside the last 20 common bars (d[100..119])
    panel = _panel({"V": (d[:120], full[:120]), "V__x": (d[40:], alt)})
    ext = extend_in_panel(panel, "V", [("x", "V__x")], overrides={"V": CloseKind.RAW, "V__x": CloseKind.RAW})
    assert len(ext.dates) == 120
    assert "disagrees" in ext.refused[0]["reason"] and str(d[115]) in ext.refused[0]["reason"]
    assert str(d[115]) in ext.warnings[0]


def test_extend_prefers_the_source_reaching_furthest() -> None:
    d = _dates(200)
    full = _walk(200, 6)
    prim = series_on_basis(_panel({"U": (d[:100], full[:100])}), "U", "U", "primary")
    assert prim is not None
    a = series_on_basis(_panel({"U__a": (d[50:150], full[50:150])}), "U__a", "U", "a")
    b = series_on_basis(_panel({"U__b": (d[50:], full[50:])}), "U__b", "U", "b")
    ext = extend(prim, {"a": a, "b": b})
    assert [s["source"] for s in ext.segments] == ["primary", "b"]
    assert ext.segments[1]["last"] == str(d[199])


# -- universes count each symbol once; the CLI warning names the sources ---------------------------------------
@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = _dates(300)
    a = _walk(300, 7)
    root = tmp_path / "data"
    _write(root / "prices" / "AAA.csv", d[:260], a[:260])
    bad = a.copy()
    bad[[100, 180]] *= 1.03
    _write(root / "prices" / "alt" / "AAA__mirror.csv", d, bad, ohlc=False)
    _write(root / "prices" / "alt" / "AAA__copy.csv", d[:200], a[:200])
    _write(root / "prices" / "BBB.csv", d, _walk(300, 8))
    _write(root / "stocks" / "CCC.csv", d, _walk(300, 9))
    _write(root / "stocks" / "CCC__other.csv", d, _walk(300, 9))
    return root


def test_sources_cli_warns_naming_the_sources_and_dates(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(
        ["sources", "AAA", "--data", str(data_dir), "--format", "json"], monkeypatch, capsys
    )
    assert code == 0, err
    d = _dates(300)
    flat = " ".join(err.split())
    assert "AAA: sources 'primary' and 'mirror' disagree" in flat
    assert str(d[100]) in flat and str(d[180]) in flat and "2 of 260 common dates" in flat
    rec = json.loads(out)["symbols"][0]
    assert rec["symbol"] == "AAA" and set(rec["alternates"]) == {"mirror", "copy"}
    # 'mirror' disagrees on two dates, but not in the last 20 common bars: it extends AAA to its end
    assert [s["source"] for s in rec["segments"]] == ["primary", "mirror"]
    assert rec["segments"][1]["first"] == str(d[260]) and rec["segments"][1]["last"] == str(d[299])


def test_universes_count_each_symbol_once(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(
        ["scan", "--universe", "all", "--data", str(data_dir), "--since", "all", "--format", "json"],
        monkeypatch,
        capsys,
    )
    assert code == 0, err
    symbols = {e["symbol"] for e in json.loads(out)["events"]}
    assert symbols <= {"AAA", "BBB", "CCC"} and not any("__" in s for s in symbols)
    code, out, err = run_main(
        ["breadth", "--universe", "all", "--data", str(data_dir), "--format", "json"], monkeypatch, capsys
    )
    assert code == 0, err
    assert json.loads(out)["n_symbols"] == 3
    code, out, err = run_main(
        ["breadth", "--universe", "stocks", "--data", str(data_dir), "--format", "json"], monkeypatch, capsys
    )
    assert code == 0, err
    assert json.loads(out)["n_symbols"] == 1


def test_store_universe_counts_each_symbol_once(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "s.duckdb"
    code, out, err = run_main(["ingest", str(data_dir), "--store", str(store)], monkeypatch, capsys)
    assert code == 0, err
    code, out, err = run_main(
        ["scan", "--universe", "all", "--store", str(store), "--since", "all", "--format", "json"],
        monkeypatch,
        capsys,
    )
    assert code == 0, err
    assert not any("__" in e["symbol"] for e in json.loads(out)["events"])
    code, out, err = run_main(
        ["breadth", "--universe", "all", "--store", str(store), "--format", "json"], monkeypatch, capsys
    )
    assert code == 0, err
    assert json.loads(out)["n_symbols"] == 3
    # the store keeps alternates under their file names: --extend finds them there too
    code, out, err = run_main(
        [
            "rotation",
            "--pairs",
            "AAA:BBB",
            "--rrg",
            "",
            "--extend",
            "--store",
            str(store),
            "--format",
            "json",
        ],
        monkeypatch,
        capsys,
    )
    assert code == 0, err
    segs = json.loads(out)["sources"]["AAA"]["segments"]
    assert [s["source"] for s in segs] == ["primary", "mirror"]


def test_report_universe_reader_skips_alternates(data_dir: Path) -> None:
    from capscope.report.loading import read_universe

    panel = read_universe(data_dir / "stocks")
    assert panel is not None and panel.symbols == ("CCC",)


def test_rotation_extend_uses_the_agreeing_source_with_provenance(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    d = _dates(300)
    base = ["rotation", "--pairs", "AAA:BBB", "--rrg", "", "--data", str(data_dir), "--format", "json"]
    code, out, err = run_main(base, monkeypatch, capsys)
    assert code == 0, err
    plain = json.loads(out)
    assert "sources" not in plain and plain["as_of"] == str(d[299])
    code, out, err = run_main([*base, "--extend"], monkeypatch, capsys)
    assert code == 0, err
    ext = json.loads(out)
    segs = ext["sources"]["AAA"]["segments"]
    assert [(s["source"], s["first"], s["last"]) for s in segs] == [
        ("primary", str(d[0]), str(d[259])),
        ("mirror", str(d[260]), str(d[299])),
    ]
    assert any("'primary' and 'mirror' disagree" in w for w in ext["warnings"])
    # the 1M return of AAA now ends on the mirror's last bar and equals the mirror file's own return
    import csv

    text = (data_dir / "prices/alt/AAA__mirror.csv").read_text().splitlines()
    rows = {r["date"]: float(r["close"]) for r in csv.DictReader(text)}
    period = next(p for p in ext["pairs"][0]["returns"] if p["label"] == "1M")
    assert period["end_date"] == str(d[299])
    want = rows[str(d[299])] / rows[period["start_date"]] - 1
    assert period["numerator"] == pytest.approx(want, abs=1e-6)
