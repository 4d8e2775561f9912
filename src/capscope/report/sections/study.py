"""Event study: did the signals that fired recently beat their baseline before? (:mod:`capscope.analytics.study`)

For each signal of the main symbol that fired in the last ``event_bars`` sessions (MACD signal-line crosses
qualified by the zero line, as traders read them), the study of all its earlier events: number of events,
mean forward return against the mean of every window of the same length, the excess with its 95 % interval
(placebo dates, so overlapping windows are not counted as independent), the Benjamini-Hochberg q-value over
the section's cells and a plain verdict (one sentence per signal at the first horizon; the table has every
horizon). The HTML chart shows the average cumulative excess return in the sessions after the event with its
band (:func:`capscope.analytics.study.excess_path`) for the signals that fired last.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from capscope.analytics.rounding import fmt, rnd
from capscope.report.context import SectionContext, SectionResult, iso

SECTION = "studies"
#: Placebo draws and seed of the brief's studies (recorded in brief.json ``studies``; a brief repeats exactly).
DRAWS = 1000
SEED = 20260101
#: The chart shows the excess-return paths of at most this many signals: the ones that fired last.
CHART_SIGNALS = 4


def _signals(events: Any, recent_from: np.datetime64) -> list[tuple[str, np.datetime64]]:
    """``(KIND[:FILTER], last date)`` of the signals that fired on or after ``recent_from`` (MACD qualified by
    the zero line), sorted by name."""
    days = events["date"].to_numpy().astype("datetime64[D]")
    keep = days >= recent_from
    last: dict[str, np.datetime64] = {}
    for kind, above, day in zip(
        events["kind"].astype(str)[keep], events["above_zero"][keep], days[keep], strict=True
    ):
        if kind in ("macd_bullish_cross", "macd_bearish_cross"):
            label = f"{kind}:above_zero={'true' if bool(above) else 'false'}"
        else:
            label = kind
        last[label] = max(last.get(label, day), day)
    return sorted(last.items())


def _words(label: str) -> str:
    kind, _, filt = label.partition(":")
    text = kind.replace("_", " ")
    if filt == "above_zero=true":
        text += " above zero"
    elif filt == "above_zero=false":
        text += " below zero"
    return text


def build(ctx: SectionContext) -> SectionResult:
    """Facts, table, brief.json ``studies`` and the excess-return chart series of the event-study section."""
    from capscope.analytics.study import StudyParams, excess_path, study_panel

    out = SectionResult(SECTION)
    p, s = ctx.params, ctx.main
    recent_from = s.dates[max(0, s.last - p.event_bars + 1)]
    events = ctx.events
    fired = _signals(events, recent_from) if len(events) else []
    signals = [label for label, _ in fired]
    # the chart: the signals that fired last (then by name)
    charted = [label for label, _ in sorted(fired, key=lambda x: (-x[1].astype("int64"), x[0]))][
        :CHART_SIGNALS
    ]
    studies: list[dict[str, Any]] = []
    rows = []
    paths: dict[str, Any] = {}
    if signals and p.horizons:
        panel = ctx.prices.select([s.symbol])
        params = StudyParams(horizons=tuple(p.horizons), draws=DRAWS, seed=SEED, ks=False)
        res = study_panel(panel, signals, params, events=events)
        for r in res.results:
            if r.n_events == 0:
                continue
            pct = {
                k: rnd(None if getattr(r, k) is None else getattr(r, k) * 100, "percent")
                for k in ("mean", "baseline_mean", "excess", "ci_low", "ci_high", "hit_rate")
            }
            q = rnd(r.q_value, "ratio")
            verdict = r.verdict
            entry = {
                "symbol": s.symbol,
                "signal": r.signal,
                "kind": r.kind,
                "filter": r.filter,
                "horizon": r.horizon,
                "n_events": r.n_events,
                "n_independent": r.n_independent,
                "mean_return": pct["mean"],
                "hit_rate": pct["hit_rate"],
                "baseline_mean": pct["baseline_mean"],
                "excess": pct["excess"],
                "ci_low": pct["ci_low"],
                "ci_high": pct["ci_high"],
                "q_value": q,
                "verdict": verdict,
                "first": r.first_event,
                "method": "placebo dates",
                "draws": DRAWS,
                "seed": SEED,
            }
            studies.append(entry)
            rows.append(
                [
                    _words(r.signal),
                    r.horizon,
                    r.n_events,
                    pct["mean"],
                    pct["baseline_mean"],
                    pct["excess"],
                    pct["ci_low"],
                    pct["ci_high"],
                    q,
                ]
            )
            if r.horizon != p.horizons[0]:
                continue  # one sentence per signal (first horizon); the table holds every horizon
            out.add(
                f"{r.signal.replace(':', '.').replace('=', '_')}.{r.horizon}",
                f"After the {r.n_events} earlier {_words(r.signal)} events of {s.symbol} (since {r.first_event}), "
                f"the next {r.horizon} sessions returned {fmt(pct['mean'], 'percent', sign=True)} on average "
                f"against {fmt(pct['baseline_mean'], 'percent', sign=True)} for every {r.horizon}-session window: "
                f"an excess of {fmt(pct['excess'], 'percent', sign=True)} (95 % interval "
                f"{fmt(pct['ci_low'], 'percent', sign=True)} to {fmt(pct['ci_high'], 'percent', sign=True)}, "
                f"q = {fmt(q, 'ratio')}), {verdict}.",
                pct["excess"],
                "percent",
                {
                    "symbol": s.symbol,
                    "field": "close",
                    "signal": r.signal,
                    "horizon": r.horizon,
                    "n": r.n_events,
                    "mean": pct["mean"],
                    "baseline_mean": pct["baseline_mean"],
                    "ci_low": pct["ci_low"],
                    "ci_high": pct["ci_high"],
                    "q_value": q,
                    "first": r.first_event,
                    "since": iso(recent_from),
                    "end": iso(ctx.as_of),
                    "method": "placebo dates",
                    "interval_level_pct": 95,
                },
                ctx.as_of,
            )
        longest = max(p.horizons)
        for sig in charted:
            path = excess_path(
                panel, sig, longest, StudyParams(draws=DRAWS, seed=SEED, ks=False), events=events
            )
            if any(v is not None for v in path["excess"]):
                paths[sig] = {
                    "label": _words(sig),
                    "horizon": path["horizon"],
                    "excess": [rnd(None if v is None else v * 100, "percent") for v in path["excess"]],
                    "ci_low": [rnd(None if v is None else v * 100, "percent") for v in path["ci_low"]],
                    "ci_high": [rnd(None if v is None else v * 100, "percent") for v in path["ci_high"]],
                }
    out.parts["studies"] = studies
    if paths:
        out.series["study_paths"] = {"symbol": s.symbol, "paths": paths}
    if not out.facts:
        out.add(
            "none",
            f"No signal of {s.symbol} that fired since {iso(recent_from)} has an earlier event with a complete "
            f"{p.horizons[0] if p.horizons else 0}-session window after it.",
            None,
            "study",
            {"symbol": s.symbol, "since": iso(recent_from), "horizons": list(p.horizons)},
            ctx.as_of,
        )
    if rows:
        out.table = {
            "columns": [
                "signal",
                "horizon (sessions)",
                "events",
                "mean %",
                "baseline %",
                "excess %",
                "95 % low",
                "95 % high",
                "q",
            ],
            "rows": rows,
        }
    return out
