"""Plotly figures for brief.html, built from brief.json only.

Figures are plain plotly JSON dicts (``{"data": [...], "layout": {...}}``) rather than
``plotly.graph_objects`` objects: the page renders them client-side with ``Plotly.newPlot``, building dicts is
deterministic and keeps ``capscope brief`` fast (importing ``plotly.graph_objects`` costs about a second).
The trace and attribute names follow the plotly.js figure reference (https://plotly.com/javascript/reference/),
and the tests validate every figure with ``plotly.graph_objects.Figure``.

Every trace carries a stable ``uid`` so the browser tests can find it.
"""

from __future__ import annotations

from typing import Any

Figure = dict[str, Any]

_COLORS = {
    "up": "#1a9850",
    "down": "#d73027",
    "fast": "#1f77b4",
    "slow": "#ff7f0e",
    "pattern": "#6a3d9a",
    "neckline": "#6a3d9a",
    "breakout": "#e7298a",
    "target": "#33a02c",
    "invalidation": "#b15928",
    "zero": "#555555",
    "signal": "#ff7f0e",
    "hist": "#9e9e9e",
}


def _layout(title: str, *, height: int = 360, yaxis_title: str = "", **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title},
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 40},
        "xaxis": {"type": "date", "rangeslider": {"visible": False}},
        "yaxis": {"title": {"text": yaxis_title}},
        "legend": {"orientation": "h", "y": -0.15},
        "hovermode": "x unified",
        "font": {"family": "system-ui, sans-serif", "size": 12},
    }
    layout.update(extra)
    return layout


def _line(uid: str, name: str, x: list[Any], y: list[Any], color: str, **extra: Any) -> dict[str, Any]:
    trace: dict[str, Any] = {
        "type": "scatter",
        "mode": "lines",
        "uid": uid,
        "name": name,
        "x": x,
        "y": y,
        "line": {"color": color, "width": 1.5},
    }
    trace.update(extra)
    return trace


def _pattern_traces(pattern: dict[str, Any], suffix: str, end: str) -> list[dict[str, Any]]:
    """Points, neckline, breakout, target and invalidation of one pattern (uids end with ``suffix``)."""
    name = pattern["kind"].replace("_", " ")
    points = pattern.get("points") or []
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "markers+text",
            "uid": f"pattern_points{suffix}",
            "name": f"{name} points",
            "x": [p["date"] for p in points],
            "y": [p["price"] for p in points],
            "text": [p["role"].replace("_", " ") for p in points],
            "textposition": "bottom center",
            "marker": {"color": _COLORS["pattern"], "size": 9, "symbol": "diamond"},
        }
    ]
    neck = pattern.get("neckline")
    if not neck:
        return data
    x_neck, y_neck = [neck["date0"], neck["date1"]], [neck["price0"], neck["price1"]]
    breakout = pattern.get("breakout")
    if breakout and pattern.get("neckline_at_breakout") is not None and breakout["date"] > neck["date1"]:
        # extend the neckline to the breakout bar, at the level the detector compared the close with
        x_neck.append(breakout["date"])
        y_neck.append(pattern["neckline_at_breakout"])
    data.append(
        _line(
            f"neckline{suffix}",
            f"{name} neckline",
            x_neck,
            y_neck,
            _COLORS["neckline"],
            line={"color": _COLORS["neckline"], "width": 2, "dash": "dash"},
        )
    )
    if breakout:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "uid": f"breakout{suffix}",
                "name": f"{name} breakout",
                "x": [breakout["date"]],
                "y": [breakout["price"]],
                "marker": {"color": _COLORS["breakout"], "size": 14, "symbol": "star"},
            }
        )
    start = breakout["date"] if breakout else neck["date1"]
    for key in ("target", "invalidation"):
        if pattern.get(key) is not None:
            data.append(
                _line(
                    f"{key}{suffix}",
                    f"{name} {key}",
                    [start, end],
                    [pattern[key], pattern[key]],
                    _COLORS[key],
                    line={"color": _COLORS[key], "width": 1.5, "dash": "dot"},
                )
            )
    return data


def price_figure(brief: dict[str, Any]) -> Figure | None:
    """Candlesticks with the fast/slow SMAs, the latest chart pattern, its breakout and target."""
    price = brief.get("series", {}).get("price")
    if not price or not price.get("dates"):
        return None
    x = price["dates"]
    sym = price["symbol"]
    data: list[dict[str, Any]] = [
        {
            "type": "candlestick",
            "uid": "candles",
            "name": sym,
            "x": x,
            "open": price["open"],
            "high": price["high"],
            "low": price["low"],
            "close": price["close"],
            "increasing": {"line": {"color": _COLORS["up"]}},
            "decreasing": {"line": {"color": _COLORS["down"]}},
        },
        _line("sma_fast", f"SMA {price['fast']}", x, price["sma_fast"], _COLORS["fast"]),
        _line("sma_slow", f"SMA {price['slow']}", x, price["sma_slow"], _COLORS["slow"]),
    ]
    for i, pattern in enumerate(price.get("patterns") or []):
        data += _pattern_traces(pattern, "" if i == 0 else f"_{i + 1}", x[-1])
    return {"data": data, "layout": _layout(f"{sym}: daily bars", height=480, yaxis_title="level")}


