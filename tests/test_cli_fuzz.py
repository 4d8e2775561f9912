"""Fuzzing the command line: commands x options x odd values never end in a traceback (issue 15).

Each example runs ``capscope ARGS`` in-process (:func:`capscope.cli.app.run`) against a small generated store and
data directory: options get valid values mixed with odd ones (empty strings, impossible dates such as 2025-02-30,
negative and huge counts, missing files, ``/dev/null``, directories, unknown and misspelled symbols). The exit code
must be one a user can act on (0, 1 for ``verify --strict``, 2 usage, 3 data, 4 store, 5 download) — never 70
(an unexpected error) — and no traceback may be printed. 705 examples in all (550 on the commands of
issue 15's first parts, 155 on study, recon, export, sources, watch and download).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capscope.cli.app import run

from .cli_helpers import build_universe

#: Exit codes a user may see from a fuzzed command (70, an unexpected error, is a failure of the test).
ALLOWED = {0, 1, 2, 3, 4, 5}

_ROOT = Path(tempfile.mkdtemp(prefix="capscope-fuzz-"))
atexit.register(shutil.rmtree, _ROOT, True)
_DATA, _STORE = build_universe(_ROOT)
_DIR = _ROOT / "a-directory"
_DIR.mkdir()
_TEXT = _ROOT / "notes.txt"
_TEXT.write_text("AAA\nBBB\n")
_BAD_UNIVERSE = _ROOT / "bad-universe.txt"
_BAD_UNIVERSE.write_text("# nothing but a comment\n")
_MISSING = _ROOT / "missing" / "nothing.csv"
#: A recon universe table (written on first use: generating it takes seconds).
_UNIVERSE = _ROOT / "recon-universe.csv"

ODD = (
    "",
    " ",
    "2025-02-30",
    "2025-13-01",
    "yesterday",
    "2030-01-01",
    "1900-01-01",
    "-1",
    "0",
    "999999999",
    "nan",
    "/dev/null",
    str(_DIR),
    str(_MISSING),
    str(_TEXT),
    "AAX",
    "aaa",
    "NOPE",
    ",",
    ":",
    "AAA:",
    "=",
    "--",
    "é",
)
DATES = ("2024-06-28", "2025-01-02", "2025-12-31")
SYMBOLS = ("AAA", "BBB", "GRW", "VAL", "S01", "AAA,BBB", "AAA")
STORES = (str(_STORE), str(_STORE), str(_ROOT / "none.duckdb"), "/dev/null", str(_DIR), str(_TEXT))
DATAS = (str(_DATA), str(_DIR), str(_MISSING), "/dev/null")

#: Per command: positional argument pools (each one drawn), options -> value pools (None: a flag).
COMMANDS: dict[str, tuple[tuple[tuple[str, ...], ...], dict[str, tuple[str, ...] | None]]] = {
    "show": ((SYMBOLS,), {"--as-of": DATES, "--rows": ("3", "1"), "--store": STORES, "--wide": None}),
    "overview": ((), {"-s": SYMBOLS, "--as-of": DATES, "--store": STORES, "--wide": None}),
    "symbols": ((), {"--format": ("table", "json", "csv", "tabel"), "--store": STORES, "--wide": None}),
    "scan": (
        (SYMBOLS,),
        {
            "--universe": ("all", str(_TEXT), str(_BAD_UNIVERSE)),
            "--as-of": DATES,
            "--since": (*DATES, "all"),
            "--kinds": ("ma_cross", "macd,rsi", "breakouts", "golden_crosss"),
            "--format": ("table", "json", "csv", "xml"),
            "--limit": ("0", "5"),
            "--data": DATAS,
            "--store": STORES,
            "--wide": None,
        },
    ),
    "patterns": (
        (SYMBOLS,),
        {
            "--as-of": DATES,
            "--status": ("forming", "confirmed,failed", "brokn"),
            "--mode": ("chartist", "lmw", "lwm"),
            "--kinds": ("double_bottom", "inverse_head_and_shoulders", "cup"),
            "--since": DATES,
            "--all": None,
            "--min-quality": ("0.5", "1.5", "-0.1"),
            "--format": ("table", "json"),
            "--data": DATAS,
            "--store": STORES,
        },
    ),
    "rotation": (
        (),
        {
            "--as-of": DATES,
            "--pairs": ("AAA:BBB", "GRW:VAL,AAA:BBB", "AAA:BBB", "AAA:AAX", "AAA"),
            "--rrg": ("", "GRW,VAL", "GRW"),
            "--benchmark": ("BBB", "AAA", "NOPE"),
            "--rrg-window": ("14", "2", "1"),
            "--tail": ("8", "1"),
            "--since": DATES,
            "--events": ("3", "0"),
            "--basis": ("AAA=raw", "AAA=weird", "AAA", "BBB=price_index"),
            "--format": ("table", "json", "yaml"),
            "--data": DATAS,
            "--store": STORES,
        },
    ),
    "breadth": (
        (),
        {
            "--universe": ("stocks", "all", str(_TEXT), str(_BAD_UNIVERSE), "stonks"),
            "--as-of": DATES,
            "--rows": ("3", "1"),
            "--tail": ("0", "5"),
            "--high-low": None,
            "--plain-net": None,
            "--format": ("table", "json"),
            "--data": DATAS,
            "--store": STORES,
        },
    ),
    "verify": (
        ((str(_ROOT / "claims.yaml"), str(_TEXT), str(_MISSING), "/dev/null", str(_DIR)),),
        {"--as-of": DATES, "--json": None, "--strict": None, "--data": DATAS, "--store": STORES},
    ),
    "doctor": ((), {"--data": DATAS, "--store": STORES}),
    "ingest": (
        ((str(_DATA / "prices" / "AAA.csv"), str(_DATA / "stocks"), str(_TEXT), str(_MISSING), "/dev/null"),),
        {"--repair": None, "--data": DATAS},
    ),
    # -- commands added after issue 15's first parts (study, recon, export, sources, watch, download) --
    "study": (
        (
            (
                "golden_cross",
                "macd_bullish_cross:above_zero=true",
                "rsi_oversold",
                "golden_cros",
                "ma_cross:ma=x",
            ),
        ),
        {
            "--symbols": SYMBOLS,
            "--universe": ("all", str(_TEXT), str(_BAD_UNIVERSE)),
            "--horizons": ("5,21", "1", "0", "5,,21", "x"),
            "--since": DATES,
            "--as-of": DATES,
            "--entry": ("close", "next_open", "tomorrow"),
            "--baseline": ("all", "regime", "none"),
            "--seed": ("1", "7"),
            "--block-length": ("3", "0", "-2"),
            "--format": ("table", "json", "csv"),
            "--data": DATAS,
            "--store": STORES,
        },
    ),
    "recon calendar": (
        (("2026", "2025", "2027", "1990", "3000", "abc"),),
        {"--calendar": (str(_TEXT), str(_MISSING), str(_DIR)), "--format": ("table", "json", "txt")},
    ),
    "recon run": (
        ((str(_UNIVERSE), str(_TEXT), str(_MISSING), str(_DIR)),),
        {
            "--rank-date": (*DATES, "2024-04-30"),
            "--indexed-assets": ("1e9", "0", "-5", "nan"),
            "--indexed-assets-r1000": ("1e10", "-1"),
            "--reconstitution": ("june", "december", "july"),
            "--no-banding": None,
            "--adv-window": ("20", "0", "-3"),
            "--rows": ("5", "0"),
            "--store": STORES,
            "--format": ("table", "json"),
            "--wide": None,
        },
    ),
    "export parquet": ((), {"--store": STORES, "--symbols-per-file": ("1", "3", "0", "-2")}),
    "sources": (
        (SYMBOLS,),
        {
            "--tolerance": ("0.001", "0", "-1", "nan"),
            "--min-overlap": ("20", "0", "-1"),
            "--basis": ("AAA=raw", "AAA=weird"),
            "--format": ("table", "json", "xml"),
            "--data": DATAS,
        },
    ),
    "watch": (
        (),
        {
            "--data": DATAS,
            "--universe": (str(_TEXT), str(_BAD_UNIVERSE), str(_MISSING)),
            "--alerts": (str(_ROOT / "alerts.jsonl"), str(_DIR), "/dev/null"),
            "--exec": ("true", "false", "exit 3"),
        },
    ),
    "download": (
        (("AAA", "^RUT", "BBB", "AAA,BBB"),),
        {"--universe": (str(_TEXT), str(_BAD_UNIVERSE)), "--since": DATES},
    ),
}

#: Arguments every example of a command starts with (later options override them): rotation's defaults name
#: symbols the generated store does not hold.
BASE = {
    "rotation": ["--pairs", "AAA:BBB", "--rrg", ""],
    "study": ["--draws", "99", "--symbols", "AAA,BBB"],
    "watch": ["--once", "--interval", "0"],
    # no network: the chart endpoint is a closed loopback port, one attempt, no delay
    "download": ["--attempts", "1", "--delay", "0", "--timeout", "2"],
}

#: Commands that write: each example gets its own output (appended last, so it overrides a drawn value).
WRITES = {
    "ingest": lambda tmp: ["--store", str(tmp / "fuzz.duckdb")],
    "export parquet": lambda tmp: ["--out", str(tmp / "parquet")],
    "watch": lambda tmp: ["--store", str(shutil.copy(_STORE, tmp / "watch.duckdb"))],
    "download": lambda tmp: ["--data", str(tmp / "downloads")],
}

#: Examples per command (705 in all with the brief's).
EXAMPLES = {
    "show": 60,
    "overview": 60,
    "symbols": 50,
    "scan": 50,
    "patterns": 60,
    "rotation": 70,
    "breadth": 60,
    "verify": 50,
    "doctor": 40,
    "ingest": 40,
    "study": 30,
    "recon calendar": 25,
    "recon run": 20,
    "export parquet": 20,
    "sources": 25,
    "watch": 20,
    "download": 15,
}


def _value(pool: tuple[str, ...]) -> st.SearchStrategy[str]:
    """A valid value three times in four, an odd one otherwise (so that whole commands also succeed)."""
    return st.integers(0, 3).flatmap(lambda k: st.sampled_from(ODD if k == 0 else pool))


@st.composite
def argv(draw: st.DrawFn, command: str) -> list[str]:
    positionals, options = COMMANDS[command]
    args = [*command.split(), *BASE.get(command, [])]
    for pool in positionals:
        args.append(draw(_value(pool)))
    chosen = draw(st.lists(st.sampled_from(sorted(options)), max_size=4, unique=True))
    for name in chosen:
        pool = options[name]
        if pool is None:
            args.append(name)
        else:
            args += [name, draw(_value(pool))]
    return args


@pytest.fixture(autouse=True)
def _generated_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands without --data/--store read the generated store (named by CAPSCOPE_STORE), never the sample."""
    monkeypatch.setenv("CAPSCOPE_DATA", str(_DATA))
    monkeypatch.setenv("CAPSCOPE_STORE", str(_STORE))
    monkeypatch.setenv("CAPSCOPE_CHART_URL", "http://127.0.0.1:9/{symbol}?p1={period1}&p2={period2}")
    if not _UNIVERSE.exists():
        from capscope.analytics.reconstitution.synthetic import synthetic_universe

        synthetic_universe(3000, seed=0).write_csv(_UNIVERSE)


