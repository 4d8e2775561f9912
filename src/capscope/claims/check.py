"""Check validated claims (:mod:`capscope.claims.schema`) against the data (``capscope verify CLAIMS.yaml``).

Every check computes with the analytics/event/pattern functions the other commands use (events.crosses,
events.breakouts, patterns, analytics.rotation's ``load_series``/``align``, analytics.rounding), never with
helpers of the brief, so a number here is the number of ``capscope rotation``/``scan``/``patterns``.

Claim kinds (docs/claims.md; ``start``/``end`` bound the window, inclusive):

``level_breakout``
    Supported when, in the window, the close crossed the level itself (``close[t-1] <= level < close[t]`` for
    ``above``), or a breakout event of :mod:`capscope.events.breakouts` fired at a level within the tolerance,
    or a chart pattern's neckline within the tolerance was broken (:mod:`capscope.patterns`).
``ma_cross``
    Supported when such a cross event (:mod:`capscope.events.crosses`) is dated in the window.
``macd_cross``
    Supported when a signal-line crossover of that direction is dated in the window with MACD on the required
    side of zero.
``outperformance``
    Returns from the last bar on or before ``start`` to the last bar on or before ``end`` on the two symbols'
    common dates, each on its price basis (:mod:`capscope.analytics.basis`). Without a bound the claim is
    "``symbol`` did better" (difference > 0).
``lagging``
    On at least ``share_at_least`` of the sessions after the base bar, ``symbol``'s return since the base was
    below ``versus``'s.
``pattern``
    The pattern detector, run on data up to the window end, reports such a pattern whose points (the prior
    trend pivot excepted) fall in the window, with an accepted status and neckline.

Verdicts: ``supported``, ``contradicted`` (the data answers and says no; the reason states what the data shows
against what was claimed) or ``not determinable`` (symbol absent, window after the data or after ``as_of``,
undefined ratio). Every verdict carries the measured values it rests on. Only bars up to ``min(end, as_of)``
are used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from capscope.analytics.rounding import fmt, rnd
from capscope.analytics.series import Series1, series_of
from capscope.claims.schema import (
    AnyClaim,
    LagClaim,
    LevelBreakoutClaim,
    MacdCrossClaim,
    MaCrossClaim,
    OutperformanceClaim,
    PatternClaim,
)
from capscope.data.panel import Panel, to_datetime64

SUPPORTED = "supported"
CONTRADICTED = "contradicted"
NOT_DETERMINABLE = "not determinable"
VERDICTS = (SUPPORTED, CONTRADICTED, NOT_DETERMINABLE)

_Result = tuple[str, str, dict[str, Any]]


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


def _words(kind: str) -> str:
    return kind.replace("_", " ")


def _in_window(dates: Any, start: np.datetime64, end: np.datetime64) -> Any:
    d = np.asarray(dates, dtype="datetime64[D]")
    return (d >= start) & (d <= end)


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


def _pct(x: float) -> str:
    return f"{x:.0%}"


class _Checker:
    def __init__(self, panel: Panel, as_of: np.datetime64 | None) -> None:
        self.panel = panel if as_of is None else panel.truncate(as_of)
        self.as_of = as_of
        self._pattern_cache: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def check(self, claim: AnyClaim) -> Verdict:
        start, end = np.datetime64(claim.start, "D"), np.datetime64(claim.end, "D")
        name, kind, says = claim.name, claim.kind, claim.says
        for sym in claim.symbols():
            if sym not in self.panel.symbols:
                return Verdict(name, kind, says, NOT_DETERMINABLE, f"{sym} is not in the data", {})
        series = series_of(self.panel, claim.symbol)
        if len(series.dates) == 0 or series.dates[-1] < start:
            last = _iso(series.dates[-1]) if len(series.dates) else "none"
            cut = f" (as of {_iso(self.as_of)})" if self.as_of is not None else ""
            return Verdict(
                name,
                kind,
                says,
                NOT_DETERMINABLE,
                f"the window starts {_iso(start)} but {claim.symbol}'s data ends {last}{cut}",
                {"last_date": last},
            )
        if isinstance(claim, LevelBreakoutClaim):
            verdict, reason, measured = self._level_breakout(claim, series, start, end)
        elif isinstance(claim, MaCrossClaim):
            verdict, reason, measured = self._ma_cross(claim, series, start, end)
        elif isinstance(claim, MacdCrossClaim):
            verdict, reason, measured = self._macd_cross(claim, series, start, end)
        elif isinstance(claim, OutperformanceClaim):
            verdict, reason, measured = self._outperformance(claim, start, end)
        elif isinstance(claim, LagClaim):
            verdict, reason, measured = self._lagging(claim, start, end)
        else:
            verdict, reason, measured = self._pattern(claim, series, start, end)
        if series.dates[-1] < end:
            measured["data_ends"] = _iso(series.dates[-1])
            reason += f" (data ends {_iso(series.dates[-1])}, before the window end {_iso(end)})"
        return Verdict(name, kind, says, verdict, reason, measured)

    # -- shared ------------------------------------------------------------------------------------------------
    def _patterns(self, s: Series1, end: np.datetime64) -> list[dict[str, Any]]:
        from capscope.patterns import find_patterns

        key = (s.symbol, _iso(end))
        if key not in self._pattern_cache:
            self._pattern_cache[key] = [r.to_dict() for r in find_patterns(_upto(s, end).panel())]
        return self._pattern_cache[key]

    @staticmethod
    def _events(s: Series1, func: str, **kwargs: Any) -> Any:
        from capscope.events import crosses

        return getattr(crosses, func)(s.panel(), **kwargs)

    # -- kinds -------------------------------------------------------------------------------------------------
    def _level_breakout(
        self, claim: LevelBreakoutClaim, s: Series1, start: np.datetime64, end: np.datetime64
    ) -> _Result:
        level, tol, up = claim.level, claim.tolerance, claim.direction == "above"
        word = claim.direction
        s = _upto(s, end)
        c = s.close
        prev, cur = c[:-1], c[1:]
        crossed = (prev <= level) & (cur > level) if up else (prev >= level) & (cur < level)
        idx = np.flatnonzero(crossed & _in_window(s.dates[1:], start, end)) + 1
        measured: dict[str, Any] = {"level": level, "tolerance": tol, "direction": word}
        found = []
        if len(idx):
            t = int(idx[0])
            measured["level_cross"] = {
                "date": _iso(s.dates[t]),
                "close": rnd(c[t], "level"),
                "previous_close": rnd(c[t - 1], "level"),
            }
            found.append(f"the close crossed {word} {level:,.2f} on {_iso(s.dates[t])} ({c[t]:,.2f})")
        from capscope.events.breakouts import breakout_events

        ev = breakout_events(s.panel())
        want = "breakout_above" if up else "breakdown_below"
        if len(ev):
            ev = ev[(ev["kind"] == want) & _in_window(ev["date"].to_numpy(), start, end)]
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
                found.append(f"{_words(want)} event fired at level {r['level']:,.2f} on {_iso(r['date'])}")
        side = "up" if up else "down"
        for rec in self._patterns(s, end):
            b, neck = rec.get("breakout"), rec.get("neckline")
            if not b or not neck or rec.get("extra", {}).get("direction", side) != side:
                continue
            if not (start <= np.datetime64(b["date"], "D") <= end):
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
                    f"the neckline of the {_words(rec['kind'])} at {neck_level:,.2f} was broken on {b['date']}"
                )
        w = _in_window(s.dates, start, end)
        if w.any():
            lo, hi = float(np.nanmin(c[w])), float(np.nanmax(c[w]))
            measured["window_close_range"] = [rnd(lo, "level"), rnd(hi, "level")]
        if found:
            return SUPPORTED, "; ".join(found), measured
        if not w.any():
            return NOT_DETERMINABLE, "no bars in the window", measured
        if up and hi <= level:
            shows = f"the close stayed at or below {level:,.2f} (highest close {hi:,.2f})"
        elif not up and lo >= level:
            shows = f"the close stayed at or above {level:,.2f} (lowest close {lo:,.2f})"
        else:
            shows = (
                f"the close never crossed {word} {level:,.2f} from the other side (closes {lo:,.2f} to "
                f"{hi:,.2f}) and no breakout or neckline within {_pct(tol)} of it fired"
            )
        return CONTRADICTED, f"{shows} (claimed: a break {word} {level:,.2f})", measured

    def _ma_cross(self, claim: MaCrossClaim, s: Series1, start: np.datetime64, end: np.datetime64) -> _Result:
        cross, ma = claim.cross, claim.ma
        s = _upto(s, end)
        if cross in ("golden", "death"):
            fast, slow = claim.fast_window, claim.slow_window
            ev = self._events(s, "ma_crosses", pairs=((ma, fast, slow),))
            kind = "golden_cross" if cross == "golden" else "death_cross"
            label = f"{cross} cross of the {fast}/{slow}-day {ma.upper()}"
        else:
            window = claim.price_window
            ev = self._events(s, "price_crosses", windows=(window,), ma=ma)
            kind = "price_cross_above" if cross == "price_above" else "price_cross_below"
            label = f"close crossing {cross.split('_')[1]} its {window}-day {ma.upper()}"
        ev = ev[ev["kind"] == kind]
        inside = ev[_in_window(ev["date"].to_numpy(), start, end)]
        measured: dict[str, Any] = {"events_in_window": [_iso(d) for d in inside["date"]]}
        before = ev[ev["date"].to_numpy().astype("datetime64[D]") < start]
        if len(before):
            measured["last_before_window"] = _iso(before["date"].iloc[-1])
        if len(inside):
            return SUPPORTED, f"{label} on {', '.join(measured['events_in_window'])}", measured
        last = f"; the last one was on {measured['last_before_window']}" if len(before) else ""
        return (
            CONTRADICTED,
            f"no {label} between {_iso(start)} and {_iso(end)}{last} (claimed: one in the window)",
            measured,
        )

    def _macd_cross(
        self, claim: MacdCrossClaim, s: Series1, start: np.datetime64, end: np.datetime64
    ) -> _Result:
        direction, zero = claim.direction, claim.zero
        fast, slow, signal = claim.fast, claim.slow, claim.signal
        s = _upto(s, end)
        ev = self._events(s, "macd_crosses", fast=fast, slow=slow, signal=signal, zero_line=False)
        ev = ev[(ev["kind"] == f"macd_{direction}_cross") & _in_window(ev["date"].to_numpy(), start, end)]
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
        claimed = f"(claimed: a {direction} crossover{where})"
        if crosses:
            other = "below" if zero == "above" else "above"
            dates = ", ".join(c["date"] for c in crosses)
            n = len(crosses)
            return (
                CONTRADICTED,
                f"{'the only' if n == 1 else 'both' if n == 2 else f'all {n}'} {direction} MACD "
                f"crossover{'s' if n > 1 else ''} in the "
                f"window ({dates}) came with MACD {other} zero {claimed}",
                measured,
            )
        return (
            CONTRADICTED,
            f"no {direction} MACD crossover between {_iso(start)} and {_iso(end)} {claimed}",
            measured,
        )

    def _returns(
        self, claim: OutperformanceClaim | LagClaim, start: np.datetime64, end: np.datetime64
    ) -> tuple[Any, Any, Any, int, dict[str, Any]]:
        from capscope.analytics.rotation import align, load_series

        a = load_series(self.panel, claim.symbol)
        b = load_series(self.panel, claim.versus)
        dates, va, vb = align(a, b, end)
        base = int(np.searchsorted(dates, start, side="right")) - 1
        measured: dict[str, Any] = {"basis": {a.symbol: a.basis.to_dict(), b.symbol: b.basis.to_dict()}}
        return dates, va, vb, base, measured

    def _outperformance(
        self, claim: OutperformanceClaim, start: np.datetime64, end: np.datetime64
    ) -> _Result:
        sym, vs = claim.symbol, claim.versus
        dates, va, vb, base, measured = self._returns(claim, start, end)
        if base < 0 or len(dates) == 0 or base >= len(dates) - 1:
            return NOT_DETERMINABLE, f"{sym} and {vs} have no common bars spanning the window", measured
        last = len(dates) - 1
        ra, rb = va[last] / va[base] - 1.0, vb[last] / vb[base] - 1.0
        diff = (ra - rb) * 100.0
        span = f"{_iso(dates[base])} to {_iso(dates[last])}"
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
        gap = rnd(abs(diff), "pp")
        if diff > 0:
            rel = f"{sym} outperformed {vs} by {fmt(gap, 'pp')}"
        elif diff < 0:
            rel = f"{sym} trailed {vs} by {fmt(gap, 'pp')}"
        else:
            rel = f"{sym} and {vs} returned the same"
        returns = f"{sym} {fmt(rnd(ra * 100, 'percent'), 'percent', sign=True)}, {vs} "
        returns += f"{fmt(rnd(rb * 100, 'percent'), 'percent', sign=True)}, {span}"
        claimed: list[str] = []
        failed: list[str] = []
        wants_ratio = any(
            x is not None for x in (claim.ratio_at_least, claim.ratio_at_most, claim.approx_ratio)
        )
        if wants_ratio and ratio is None:
            return (
                NOT_DETERMINABLE,
                f"{rel} ({returns}); the return ratio is undefined because a return is not positive",
                measured,
            )
        times = f"{ratio:.2f} times" if ratio is not None else ""
        if claim.ratio_at_least is not None:
            claimed.append(f"at least {claim.ratio_at_least:g} times {vs}'s gain")
            if ratio is not None and ratio < claim.ratio_at_least:
                failed.append(f"{sym} gained only {times} as much as {vs}")
        if claim.ratio_at_most is not None:
            claimed.append(f"at most {claim.ratio_at_most:g} times {vs}'s gain")
            if ratio is not None and ratio > claim.ratio_at_most:
                failed.append(f"{sym} gained {times} as much as {vs}")
        if claim.approx_ratio is not None and ratio is not None:
            tol = claim.ratio_tolerance
            claimed.append(f"about {claim.approx_ratio:g} times {vs}'s gain (±{_pct(tol)})")
            if abs(ratio / claim.approx_ratio - 1.0) > tol:
                failed.append(f"{sym} gained {times} as much as {vs}")
        if claim.difference_at_least is not None:
            claimed.append(f"ahead by at least {claim.difference_at_least:g} pp")
            if diff < claim.difference_at_least:
                failed.append(rel)
        if claim.difference_at_most is not None:
            claimed.append(f"ahead by at most {claim.difference_at_most:g} pp")
            if diff > claim.difference_at_most:
                failed.append(rel)
        if not claimed:
            claimed.append(f"{sym} outperformed {vs}")
            if not diff > 0:
                failed.append(rel)
        if failed:
            shows = "; ".join(dict.fromkeys(failed))
            if rel not in failed:
                shows += f"; {rel}"
            return CONTRADICTED, f"{shows} ({returns}) (claimed: {'; '.join(claimed)})", measured
        extra = f"; {sym} gained {times} as much as {vs}" if wants_ratio else ""
        return SUPPORTED, f"{rel}{extra} ({returns})", measured

    def _lagging(self, claim: LagClaim, start: np.datetime64, end: np.datetime64) -> _Result:
        sym, vs, share_min = claim.symbol, claim.versus, claim.share_at_least
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
        since = _iso(dates[base])
        if share >= share_min:
            text = f"{sym}'s return since {since} was below {vs}'s on {behind} of {len(rel)} sessions ({_pct(share)})"
            return SUPPORTED, text, measured
        text = (
            f"{sym}'s return since {since} was below {vs}'s on only {behind} of {len(rel)} sessions "
            f"({_pct(share)}); it was ahead or level on the other {len(rel) - behind} "
            f"(claimed: behind on at least {_pct(share_min)})"
        )
        return CONTRADICTED, text, measured

    def _pattern(self, claim: PatternClaim, s: Series1, start: np.datetime64, end: np.datetime64) -> _Result:
        kind = claim.pattern
        statuses = claim.statuses
        near, tol = claim.neckline_near, claim.neckline_tolerance
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
        want = []
        if statuses:
            want.append(f"status {' or '.join(statuses)}")
        if near is not None:
            want.append(f"neckline within {_pct(tol)} of {near:,.2f}")
        claimed = f"(claimed: a {_words(kind)}{' with ' + ' and '.join(want) if want else ''})"
        if not in_window:
            outside = f"; {len(found)} found with points outside it" if found else ""
            return (
                CONTRADICTED,
                f"the detector found no {_words(kind)} with all its points between {_iso(start)} and "
                f"{_iso(end)} (data up to {_iso(end)}){outside} {claimed}",
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
                if not any(abs(v / near - 1.0) <= tol for v in levels):
                    continue
            ok.append(r)
        if ok:
            r = ok[-1]
            return SUPPORTED, f"{_words(kind)} found, status {r['status']} as of {r['date']}", measured
        seen = ", ".join(
            f"status {r['status']}"
            + (f", neckline {float(r['neckline']['price1']):,.2f}" if r.get("neckline") else "")
            for r in in_window
        )
        n = len(in_window)
        return (
            CONTRADICTED,
            f"the {_words(kind)}{'s' if n > 1 else ''} found in the window ({seen}) {'do' if n > 1 else 'does'} not match {claimed}",
            measured,
        )


def verify_claims(panel: Panel, claims: list[AnyClaim], as_of: str | None = None) -> list[Verdict]:
    """Check every claim against ``panel``.

    Parameters
    ----------
    panel
        Prices holding the claims' symbols.
    claims
        Validated claims (:func:`capscope.claims.schema.load_claims` / :func:`~capscope.claims.schema.parse_claims`).
    as_of
        Last date that may be used (``YYYY-MM-DD``), or ``None`` for all the data.

    Returns
    -------
    list of Verdict
        One verdict per claim, in order.
    """
    checker = _Checker(panel, to_datetime64(as_of) if as_of is not None else None)
    return [checker.check(claim) for claim in claims]
