"""False claims about the 2025 sample data come back "contradicted", and the reason states the contradiction in
words with numbers recomputed here independently (plain NumPy on the CSV closes, TA-Lib for averages and MACD)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from capscope.claims import CONTRADICTED, claim_symbols, load_claims, verify_claims

pytestmark = pytest.mark.sample

REPO = Path(__file__).resolve().parents[1]

FALSE_CLAIMS = """\
as_of: 2025-12-31
claims:
  - {id: value-beat-growth, kind: outperformance, symbol: IWN, versus: IWO, start: 2024-12-31, end: 2025-12-31}
  - {id: small-beat-large, kind: outperformance, symbol: RUT, versus: GSPC, start: 2024-12-31, end: 2025-12-31}
  - {id: large-lagged-small, kind: lagging, symbol: GSPC, versus: RUT, start: 2024-12-31, end: 2025-12-31}
  - {id: rut-above-3000, kind: level_breakout, symbol: RUT, level: 3000, start: 2025-01-01, end: 2025-12-31}
  - {id: rut-below-1500, kind: level_breakout, symbol: RUT, level: 1500, direction: below,
     start: 2025-01-01, end: 2025-12-31}
  - {id: rut-death-cross-h2, kind: ma_cross, symbol: RUT, cross: death, start: 2025-06-01, end: 2025-12-31}
  - {id: rut-golden-cross-h1, kind: ma_cross, symbol: RUT, cross: golden, start: 2025-01-01, end: 2025-07-31}
  - {id: rut-macd-above-zero-spring, kind: macd_cross, symbol: RUT, direction: bullish, zero: above,
     start: 2025-03-01, end: 2025-05-31}
  - {id: growth-twice-value, kind: outperformance, symbol: IWO, versus: IWN, approx_ratio: 2,
     start: 2024-12-31, end: 2025-12-31}
  - {id: growth-ahead-5pp, kind: outperformance, symbol: IWO, versus: IWN, difference_at_least: 5,
     start: 2024-12-31, end: 2025-12-31}
  - {id: small-1.5x-large, kind: outperformance, symbol: RUT, versus: GSPC, ratio_at_least: 1.5,
     start: 2024-12-31, end: 2025-12-31}
  - {id: rut-macd-bearish-below-zero-h2, kind: macd_cross, symbol: RUT, direction: bearish, zero: below,
     start: 2025-08-01, end: 2025-12-31}
