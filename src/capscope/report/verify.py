"""Check the claims a market story makes against the data (``capscope verify CLAIMS.yaml``).

A claims file is YAML::

    as_of: 2025-12-31          # optional: last date that may be used (the CLI's --as-of wins)
    claims:
      - id: rut-neckline
        says: "The Russell 2000 broke above a neckline around 2,110"
        kind: level_breakout
        symbol: RUT
        level: 2110
        tolerance: 0.02        # relative: levels within 2% of 2,110 count
        direction: above
        start: 2025-01-01
        end: 2025-12-31

Claim kinds (fields besides ``id``, ``says``, ``kind``; ``start``/``end`` bound the window, inclusive):

``level_breakout``
    ``symbol, level, tolerance=0.02, direction=above|below``. Supported when, in the window, the close crossed
    the level itself (``close[t-1] <= level < close[t]`` for ``above``), or a breakout event of
    :mod:`capscope.events.breakouts` fired at a level within the tolerance, or a chart pattern's neckline
    within the tolerance was broken (:mod:`capscope.patterns`).
``ma_cross``
    ``symbol, cross=golden|death|price_above|price_below, ma=sma, fast=50, slow=200`` (``window=50`` for the
    price crosses). Supported when such a cross event (:mod:`capscope.events.crosses`) is dated in the window.
``macd_cross``
    ``symbol, direction=bullish|bearish, zero=above|below|any, fast=12, slow=26, signal=9``. Supported when a
    signal-line crossover of that direction is dated in the window with MACD on the required side of zero.
``outperformance``
    ``symbol, versus`` and one of ``ratio_at_least`` / ``ratio_at_most`` (ratio of the two returns, both must be
    positive), ``approx_ratio`` with ``tolerance`` (relative, default 0.25), ``difference_at_least`` /
    ``difference_at_most`` (percentage points). Returns are from the last bar on or before ``start`` to the last
    bar on or before ``end``, on each symbol's price basis (:mod:`capscope.analytics.basis`).
``lagging``
    ``symbol, versus, share_at_least=0.5``: on at least that share of the sessions in the window, ``symbol``'s
    return since ``start`` was below ``versus``'s.
``pattern``
    ``symbol, pattern`` (kind), ``status`` (one or a list, optional), ``neckline_near`` with ``tolerance``
    (optional). Supported when the pattern detector, run on data up to the window end, reports such a pattern
    whose points fall in the window.

Verdicts: ``supported``, ``contradicted`` (the data answers and says no) or ``not determinable`` (the data
does not cover the claim: symbol absent, window after the data or after ``as_of``, undefined ratio). Every
verdict carries the measured values it is based on. Only bars up to ``min(end, as_of)`` are used.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from capscope.analytics.rounding import rnd
from capscope.analytics.series import Series1, series_of
from capscope.data.panel import Panel, to_datetime64
from capscope.errors import UsageError

SUPPORTED = "supported"
CONTRADICTED = "contradicted"
NOT_DETERMINABLE = "not determinable"
VERDICTS = (SUPPORTED, CONTRADICTED, NOT_DETERMINABLE)

KINDS = ("level_breakout", "ma_cross", "macd_cross", "outperformance", "lagging", "pattern")


@dataclass
class Verdict:
    """The outcome of one claim."""

    id: str
    kind: str
    says: str
    verdict: str
    reason: str
    measured: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "id": self.id,
            "kind": self.kind,
            "says": self.says,
            "verdict": self.verdict,
            "reason": self.reason,
            "measured": self.measured,
        }


def _iso(day: Any) -> str:
    return str(np.datetime64(day, "D"))


def _date(value: Any, name: str, claim_id: str) -> np.datetime64:
    if isinstance(value, dt.date):
        return np.datetime64(value, "D")
    try:
        return to_datetime64(str(value))
    except UsageError:
        raise UsageError(f"claim {claim_id}: {name} {value!r} is not a date (YYYY-MM-DD)") from None


def load_claims(path: str | Path) -> tuple[list[dict[str, Any]], str | None]:
    """Read and check a claims file; return ``(claims, as_of)``."""
    import yaml

    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such claims file") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("claims"), list):
        raise UsageError(f"{path}: expected a mapping with a 'claims' list")
    claims = []
    for i, claim in enumerate(doc["claims"]):
        if not isinstance(claim, dict):
            raise UsageError(f"{path}: claim {i + 1} is not a mapping")
        claim = dict(claim)
        claim.setdefault("id", f"claim-{i + 1}")
        kind = claim.get("kind")
        if kind not in KINDS:
            raise UsageError(f"{path}: claim {claim['id']}: kind {kind!r} is not one of {', '.join(KINDS)}")
        for key in ("symbol", "start", "end"):
            if key not in claim:
                raise UsageError(f"{path}: claim {claim['id']}: missing '{key}'")
        claims.append(claim)
    as_of = doc.get("as_of")
    return claims, (str(as_of) if as_of is not None else None)


def claim_symbols(claims: list[dict[str, Any]]) -> list[str]:
    """Every symbol the claims name (``symbol`` and ``versus``), in order of appearance."""
    out: dict[str, None] = {}
    for claim in claims:
        out[str(claim["symbol"])] = None
        if "versus" in claim:
            out[str(claim["versus"])] = None
    return list(out)


class _Checker:
    def __init__(self, panel: Panel, as_of: np.datetime64 | None) -> None:
        self.panel = panel if as_of is None else panel.truncate(as_of)
        self.as_of = as_of

    def window(self, claim: dict[str, Any]) -> tuple[np.datetime64, np.datetime64]:
        start = _date(claim["start"], "start", claim["id"])
        end = _date(claim["end"], "end", claim["id"])
        if end < start:
            raise UsageError(f"claim {claim['id']}: end {end} is before start {start}")
        return start, end

    def check(self, claim: dict[str, Any]) -> Verdict:
        says = str(claim.get("says", ""))
        kind = claim["kind"]
        start, end = self.window(claim)
        symbols = [str(claim["symbol"])] + ([str(claim["versus"])] if "versus" in claim else [])
        for sym in symbols:
            if sym not in self.panel.symbols:
                return Verdict(claim["id"], kind, says, NOT_DETERMINABLE, f"{sym} is not in the data", {})
        series = series_of(self.panel, symbols[0])
        if len(series.dates) == 0 or series.dates[-1] < start:
            last = _iso(series.dates[-1]) if len(series.dates) else "none"
            cut = f" (as of {_iso(self.as_of)})" if self.as_of is not None else ""
            return Verdict(
                claim["id"],
                kind,
                says,
                NOT_DETERMINABLE,
                f"the window starts {_iso(start)} but {symbols[0]}'s data ends {last}{cut}",
                {"last_date": last},
            )
        method = getattr(self, f"_{kind}")
        verdict, reason, measured = method(claim, series, start, end)
        if series.dates[-1] < end:
            measured["data_ends"] = _iso(series.dates[-1])
            reason += f" (data ends {_iso(series.dates[-1])}, before the window end {_iso(end)})"
        return Verdict(claim["id"], kind, says, verdict, reason, measured)

    # -- helpers ---------------------------------------------------------------------------------------------
    @staticmethod
    def _in_window(dates: Any, start: np.datetime64, end: np.datetime64) -> Any:
        d = np.asarray(dates, dtype="datetime64[D]")
        return (d >= start) & (d <= end)

    @staticmethod
    def _upto(series: Series1, end: np.datetime64) -> Series1:
        n = int(np.searchsorted(series.dates, end, side="right"))
        return Series1(
            series.symbol,
            series.dates[:n],
            series.open[:n],
            series.high[:n],
            series.low[:n],
            series.close[:n],
            series.adj_close[:n],
        )

    # -- kinds -----------------------------------------------------------------------------------------------
    def _level_breakout(
        self, claim: dict[str, Any], s: Series1, start: np.datetime64, end: np.datetime64
    ) -> tuple[str, str, dict[str, Any]]:
        level = float(claim["level"])
        tol = float(claim.get("tolerance", 0.02))
        up = str(claim.get("direction", "above")) == "above"
        s = self._upto(s, end)
        c = s.close
        prev, cur = c[:-1], c[1:]
        crossed = (prev <= level) & (cur > level) if up else (prev >= level) & (cur < level)
        idx = np.flatnonzero(crossed & self._in_window(s.dates[1:], start, end)) + 1
        measured: dict[str, Any] = {"level": level, "tolerance": tol, "direction": "above" if up else "below"}
        found = []
        if len(idx):
            t = int(idx[0])
            measured["level_cross"] = {
                "date": _iso(s.dates[t]),
                "close": rnd(c[t], "level"),
                "previous_close": rnd(c[t - 1], "level"),
            }
            found.append(
                f"the close crossed {'above' if up else 'below'} {level:,.2f} on {_iso(s.dates[t])} ({c[t]:,.2f})"
            )
        from capscope.events.breakouts import breakout_events

        ev = breakout_events(s.panel())
        want = "breakout_above" if up else "breakdown_below"
        if len(ev):
            ev = ev[(ev["kind"] == want) & self._in_window(ev["date"].to_numpy(), start, end)]
            near = ev[np.abs(ev["level"].to_numpy() / level - 1.0) <= tol]
            measured["breakout_events_in_window"] = [
                {
                    "date": _iso(r["date"]),
                    "level": rnd(r["level"], "level"),
                    "close": rnd(r["price"], "level"),
                }
                for _, r in ev.iterrows()
            ]
            if len(near):
                r = near.iloc[0]
                found.append(
                    f"{want.replace('_', ' ')} event fired at level {r['level']:,.2f} on {_iso(r['date'])}"
                )
        for rec in self._patterns(s, end):
            b = rec.get("breakout")
            neck = rec.get("neckline")
            if (
                not b
                or not neck
                or rec.get("extra", {}).get("direction", "up" if up else "down") != ("up" if up else "down")
            ):
                continue
            bday = np.datetime64(b["date"], "D")
            if not (start <= bday <= end):
                continue
            at = rec.get("extra", {}).get("neckline_at_breakout")
            neck_level = float(at) if at is not None else float(neck["price1"])
            measured.setdefault("pattern_breakouts", []).append(
                {
                    "kind": rec["kind"],
                    "date": b["date"],
                    "close": rnd(b["price"], "level"),
                    "neckline": rnd(neck_level, "level"),
                    "status": rec["status"],
                }
            )
            if abs(neck_level / level - 1.0) <= tol:
                found.append(
                    f"the neckline of the {rec['kind'].replace('_', ' ')} at {neck_level:,.2f} was broken on {b['date']}"
                )
        w = self._in_window(s.dates, start, end)
        if w.any():
            measured["window_close_range"] = [rnd(np.nanmin(c[w]), "level"), rnd(np.nanmax(c[w]), "level")]
        if found:
            return SUPPORTED, "; ".join(found), measured
        if not w.any():
            return NOT_DETERMINABLE, "no bars in the window", measured
        return (
            CONTRADICTED,
            f"no close crossed {'above' if up else 'below'} {level:,.2f} (±{tol:.0%} for detected levels) in the window",
            measured,
        )

    def _patterns(self, s: Series1, end: np.datetime64) -> list[dict[str, Any]]:
        from capscope.patterns import find_patterns

        if not hasattr(self, "_pattern_cache"):
            self._pattern_cache: dict[tuple[str, str], list[dict[str, Any]]] = {}
        key = (s.symbol, _iso(end))
        if key not in self._pattern_cache:
            self._pattern_cache[key] = [r.to_dict() for r in find_patterns(self._upto(s, end).panel())]
        return self._pattern_cache[key]

    def _events(self, s: Series1, func: str, **kwargs: Any) -> Any:
        from capscope.events import crosses

        return getattr(crosses, func)(s.panel(), **kwargs)

    def _ma_cross(
        self, claim: dict[str, Any], s: Series1, start: np.datetime64, end: np.datetime64
    ) -> tuple[str, str, dict[str, Any]]:
        cross = str(claim.get("cross", "golden"))
        ma = str(claim.get("ma", "sma"))
        s = self._upto(s, end)
        if cross in ("golden", "death"):
            fast, slow = int(claim.get("fast", 50)), int(claim.get("slow", 200))
            ev = self._events(s, "ma_crosses", pairs=((ma, fast, slow),))
            kind = "golden_cross" if cross == "golden" else "death_cross"
            label = f"{cross} cross of the {fast}/{slow}-day {ma.upper()}"
        elif cross in ("price_above", "price_below"):
            window = int(claim.get("window", 50))
            ev = self._events(s, "price_crosses", windows=(window,), ma=ma)
            kind = "price_cross_above" if cross == "price_above" else "price_cross_below"
            label = f"close crossing {cross.split('_')[1]} its {window}-day {ma.upper()}"
        else:
            raise UsageError(f"claim {claim['id']}: cross must be golden, death, price_above or price_below")
        ev = ev[ev["kind"] == kind]
        inside = ev[self._in_window(ev["date"].to_numpy(), start, end)]
        measured: dict[str, Any] = {"events_in_window": [_iso(d) for d in inside["date"]]}
        before = ev[ev["date"].to_numpy().astype("datetime64[D]") < start]
        if len(before):
            measured["last_before_window"] = _iso(before["date"].iloc[-1])
        if len(inside):
            return SUPPORTED, f"{label} on {', '.join(measured['events_in_window'])}", measured
        return CONTRADICTED, f"no {label} in the window", measured

    def _macd_cross(
        self, claim: dict[str, Any], s: Series1, start: np.datetime64, end: np.datetime64
    ) -> tuple[str, str, dict[str, Any]]:
        direction = str(claim.get("direction", "bullish"))
        zero = str(claim.get("zero", "any"))
        if direction not in ("bullish", "bearish") or zero not in ("above", "below", "any"):
            raise UsageError(
                f"claim {claim['id']}: direction must be bullish|bearish and zero above|below|any"
            )
        fast, slow, signal = (
            int(claim.get("fast", 12)),
            int(claim.get("slow", 26)),
            int(claim.get("signal", 9)),
        )
        s = self._upto(s, end)
        ev = self._events(s, "macd_crosses", fast=fast, slow=slow, signal=signal, zero_line=False)
        ev = ev[
            (ev["kind"] == f"macd_{direction}_cross") & self._in_window(ev["date"].to_numpy(), start, end)
        ]
        crosses: list[dict[str, Any]] = [
            {"date": _iso(r["date"]), "macd": rnd(r["macd"], "macd"), "above_zero": bool(r["above_zero"])}
            for _, r in ev.iterrows()
        ]
        ok = [
            c
            for c in crosses
            if zero == "any"
            or (c["above_zero"] if zero == "above" else c["macd"] is not None and c["macd"] < 0)
        ]
        measured: dict[str, Any] = {
            "crosses_in_window": crosses,
            "params": {"fast": fast, "slow": slow, "signal": signal},
        }
        where = "" if zero == "any" else f" {zero} zero"
        if ok:
            return (
                SUPPORTED,
                f"{direction} MACD crossover{where} on {', '.join(c['date'] for c in ok)}",
                measured,
            )
        if crosses:
            return (
                CONTRADICTED,
                f"{len(crosses)} {direction} crossover(s) in the window, none{where}",
                measured,
            )
        return CONTRADICTED, f"no {direction} MACD crossover in the window", measured

    def _returns(
        self, claim: dict[str, Any], start: np.datetime64, end: np.datetime64
    ) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        from capscope.analytics.rotation import align, load_series

        a = load_series(self.panel, str(claim["symbol"]))
        b = load_series(self.panel, str(claim["versus"]))
        dates, va, vb = align(a, b, end)
        base = int(np.searchsorted(dates, start, side="right")) - 1
        measured: dict[str, Any] = {
            "basis": {a.symbol: a.basis.to_dict(), b.symbol: b.basis.to_dict()},
        }
        return dates, va, vb, base, measured

    def _outperformance(
        self, claim: dict[str, Any], s: Series1, start: np.datetime64, end: np.datetime64
    ) -> tuple[str, str, dict[str, Any]]:
        sym, vs = str(claim["symbol"]), str(claim["versus"])
        dates, va, vb, base, measured = self._returns(claim, start, end)
        if base < 0 or len(dates) == 0 or base >= len(dates) - 1:
            return NOT_DETERMINABLE, f"{sym} and {vs} have no common bars spanning the window", measured
        last = len(dates) - 1
        ra, rb = va[last] / va[base] - 1.0, vb[last] / vb[base] - 1.0
        diff = (ra - rb) * 100.0
        measured.update(
            {
                "base_date": _iso(dates[base]),
                "end_date": _iso(dates[last]),
                f"{sym}_return_percent": rnd(ra * 100, "percent"),
                f"{vs}_return_percent": rnd(rb * 100, "percent"),
                "difference_pp": rnd(diff, "pp"),
            }
        )
        ratio = ra / rb if ra > 0 and rb > 0 else None
        measured["return_ratio"] = rnd(ratio, "ratio") if ratio is not None else None
        summary = (
            f"{sym} {ra * 100:+.2f}% vs {vs} {rb * 100:+.2f}% ({_iso(dates[base])} to {_iso(dates[last])})"
        )
        checks = []
        for key, op in (("ratio_at_least", ">="), ("ratio_at_most", "<="), ("approx_ratio", "~")):
            if key in claim:
                if ratio is None:
                    return (
                        NOT_DETERMINABLE,
                        f"{summary}: the return ratio is undefined (a return is not positive)",
                        measured,
                    )
                target = float(claim[key])
                if op == "~":
                    tol = float(claim.get("tolerance", 0.25))
                    checks.append(
                        (
                            abs(ratio / target - 1.0) <= tol,
                            f"return ratio {ratio:.2f} vs about {target:g} (±{tol:.0%})",
                        )
                    )
                else:
                    checks.append(
                        (
                            (ratio >= target) if op == ">=" else (ratio <= target),
                            f"return ratio {ratio:.2f} {op} {target:g}",
                        )
                    )
        for key, op in (("difference_at_least", ">="), ("difference_at_most", "<=")):
            if key in claim:
                target = float(claim[key])
                checks.append(
                    (
                        (diff >= target) if op == ">=" else (diff <= target),
                        f"difference {diff:+.2f} pp {op} {target:+g} pp",
                    )
                )
        if not checks:
            checks.append((diff > 0, f"difference {diff:+.2f} pp > 0"))
        ok = all(c[0] for c in checks)
        return (SUPPORTED if ok else CONTRADICTED), f"{summary}; " + "; ".join(c[1] for c in checks), measured

    def _lagging(
        self, claim: dict[str, Any], s: Series1, start: np.datetime64, end: np.datetime64
    ) -> tuple[str, str, dict[str, Any]]:
        sym, vs = str(claim["symbol"]), str(claim["versus"])
        share_min = float(claim.get("share_at_least", 0.5))
        dates, va, vb, base, measured = self._returns(claim, start, end)
        if base < 0 or base >= len(dates) - 1:
            return NOT_DETERMINABLE, f"{sym} and {vs} have no common bars spanning the window", measured
        rel = (va[base + 1 :] / va[base]) / (vb[base + 1 :] / vb[base])
        behind = int(np.sum(rel < 1.0))
        share = behind / len(rel)
        measured.update(
            {
                "base_date": _iso(dates[base]),
                "end_date": _iso(dates[-1]),
                "sessions": len(rel),
                "sessions_behind": behind,
                "share_behind": rnd(share, "ratio"),
                "share_at_least": share_min,
            }
        )
        text = f"{sym}'s return since {_iso(dates[base])} was below {vs}'s on {behind} of {len(rel)} sessions ({share:.0%}; claim needs >= {share_min:.0%})"
        return (SUPPORTED if share >= share_min else CONTRADICTED), text, measured

    def _pattern(
        self, claim: dict[str, Any], s: Series1, start: np.datetime64, end: np.datetime64
    ) -> tuple[str, str, dict[str, Any]]:
        kind = str(claim["pattern"])
        statuses = claim.get("status")
        if isinstance(statuses, str):
            statuses = [statuses]
        near = claim.get("neckline_near")
        tol = float(claim.get("tolerance", 0.03))
        found = [r for r in self._patterns(s, end) if r["kind"] == kind]
        in_window = [
            r
            for r in found
            if all(
                start <= np.datetime64(p["date"], "D") <= end
                for p in r["points"]
                if p["role"] != "prior_trend"
            )
        ]
        measured: dict[str, Any] = {
            "patterns": [
                {
                    "status": r["status"],
                    "date": r["date"],
                    "points": {p["role"]: [p["date"], rnd(p["price"], "level")] for p in r["points"]},
                    "neckline": r["neckline"],
                    "breakout": r["breakout"],
                    "target": rnd(r["target"], "level"),
                }
                for r in in_window
            ]
        }
        if not in_window:
            return (
                CONTRADICTED,
                f"no {kind.replace('_', ' ')} with all its points in the window (detected as of {_iso(end)})",
                measured,
            )
        ok = []
        for r in in_window:
            if statuses and r["status"] not in statuses:
                continue
            if near is not None:
                neck = r.get("neckline")
                if not neck:
                    continue
                at = r.get("extra", {}).get("neckline_at_breakout")
                levels = [float(at)] if at is not None else [float(neck["price0"]), float(neck["price1"])]
                if not any(abs(v / float(near) - 1.0) <= tol for v in levels):
                    continue
            ok.append(r)
        if ok:
            r = ok[-1]
            return (
                SUPPORTED,
                f"{kind.replace('_', ' ')} found, status {r['status']} as of {r['date']}",
                measured,
            )
        want = []
        if statuses:
            want.append(f"status in {statuses}")
        if near is not None:
            want.append(f"neckline within {tol:.0%} of {float(near):,.2f}")
        return (
            CONTRADICTED,
            f"{len(in_window)} {kind.replace('_', ' ')} found but none with " + " and ".join(want),
            measured,
        )


def verify_claims(panel: Panel, claims: list[dict[str, Any]], as_of: str | None = None) -> list[Verdict]:
    """Check every claim against ``panel`` (module docstring); only bars up to ``as_of`` are used."""
    checker = _Checker(panel, to_datetime64(as_of) if as_of is not None else None)
    return [checker.check(claim) for claim in claims]