def macd_figure(brief: dict[str, Any]) -> Figure | None:
    """MACD line, signal line, histogram and the zero line."""
    macd = brief.get("series", {}).get("macd")
    if not macd or not macd.get("dates"):
        return None
    x = macd["dates"]
    p = macd["params"]
    data = [
        {
            "type": "bar",
            "uid": "macd_hist",
            "name": "histogram",
            "x": x,
            "y": macd["hist"],
            "marker": {"color": _COLORS["hist"]},
        },
        _line("macd", f"MACD({p['fast']}, {p['slow']})", x, macd["macd"], _COLORS["fast"]),
        _line("macd_signal", f"signal({p['signal']})", x, macd["signal"], _COLORS["signal"]),
        _line(
            "zero_line",
            "zero line",
            [x[0], x[-1]],
            [0.0, 0.0],
            _COLORS["zero"],
            line={"color": _COLORS["zero"], "width": 1, "dash": "dash"},
        ),
    ]
    return {"data": data, "layout": _layout(f"{macd['symbol']}: MACD", height=300)}


def relative_strength_figure(brief: dict[str, Any]) -> Figure | None:
    """Small/large relative-strength line (symbol / benchmark, rebased to 100)."""
    rs = brief.get("series", {}).get("relative_strength")
    if not rs or not rs.get("dates"):
        return None
    data = [
        _line("rs", f"{rs['symbol']} / {rs['benchmark']}", rs["dates"], rs["value"], _COLORS["fast"]),
    ]
    if rs.get("sma"):
        data.append(_line("rs_sma", f"SMA {rs['window']}", rs["dates"], rs["sma"], _COLORS["slow"]))
    title = f"Relative strength {rs['symbol']} / {rs['benchmark']} (rebased to 100 on {rs['dates'][0]})"
    return {"data": data, "layout": _layout(title, height=300)}


def growth_value_figure(brief: dict[str, Any]) -> Figure | None:
    """Growth / value price ratio (rebased to 100)."""
    gv = brief.get("series", {}).get("growth_value")
    if not gv or not gv.get("dates"):
        return None
    data = [
        _line("gv_ratio", f"{gv['growth']} / {gv['value']}", gv["dates"], gv["ratio"], _COLORS["pattern"])
    ]
    title = (
        f"Growth / value {gv['growth']} / {gv['value']} ({gv['basis']}, rebased to 100 on {gv['dates'][0]})"
    )
    return {"data": data, "layout": _layout(title, height=300)}


def breadth_figure(brief: dict[str, Any]) -> Figure | None:
    """Share of the universe above its moving averages."""
    br = brief.get("series", {}).get("breadth")
    if not br or not br.get("dates"):
        return None
    data = []
    for i, (key, label) in enumerate(br["lines"]):
        color = [_COLORS["fast"], _COLORS["slow"], _COLORS["pattern"], _COLORS["target"]][i % 4]
        data.append(_line(f"breadth_{key}", label, br["dates"], br[key], color))
    layout = _layout(f"Breadth of the {br['universe']} universe", height=300, yaxis_title="% of symbols")
    return {"data": data, "layout": layout}


def study_figure(brief: dict[str, Any]) -> Figure | None:
    """Average cumulative excess return after each studied signal, session by session, with its 95 % band."""
    st = brief.get("series", {}).get("study_paths")
    if not st or not st.get("paths"):
        return None
    palette = [_COLORS["fast"], _COLORS["slow"], _COLORS["pattern"], _COLORS["target"], _COLORS["breakout"]]
    data: list[dict[str, Any]] = []
    for i, (key, path) in enumerate(sorted(st["paths"].items())):
        color = palette[i % len(palette)]
        x = path["horizon"]
        band = {"color": color, "width": 0}
        data.append(
            _line(
                f"study_{key}_high",
                f"{path['label']} 95 % high",
                x,
                path["ci_high"],
                color,
                line=band,
                showlegend=False,
                legendgroup=key,
            )
        )
        data.append(
            _line(
                f"study_{key}_low",
                f"{path['label']} 95 % band",
                x,
                path["ci_low"],
                color,
                line=band,
                fill="tonexty",
                opacity=0.2,
                legendgroup=key,
            )
        )
        data.append(_line(f"study_{key}", path["label"], x, path["excess"], color, legendgroup=key))
    layout = _layout(
        f"{st['symbol']}: average cumulative excess return after each signal (vs every window of that length)",
        height=340,
        yaxis_title="excess return %",
        xaxis={"title": {"text": "sessions after the event"}},
        hovermode="x",
    )
    return {"data": data, "layout": layout}


#: Chart id -> (title, builder), in page order.
CHARTS = {
    "price": price_figure,
    "macd": macd_figure,
    "relative_strength": relative_strength_figure,
    "growth_value": growth_value_figure,
    "breadth": breadth_figure,
    "study": study_figure,
}


def figures(brief: dict[str, Any]) -> dict[str, Figure]:
    """Every chart the brief has data for, keyed by chart id."""
    out: dict[str, Figure] = {}
    for key, build in CHARTS.items():
        fig = build(brief)
        if fig is not None:
            out[key] = fig
    return out
