"""Claim-file schema: a corpus of malformed files (each refused with exit code 2, one message naming the line,
the claim, the key and the bad value, no traceback), the JSON Schema export, and the docs' copy of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capscope.claims import schema as S
from capscope.cli.app import app
from capscope.errors import UsageError
from tests.cli_helpers import run_main

REPO = Path(__file__).resolve().parents[1]

# A valid claim of each kind (lines 3-9 / 10-16 of the file built by _file()).
LEVEL = """\
  - id: rut-break
    kind: level_breakout
    symbol: RUT
    level: 2110
    direction: above
    start: 2025-04-09
    end: 2025-12-31
"""
PAIR = """\
  - id: growth-beats-value
    kind: outperformance
    symbol: IWO
    versus: IWN
    approx_ratio: 2.0
    start: 2024-12-31
    end: 2025-12-31
"""


def _file(*claims: str, head: str = "as_of: 2025-12-31\nclaims:\n") -> str:
    return head + "".join(claims)


def _sub(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# (case id, file text, substrings the one message must hold). Line numbers are of the file as written.
CASES: list[tuple[str, str, list[str]]] = [
    (
        "misspelt-direction",
        _file(_sub(LEVEL, "direction: above", "direction: abvoe")),
        [":7:", "claim rut-break", "'direction'", "'abvoe'", "valid: above, below", "did you mean 'above'"],
    ),
    (
        "misspelt-optional-key",
        _file(_sub(PAIR, "approx_ratio: 2.0", "aprox_ratio: 2.0")),
        [":7:", "claim growth-beats-value", "unknown key 'aprox_ratio'", "did you mean 'approx_ratio'"],
    ),
    (
        "misspelt-required-key",
        _file(_sub(LEVEL, "level: 2110", "levle: 2110")),
        [":6:", "claim rut-break", "'levle'", "missing required key 'level'", "did you mean 'level'"],
    ),
    (
        "month-13",
        _file(_sub(LEVEL, "start: 2025-04-09", "start: 2025-13-01")),
        [":8:", "'start'", "2025-13-01"],
    ),
    ("day-32", _file(_sub(LEVEL, "end: 2025-12-31", "end: 2025-12-32")), [":9:", "'end'", "2025-12-32"]),
    ("feb-30", _file(_sub(LEVEL, "end: 2025-12-31", "end: 2025-02-30")), [":9:", "'end'", "2025-02-30"]),
    (
        "date-words",
        _file(_sub(LEVEL, "start: 2025-04-09", "start: last spring")),
        [":8:", "'start'", "last spring"],
    ),
    ("date-us-format", _file(_sub(LEVEL, "start: 2025-04-09", "start: 04/09/2025")), [":8:", "04/09/2025"]),
    (
        "date-number",
        _file(_sub(LEVEL, "start: 2025-04-09", "start: 20250409")),
        [":8:", "'start'", "20250409"],
    ),
    ("date-time", _file(_sub(LEVEL, "start: 2025-04-09", "start: 2025-04-09 10:00:00")), [":8:", "'start'"]),
    (
        "start-after-end",
        _file(_sub(LEVEL, "start: 2025-04-09", "start: 2026-01-09")),
        [":9:", "'end'", "end 2025-12-31 is before start 2026-01-09"],
    ),
    (
        "negative-tolerance",
        _file(_sub(LEVEL, "level: 2110", "level: 2110\n    tolerance: -0.02")),
        [":7:", "-0.02"],
    ),
    (
        "tolerance-without-approx",
        _file(_sub(PAIR, "approx_ratio: 2.0", "ratio_at_least: 2.0\n    tolerance: 0.1")),
        [":8:", "'tolerance'", "approx_ratio"],
    ),
    (
        "tolerance-too-big",
        _file(_sub(LEVEL, "level: 2110", "level: 2110\n    tolerance: 5")),
        [":7:", "tolerance"],
    ),
    ("level-string", _file(_sub(LEVEL, "level: 2110", 'level: "2110"')), [":6:", "'level'", "'2110'"]),
    ("level-negative", _file(_sub(LEVEL, "level: 2110", "level: -5")), [":6:", "'level'", "-5"]),
    ("level-bool", _file(_sub(LEVEL, "level: 2110", "level: yes")), [":6:", "'level'", "true"]),
    ("level-list", _file(_sub(LEVEL, "level: 2110", "level: [2110, 2120]")), [":6:", "'level'"]),
    (
        "unknown-kind",
        _file(_sub(LEVEL, "kind: level_breakout", "kind: level_breakthrough")),
        [":4:", "'kind'", "'level_breakthrough'", "did you mean 'level_breakout'"],
    ),
    (
        "missing-kind",
        _file(_sub(LEVEL, "    kind: level_breakout\n", "")),
        [":3:", "missing required key 'kind'"],
    ),
    ("missing-symbol", _file(_sub(LEVEL, "    symbol: RUT\n", "")), [":3:", "claim rut-break", "'symbol'"]),
    (
        "missing-end",
        _file(_sub(LEVEL, "    end: 2025-12-31\n", "")),
        ["claim rut-break", "missing required key 'end'"],
    ),
    ("symbol-number", _file(_sub(LEVEL, "symbol: RUT", "symbol: 2000")), [":5:", "'symbol'", "2000"]),
    ("symbol-spaces", _file(_sub(LEVEL, "symbol: RUT", "symbol: Russell 2000")), [":5:", "'Russell 2000'"]),
    (
        "macd-zero-typo",
        _file(
            "  - id: m\n    kind: macd_cross\n    symbol: RUT\n    zero: abov\n"
            "    start: 2025-04-09\n    end: 2025-12-31\n"
        ),
        [":6:", "claim m", "'zero'", "'abov'", "valid: above, below, any", "did you mean 'above'"],
    ),
    (
        "macd-fast-float",
        _file(
            "  - id: m\n    kind: macd_cross\n    symbol: RUT\n    fast: 12.5\n    start: 2025-04-09\n    end: 2025-12-31\n"
        ),
        [":6:", "'fast'", "12.5"],
    ),
    (
        "macd-fast-not-below-slow",
        _file(
            "  - id: m\n    kind: macd_cross\n    symbol: RUT\n    fast: 30\n    start: 2025-04-09\n    end: 2025-12-31\n"
        ),
        [":6:", "claim m", "'fast'", "must be longer than fast (30)"],
    ),
    (
        "ma-cross-typo",
        _file(
            "  - id: g\n    kind: ma_cross\n    symbol: RUT\n    cross: goldn\n    start: 2025-04-09\n    end: 2025-12-31\n"
        ),
        [":6:", "'cross'", "'goldn'", "did you mean 'golden'"],
    ),
    (
        "ma-window-on-golden",
        _file(
            "  - id: g\n    kind: ma_cross\n    symbol: RUT\n    window: 50\n    start: 2025-04-09\n    end: 2025-12-31\n"
        ),
        [":6:", "'window'", "golden"],
    ),
    (
        "ma-kind-typo",
        _file(
            "  - id: g\n    kind: ma_cross\n    symbol: RUT\n    ma: smaa\n    start: 2025-04-09\n    end: 2025-12-31\n"
        ),
        [":6:", "'ma'", "'smaa'", "valid: sma, ema"],
    ),
    (
        "pattern-kind-typo",
        _file(
            "  - id: p\n    kind: pattern\n    symbol: RUT\n    pattern: inverse_head_shoulders\n"
            "    start: 2025-04-09\n    end: 2025-12-31\n"
        ),
        [":6:", "'pattern'", "did you mean 'inverse_head_and_shoulders'"],
    ),
    (
        "pattern-status-item-typo",
        _file(
            "  - id: p\n    kind: pattern\n    symbol: RUT\n    pattern: double_bottom\n"
            "    status:\n      - confirmed\n      - targetreached\n    start: 2025-04-09\n    end: 2025-12-31\n"
        ),
        [":9:", "'status'", "'targetreached'", "did you mean 'target_reached'"],
    ),
    (
        "lagging-share-over-one",
        _file(
            "  - id: l\n    kind: lagging\n    symbol: RUT\n    versus: GSPC\n    share_at_least: 50\n"
            "    start: 2025-01-01\n    end: 2025-12-31\n"
        ),
        [":7:", "'share_at_least'", "50"],
    ),
    ("versus-self", _file(_sub(PAIR, "versus: IWN", "versus: IWO")), [":6:", "'versus'", "own symbol"]),
    (
        "ratio-bounds-crossed",
        _file(_sub(PAIR, "approx_ratio: 2.0", "ratio_at_least: 3\n    ratio_at_most: 2")),
        [":8:", "'ratio_at_most'"],
    ),
    (
        "duplicate-key",
        _file(_sub(LEVEL, "level: 2110", "level: 2110\n    level: 2200")),
        [":7:", "'level'", "twice", "line 6"],
    ),
    ("duplicate-id", _file(LEVEL, LEVEL), [":10:", "'id'", "'rut-break' is used twice"]),
    ("claim-not-mapping", _file("  - just a sentence\n"), [":3:", "claim 1", "mapping", "'just a sentence'"]),
    ("claims-not-list", "claims:\n  id: x\n  kind: lagging\n", [":2:", "'claims'"]),
    ("claims-empty-list", "claims: []\n", [":1:", "'claims'"]),
    (
        "no-claims-key",
        "as_of: 2025-12-31\nclaim:\n" + LEVEL,
        [":2:", "unknown key 'claim'", "did you mean 'claims'"],
    ),
    (
        "top-unknown-key",
        _file(LEVEL, head="as_of: 2025-12-31\nasof: 2025-12-30\nclaims:\n"),
        [":2:", "'asof'"],
    ),
    ("as-of-invalid", _file(LEVEL, head="as_of: 2025-02-29\nclaims:\n"), [":1:", "'as_of'", "2025-02-29"]),
    ("yaml-unclosed-bracket", "claims: [\n  - a\n", [":2:", "not valid YAML"]),
    ("yaml-bad-indent", "claims:\n  - id: a\n   kind: lagging\n", ["not valid YAML", ":3:"]),
    ("yaml-tab", "claims:\n\t- id: a\n", ["not valid YAML", ":2:"]),
    ("yaml-python-tag", "claims: !!python/object:os.system {}\n", ["not valid YAML", ":1:"]),
    ("empty-file", "", ["the file is empty"]),
    ("comments-only", "# nothing here\n", ["the file is empty"]),
    ("top-level-list", "- a\n- b\n", [":1:", "expected a mapping with a 'claims' list", "a list"]),
    ("top-level-scalar", "just text\n", [":1:", "expected a mapping", "'just text'"]),
]


@pytest.mark.parametrize(("text", "needles"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_claims_file_is_refused_with_the_line(
    tmp_path: Path,
    text: str,
    needles: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "claims.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as info:
        S.load_claims(path)
    message = str(info.value)
    assert str(path) in message
    for needle in needles:
        assert needle in message, f"{needle!r} not in:\n{message}"
    # the same through the console entry point: exit code 2, one message, no traceback, the data is never read
    code, out, err = run_main(["verify", str(path), "--data", str(tmp_path / "nothing")], monkeypatch, capsys)
    assert code == 2, (out, err)
    assert "Traceback" not in out + err and out == ""
    assert err.startswith("error: invalid claims file") and needles[0] in err.replace("\n", "")


def test_corpus_size() -> None:
    assert len(CASES) >= 30


def test_every_problem_of_a_file_in_one_message(tmp_path: Path) -> None:
    path = tmp_path / "claims.yaml"
    text = _file(
        _sub(LEVEL, "direction: above", "direction: abvoe"),
        _sub(PAIR, "approx_ratio: 2.0", "aprox_ratio: 2.0"),
    )
    path.write_text(text)
    with pytest.raises(UsageError) as info:
        S.load_claims(path)
    lines = str(info.value).splitlines()
    assert "(2 problems)" in lines[0]
    assert lines[1].strip().startswith(f"{path}:7: claim rut-break: key 'direction'")
    assert lines[2].strip().startswith(f"{path}:14: claim growth-beats-value: unknown key 'aprox_ratio'")


def test_valid_file_and_defaults(tmp_path: Path) -> None:
    path = tmp_path / "claims.yaml"
    path.write_text(
        _file(
            LEVEL,
            "  - kind: lagging\n    symbol: RUT\n    versus: GSPC\n    start: '2025-01-02'\n    end: 2025-03-31\n",
        )
    )
    claims, as_of = S.load_claims(path)
    assert as_of == "2025-12-31"
    assert [c.id for c in claims] == ["rut-break", "claim-2"]
    level, lag = claims
    assert isinstance(level, S.LevelBreakoutClaim) and level.tolerance == 0.02 and level.level == 2110.0
    assert isinstance(lag, S.LagClaim) and lag.share_at_least == 0.5 and str(lag.start) == "2025-01-02"
    assert S.claim_symbols(claims) == ["RUT", "GSPC"]


def test_parse_claims_names_the_key() -> None:
    with pytest.raises(
        UsageError, match=r"claim x: key 'direction': unknown value 'up'; valid: above, below"
    ):
        S.parse_claims(
            [
                {
                    "id": "x",
                    "kind": "level_breakout",
                    "symbol": "A",
                    "level": 1,
                    "direction": "up",
                    "start": "2025-01-01",
                    "end": "2025-02-01",
                }
            ]
        )


def test_example_file_validates_against_the_json_schema() -> None:
    import yaml
    from pydantic import TypeAdapter

    # the generated schema's enum of kinds and keys equal the models' (the schema is the models, not a copy)
    schema = S.claims_json_schema()
    defs = schema["$defs"]
    kinds = {d["properties"]["kind"]["const"] for d in defs.values() if "kind" in d.get("properties", {})}
    assert kinds == set(S.KINDS)
    assert all(
        d.get("additionalProperties") is False for d in defs.values() if "kind" in d.get("properties", {})
    )
    level = defs["LevelBreakoutClaim"]
    assert level["properties"]["direction"]["enum"] == ["above", "below"]
    assert set(level["required"]) == {"kind", "symbol", "level", "start", "end"}
    assert level["properties"]["tolerance"]["minimum"] == 0.0
    # a document the models accept
    doc = yaml.safe_load((REPO / "examples" / "small-cap-rally-2025.yaml").read_text())
    TypeAdapter(S.ClaimsFile).validate_python(doc)


def test_committed_schema_equals_generated() -> None:
    committed = (REPO / "docs" / "claims.schema.json").read_text(encoding="utf-8")
    assert committed == S.claims_json_schema_text(), (
        "regenerate: capscope verify --schema > docs/claims.schema.json"
    )
    assert json.loads(committed)["title"] == "capscope claims file"


def test_cli_schema_option() -> None:
    res = CliRunner().invoke(app, ["verify", "--schema"])
    assert res.exit_code == 0
    assert json.loads(res.output) == S.claims_json_schema()


def test_cli_without_file_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(["verify"], monkeypatch, capsys)
    assert code == 2
    assert "claims file" in err and "Traceback" not in out + err


def test_missing_and_directory_paths(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such claims file"):
        S.load_claims(tmp_path / "absent.yaml")
    with pytest.raises(UsageError, match="is a directory"):
        S.load_claims(tmp_path)
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00claims")
    with pytest.raises(UsageError, match="not a UTF-8"):
        S.load_claims(binary)