def _check(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code = run(args)
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text, (args, text)
    assert code in ALLOWED, (args, code, text)
    if code != 0:
        assert out.err.strip(), (args, "a failing command must say why on stderr")


def _fuzz(command: str):  # type: ignore[no-untyped-def]
    @settings(
        max_examples=EXAMPLES[command],
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(args=argv(command))
    def test(args: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        if command in WRITES:  # each example writes into an output of its own
            args = [*args, *WRITES[command](Path(tempfile.mkdtemp(dir=tmp_path)))]
        _check(args, capsys)

    test.__name__ = f"test_fuzz_{command.replace(' ', '_')}"
    return test


test_fuzz_show = _fuzz("show")
test_fuzz_overview = _fuzz("overview")
test_fuzz_symbols = _fuzz("symbols")
test_fuzz_scan = _fuzz("scan")
test_fuzz_patterns = _fuzz("patterns")
test_fuzz_rotation = _fuzz("rotation")
test_fuzz_breadth = _fuzz("breadth")
test_fuzz_verify = _fuzz("verify")
test_fuzz_doctor = _fuzz("doctor")
test_fuzz_ingest = _fuzz("ingest")
test_fuzz_study = _fuzz("study")
test_fuzz_recon_calendar = _fuzz("recon calendar")
test_fuzz_recon_run = _fuzz("recon run")
test_fuzz_export_parquet = _fuzz("export parquet")
test_fuzz_sources = _fuzz("sources")
test_fuzz_watch = _fuzz("watch")
test_fuzz_download = _fuzz("download")


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    as_of=st.sampled_from((None, *DATES, *ODD)),
    symbol=st.sampled_from(("AAA", "AAX", "", "BBB")),
    store=st.sampled_from(STORES),
)
def test_fuzz_brief(as_of: str | None, symbol: str, store: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["brief", "--symbol", symbol, "--benchmark", "BBB", "--growth", "GRW", "--value", "VAL"]
    args += ["--out", str(_ROOT / "brief-out"), "--store", store]
    if as_of is not None:
        args += ["--as-of", as_of]
    _check(args, capsys)
