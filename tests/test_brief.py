"""The brief on the sample data: determinism, as-of invariance, numbers traced to brief.json, page size, CLI."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from capscope.report.brief import BriefParams, build_brief
from capscope.report.html import render_html
from capscope.report.jsonio import dumps
from capscope.report.loading import load_from_files
from capscope.report.markdown import render_markdown

pytestmark = pytest.mark.sample

SYMBOLS = ["RUT", "GSPC", "IWO", "IWN"]
N_STOCKS = 40


def _copy_data(sample: Path, dest: Path, as_of: str | None) -> Path:
    """Copy the brief's price files and a few stocks, keeping only rows dated on or before ``as_of``."""
    for sub, names in (("prices", [f"{s}.csv" for s in SYMBOLS]), ("stocks", None)):
        src = sample / sub
        files = [src / n for n in names] if names else sorted(src.glob("*.csv"))[:N_STOCKS]
        (dest / sub).mkdir(parents=True, exist_ok=True)
        for f in files:
            if as_of is None:
                shutil.copyfile(f, dest / sub / f.name)
                continue
            lines = f.read_text().splitlines()
            kept = [lines[0]] + [ln for ln in lines[1:] if ln[:10] <= as_of]
            (dest / sub / f.name).write_text("\n".join(kept) + "\n")
    return dest


