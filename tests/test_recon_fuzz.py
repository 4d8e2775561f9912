"""Fuzzing ``capscope recon``: options x odd values never end in a traceback or an unexpected error (exit 70).

The conventions of tests/test_cli_fuzz.py (issue 15): valid values three times in four, odd ones otherwise (empty
strings, impossible dates, negative or non-finite amounts, missing files, ``/dev/null``, directories, a text file);
exit codes only 0, 2, 3, 4; a failing command says why on stderr.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capscope.analytics.reconstitution.synthetic import synthetic_universe
from capscope.cli.app import run

ALLOWED = {0, 2, 3, 4}

_ROOT = Path(tempfile.mkdtemp(prefix="capscope-recon-fuzz-"))
atexit.register(shutil.rmtree, _ROOT, True)
_TABLE = synthetic_universe(seed=1).head(80)
_CSV = _ROOT / "u.csv"
_TABLE.write_csv(_CSV)
_NO_ADV = _ROOT / "u-no-adv.csv"
_TABLE.drop("adv").write_csv(_NO_ADV)
_PARQUET = _ROOT / "u.parquet"
_TABLE.write_parquet(_PARQUET)
_DIR = _ROOT / "a-directory"
_DIR.mkdir()
_TEXT = _ROOT / "notes.txt"
_TEXT.write_text("AAA\nBBB\n")
_CAL = _ROOT / "cal.toml"
_CAL.write_text(
    '[[dates]]\nyear = 2026\nreconstitution = "december"\nfield = "effective"\ndate = 2026-12-18\n'
)
_BAD_CAL = _ROOT / "bad.toml"
_BAD_CAL.write_text('[[dates]]\nyear = 2026\nreconstitution = "november"\n')
_MISSING = _ROOT / "missing" / "nothing.csv"

ODD = ("", " ", "2025-02-30", "2026-13-01", "yesterday", "-1", "0", "nan", "inf", "/dev/null", str(_DIR),
       str(_MISSING), str(_TEXT), "é", "--")  # fmt: skip
FILES = (str(_CSV), str(_CSV), str(_NO_ADV), str(_PARQUET))
OPTIONS: dict[str, tuple[str, ...] | None] = {
    "--rank-date": ("2026-04-30", "2026-10-30", "2025-04-30", "2024-06-01"),
    "--reconstitution": ("june", "december"),
    "--indexed-assets": ("2e11", "0", "1e9"),
    "--indexed-assets-r1000": ("5e12", "0"),
    "--adv-window": ("20", "1", "5"),
    "--rows": ("5", "1"),
    "--calendar": (str(_CAL), str(_BAD_CAL)),
    "--store": (str(_ROOT / "none.duckdb"), str(_TEXT), str(_DIR)),
    "--format": ("table", "json"),
    "--no-banding": None,
    "--wide": None,
}


def _value(pool: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.integers(0, 3).flatmap(lambda k: st.sampled_from(ODD if k == 0 else pool))


@st.composite
def run_argv(draw: st.DrawFn) -> list[str]:
    args = ["recon", "run", draw(_value(FILES))]
    for name in draw(st.lists(st.sampled_from(sorted(OPTIONS)), max_size=5, unique=True)):
        pool = OPTIONS[name]
        args += [name] if pool is None else [name, draw(_value(pool))]
    return args


@st.composite
def calendar_argv(draw: st.DrawFn) -> list[str]:
    args = ["recon", "calendar", draw(_value(("2026", "2023..2027", "1990..2000")))]
    if draw(st.booleans()):
        args += ["--calendar", draw(_value((str(_CAL), str(_BAD_CAL))))]
    if draw(st.booleans()):
        args += ["--format", draw(_value(("table", "json")))]
    return args


def _check(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code = run(args)
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text, (args, text)
    assert code in ALLOWED, (args, code, text)
    if code != 0:
        assert out.err.strip(), (args, "a failing command must say why on stderr")


_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_SETTINGS
@given(args=run_argv())
def test_fuzz_recon_run(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    _check(args, capsys)


@_SETTINGS
@given(args=calendar_argv())
def test_fuzz_recon_calendar(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    _check(args, capsys)