"""


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Any]:
    from capscope.report.loading import load_from_files
    from tests.conftest import require_sample

    sample = require_sample()
    path = tmp_path_factory.mktemp("claims") / "false.yaml"
    path.write_text(FALSE_CLAIMS)
    claims, as_of = load_claims(path)
    panel = load_from_files(sample, claim_symbols(claims), as_of, universe=False).prices
    return {v.id: v for v in verify_claims(panel, claims, as_of)}, panel


def _closes(panel: Any, symbol: str, end: str = "2025-12-31") -> tuple[np.ndarray, np.ndarray]:
    col = panel.close[:, panel.column(symbol)]
    keep = np.isfinite(col) & (panel.dates <= np.datetime64(end))
    return panel.dates[keep], col[keep]


def _pair_returns(panel: Any, a: str, b: str, start: str, end: str) -> tuple[float, float]:
    (da, ca), (db, cb) = _closes(panel, a, end), _closes(panel, b, end)
    common = np.intersect1d(da, db)
    base, last = common[common <= np.datetime64(start)][-1], common[-1]
    ra = ca[da == last][0] / ca[da == base][0] - 1
    rb = cb[db == last][0] / cb[db == base][0] - 1
    return ra * 100, rb * 100


def test_at_least_ten_false_claims_are_contradicted(verdicts: tuple[dict[str, Any], Any]) -> None:
    got, _ = verdicts
    assert len(got) >= 10
    wrong = {k: (v.verdict, v.reason) for k, v in got.items() if v.verdict != CONTRADICTED}
    assert not wrong
    for v in got.values():
        assert "(claimed: " in v.reason, v.reason
        assert " >= " not in v.reason and " <= " not in v.reason  # words, not a comparison


@pytest.mark.parametrize(
    ("claim_id", "a", "b"),
    [
        ("value-beat-growth", "IWN", "IWO"),
        ("small-beat-large", "RUT", "GSPC"),
        ("growth-ahead-5pp", "IWO", "IWN"),
    ],
)
def test_outperformance_reason_states_the_gap(
    verdicts: tuple[dict[str, Any], Any], claim_id: str, a: str, b: str
) -> None:
    got, panel = verdicts
    ra, rb = _pair_returns(panel, a, b, "2024-12-31", "2025-12-31")
    gap = abs(ra - rb)
    word = "outperformed" if ra > rb else "trailed"
    v = got[claim_id]
    assert v.reason.startswith(f"{a} {word} {b} by {gap:.2f} pp"), v.reason
    assert f"{a} {ra:+.2f}%, {b} {rb:+.2f}%" in v.reason


def test_ratio_reasons(verdicts: tuple[dict[str, Any], Any]) -> None:
    got, panel = verdicts
    ra, rb = _pair_returns(panel, "IWO", "IWN", "2024-12-31", "2025-12-31")
    assert got["growth-twice-value"].reason.startswith(f"IWO gained {ra / rb:.2f} times as much as IWN")
    assert "(claimed: about 2 times IWN's gain (±25%))" in got["growth-twice-value"].reason
    ra, rb = _pair_returns(panel, "RUT", "GSPC", "2024-12-31", "2025-12-31")
    assert got["small-1.5x-large"].reason.startswith(f"RUT gained only {ra / rb:.2f} times as much as GSPC")


def test_lagging_reason_counts_sessions(verdicts: tuple[dict[str, Any], Any]) -> None:
    got, panel = verdicts
    (dg, g), (dr, r) = _closes(panel, "GSPC"), _closes(panel, "RUT")
    common = np.intersect1d(dg, dr)
    base = common[common <= np.datetime64("2024-12-31")][-1]
    after = common[common > base]
    rel_g = g[np.isin(dg, after)] / g[dg == base][0]
    rel_r = r[np.isin(dr, after)] / r[dr == base][0]
    behind = int(np.sum(rel_g < rel_r))
    assert behind < len(after) / 2
    assert f"was below RUT's on only {behind} of {len(after)} sessions" in got["large-lagged-small"].reason


def test_level_reasons_name_the_extreme_close(verdicts: tuple[dict[str, Any], Any]) -> None:
    got, panel = verdicts
    d, c = _closes(panel, "RUT")
    year = c[(d >= np.datetime64("2025-01-01")) & (d <= np.datetime64("2025-12-31"))]
    assert got["rut-above-3000"].reason.startswith(
        f"the close stayed at or below 3,000.00 (highest close {year.max():,.2f})"
    )
    assert got["rut-below-1500"].reason.startswith(
        f"the close stayed at or above 1,500.00 (lowest close {year.min():,.2f})"
    )


def test_cross_reasons_against_talib(verdicts: tuple[dict[str, Any], Any]) -> None:
    import talib

    got, panel = verdicts
    d, c = _closes(panel, "RUT")
    f, s = talib.SMA(c, 50), talib.SMA(c, 200)
    death = [str(d[t]) for t in range(1, len(c)) if f[t - 1] >= s[t - 1] and f[t] < s[t]]
    before = [x for x in death if x < "2025-06-01"]
    assert not [x for x in death if x >= "2025-06-01"]
    assert got["rut-death-cross-h2"].reason.startswith(
        f"no death cross of the 50/200-day SMA between 2025-06-01 and 2025-12-31; the last one was on {before[-1]}"
    )
    macd, sig, _ = talib.MACD(c, 12, 26, 9)
    diff = macd - sig
    spring = [
        t
        for t in range(1, len(c))
        if diff[t - 1] <= 0 < diff[t] and np.datetime64("2025-03-01") <= d[t] <= np.datetime64("2025-05-31")
    ]
    assert spring and all(macd[t] < 0 for t in spring)
    dates = ", ".join(str(d[t]) for t in spring)
    assert f"({dates}) came with MACD below zero (claimed: a bullish crossover above zero)" in (
        got["rut-macd-above-zero-spring"].reason
    )


def test_example_file_verdicts_unchanged(sample_dir: Path) -> None:
    """The shipped story's verdicts, as main's verifier gave them before the claim schema (recorded from the
    command line on 2026-12-07: six supported, growth-twice-value contradicted)."""
    from capscope.report.loading import load_from_files

    before = {
        "rut-neckline-breakout": "supported",
        "rut-inverse-head-and-shoulders": "supported",
        "rut-golden-cross": "supported",
        "rut-above-200-day": "supported",
        "rut-macd-bullish-above-zero": "supported",
        "growth-twice-value": "contradicted",
        "small-lagging-large": "supported",
    }
    claims, as_of = load_claims(REPO / "examples" / "small-cap-rally-2025.yaml")
    panel = load_from_files(sample_dir, claim_symbols(claims), as_of, universe=False).prices
    now = {v.id: v.verdict for v in verify_claims(panel, claims, as_of)}
    assert json.dumps(now, sort_keys=True) == json.dumps(before, sort_keys=True)