@pytest.fixture(scope="module")
def full_dir(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy_data(sample_dir, tmp_path_factory.mktemp("full"), None)


@pytest.fixture(scope="module")
def brief_2025(full_dir: Path) -> dict[str, Any]:
    return build_brief(load_from_files(full_dir, SYMBOLS, None), BriefParams(), "2025-12-31")


def _without_provenance(brief: dict[str, Any]) -> str:
    return dumps({k: v for k, v in brief.items() if k != "data"})


@pytest.mark.parametrize("as_of", ["2024-08-05", "2025-06-06", "2025-12-24"])
def test_as_of_invariance(full_dir: Path, sample_dir: Path, tmp_path: Path, as_of: str) -> None:
    cut = _copy_data(sample_dir, tmp_path / "cut", as_of)
    full = build_brief(load_from_files(full_dir, SYMBOLS, None), BriefParams(), as_of)
    trunc = build_brief(load_from_files(cut, SYMBOLS, None), BriefParams(), as_of)
    assert full["as_of"] == trunc["as_of"] <= as_of
    assert _without_provenance(full) == _without_provenance(trunc)
    # the data really differed: the full copy has bars after as_of
    last_full = {d["symbol"]: d["last_date"] for d in full["data"]["symbols"]}
    assert last_full["RUT"] > as_of


def test_before_the_data_sections_say_not_available(full_dir: Path) -> None:
    brief = build_brief(load_from_files(full_dir, SYMBOLS, None), BriefParams(), "1995-01-03")
    by_id = {f["id"]: f for f in brief["facts"]}
    for fid in ("growth_value.not_available", "breadth.not_available"):
        assert by_id[fid]["unit"] == "not_available" and by_id[fid]["value"] is None
        assert "1995-01-03" in by_id[fid]["text"]
    assert "technical.close" in by_id  # RUT has data then
    assert "is not available" in render_markdown(brief)


def test_deterministic_bytes(full_dir: Path, brief_2025: dict[str, Any]) -> None:
    again = build_brief(load_from_files(full_dir, SYMBOLS, None), BriefParams(), "2025-12-31")
    assert dumps(again) == dumps(brief_2025)
    assert render_markdown(again) == render_markdown(brief_2025)


def test_layout_and_sections(brief_2025: dict[str, Any]) -> None:
    b = brief_2025
    for key in (
        "as_of",
        "data",
        "facts",
        "events",
        "patterns",
        "rotation",
        "breadth",
        "reconstitution",
        "studies",
    ):
        assert key in b
    ids = [f["id"] for f in b["facts"]]
    assert len(ids) == len(set(ids))
    for fact in b["facts"]:
        assert set(fact) == {"id", "section", "text", "value", "unit", "inputs"}
        assert fact["text"].strip()
    # every section has facts and none of them is a missing-module placeholder
    for section in b["sections"]:
        assert section["facts"], section["id"]
    assert not [f for f in b["facts"] if f["id"].endswith("not_available")]
    by_id = {f["id"]: f for f in b["facts"]}
    # RUT 2025-12-31 close 2,481.91 (SOURCES.md reference value)
    assert by_id["technical.close"]["value"] == 2481.91
    assert by_id["growth_value.basis"]["value"] == "same"


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUM = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?")


def _json_leaves(obj: Any, skip_text: bool = True) -> tuple[list[float], set[str]]:
    numbers: list[float] = []
    strings: set[str] = set()

    def walk(x: Any, key: str = "") -> None:
        if isinstance(x, dict):
            for k, v in x.items():
                walk(v, k)
        elif isinstance(x, list):
            for v in x:
                walk(v, key)
        elif isinstance(x, bool) or x is None:
            return
        elif isinstance(x, int | float):
            numbers.append(float(x))
        elif isinstance(x, str) and not (skip_text and key in ("text", "title")):
            strings.add(x)

    walk(obj)
    return numbers, strings


def test_every_markdown_number_is_in_the_json(brief_2025: dict[str, Any]) -> None:
    """Dates in brief.md are strings of brief.json; every other number is a numeric value of brief.json (fact
    values, inputs, tables, records) or a number inside a non-sentence string (a period label such as ``12M``)."""
    parsed = json.loads(dumps(brief_2025))
    md = render_markdown(parsed)
    numbers, strings = _json_leaves(parsed)
    dates_in_json = {d for s in strings for d in _DATE.findall(s)}
    label_numbers = {float(n) for s in strings for n in re.findall(r"\d+(?:\.\d+)?", _DATE.sub(" ", s))}
    pool = {abs(round(x, 6)) for x in numbers} | label_numbers
    missing = []
    for d in _DATE.findall(md):
        if d not in dates_in_json:
            missing.append(d)
    for token in _NUM.findall(_DATE.sub(" ", md)):
        value = abs(float(token.replace(",", "").lstrip("+")))
        decimals = len(token.split(".")[1]) if "." in token else 0
        if not any(abs(round(x, decimals) - value) < 1e-9 for x in pool):
            missing.append(token)
    assert missing == []


def test_fact_values_are_the_printed_numbers(brief_2025: dict[str, Any]) -> None:
    """A numeric fact value appears in its own sentence (as printed, thousands separators included)."""
    for fact in brief_2025["facts"]:
        v = fact["value"]
        if isinstance(v, bool) or not isinstance(v, int | float):
            continue
        text = fact["text"].replace(",", "")
        if isinstance(v, int):
            assert re.search(rf"(?<![\d.]){v}(?![\d])", text), fact["id"]
        else:
            assert f"{abs(v):.2f}".rstrip("0").rstrip(".") in text or f"{abs(v)}" in text, fact["id"]


def test_html_budget_and_offline(brief_2025: dict[str, Any]) -> None:
    from capscope.report.assets import plotly_js

    html = render_html(brief_2025)
    assert len(html.encode("utf-8")) < 5_000_000
    # outside the pinned plotly bundle (whose modebar holds a link a user may click) nothing points outside
    ours = html.replace(plotly_js().source, "")
    assert len(ours) < len(html)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", ours)
    assert "<link" not in ours and "@import" not in ours and "url(" not in ours


def test_cli_brief_writes_three_files(full_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from capscope.cli.app import app

    out = tmp_path / "out"
    res = CliRunner().invoke(
        app, ["brief", "--data", str(full_dir), "--as-of", "2025-06-30", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "brief.html" in res.output
    brief = json.loads((out / "brief.json").read_text())
    assert brief["as_of"] == "2025-06-30"
    assert (out / "brief.md").read_text().startswith("# capscope brief: RUT as of 2025-06-30")
    assert (out / "brief.html").stat().st_size < 5_000_000


def test_cli_brief_unknown_symbol_is_a_clean_error(full_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from capscope.cli.app import app

    res = CliRunner().invoke(
        app, ["brief", "--data", str(full_dir), "--symbol", "NOPE", "--out", str(tmp_path)]
    )
    assert res.exit_code != 0
    assert isinstance(res.exception, Exception) and "NOPE" in str(res.exception)
    assert not isinstance(res.exception, (KeyError, IndexError, AttributeError))


def test_store_and_files_give_the_same_brief(full_dir: Path, tmp_path: Path) -> None:
    """`capscope ingest` then `capscope brief --store` says the same as reading the files (provenance aside)."""
    from typer.testing import CliRunner

    from capscope.cli.app import app

    store = tmp_path / "s.duckdb"
    runner = CliRunner()
    res = runner.invoke(app, ["ingest", str(full_dir), "--store", str(store)])
    assert res.exit_code == 0, res.output
    outs = {}
    for how, args in (("store", ["--store", str(store)]), ("files", ["--data", str(full_dir)])):
        out = tmp_path / how
        res = runner.invoke(app, ["brief", "--as-of", "2025-07-08", "--out", str(out), *args])
        assert res.exit_code == 0, res.output
        outs[how] = json.loads((out / "brief.json").read_text())
    assert outs["store"]["data"]["origin"].startswith("store")
    assert outs["files"]["data"]["origin"].startswith("files")
    assert _without_provenance(outs["store"]) == _without_provenance(outs["files"])
    by_id = {f["id"]: f for f in outs["store"]["facts"]}
    assert by_id["provenance.universe"]["value"] == N_STOCKS  # the stocks folder became the breadth universe


def test_every_markdown_sentence_is_a_fact(brief_2025: dict[str, Any]) -> None:
    """brief.md holds headings, table rows and bullets; every bullet is exactly one fact's text, in order."""
    md = render_markdown(brief_2025)
    bullets = [ln[2:] for ln in md.splitlines() if ln.startswith("- ")]
    other = [ln for ln in md.splitlines() if ln and not ln.startswith(("- ", "#", "|"))]
    assert other == []
    order = [fid for s in brief_2025["sections"] for fid in s["facts"]]
    by_id = {f["id"]: f for f in brief_2025["facts"]}
    assert bullets == [by_id[fid]["text"] for fid in order]
    assert sorted(order) == sorted(by_id)  # every fact is shown exactly once
