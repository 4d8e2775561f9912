"""Event-frame assembly (records.assemble) against the frame built the obvious way: sort order, ties, missing
values, text columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from capscope.events import records as R


def _parts_frame(rng: np.random.Generator, n_rows: int, m: int) -> tuple[object, list[R.EventParts]]:
    """A panel and hand-made event parts with ties on (date, symbol, kind) across and within parts."""
    from capscope.data.panel import Panel

    dates = np.array(pd.bdate_range("2024-01-01", periods=n_rows).values.astype("datetime64[D]"))
    close = rng.normal(100, 5, (n_rows, m))
    fields = {k: close.copy() for k in ("open", "high", "low", "close", "volume")}
    symbols = tuple(rng.permutation([f"S{j:02d}" for j in range(m)]))  # not in name order
    panel = Panel(dates, symbols, fields)
    parts = []
    for ma, window in (("sma", 200), ("ema", 50), ("sma", 50)):
        k = 40
        parts.append(
            R.EventParts(
                rng.integers(0, n_rows, k),
                rng.integers(0, m, k),
                R.kind_codes(rng.choice([R.PRICE_CROSS_ABOVE, R.PRICE_CROSS_BELOW], k)),
                {"ma": ma, "window": window, "ma_value": rng.normal(100, 5, k)},
            )
        )
    k = 60
    level = rng.choice([99.0, 100.0, 101.0, np.nan], k)
    parts.append(
        R.EventParts(
            rng.integers(0, n_rows, k),
            rng.integers(0, m, k),
            R.kind_codes(rng.choice([R.BREAKOUT_ABOVE, R.BREAKOUT_FAILED], k)),
            {
                "level": level,
                "level_kind": rng.choice([0.0, 1.0, 2.0, np.nan], k),
                "touches": np.where(rng.random(k) < 0.3, np.nan, rng.integers(2, 5, k)),
                "breakout_date": dates[rng.integers(0, n_rows, k)],
                "above_zero": rng.choice([0.0, 1.0, np.nan], k),
            },
        )
    )
    return panel, parts


def _concat_and_sort(panel, parts: list[R.EventParts]) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The frame built the obvious way: one make_events frame per part, concatenated, then sort_events."""
    frames = []
    for p in parts:
        cols = {}
        for name, v in p.fields.items():
            dtype = R.EVENT_DTYPES[name]
            if dtype == "category" and not isinstance(v, str) and np.asarray(v).dtype != object:
                vocab = R.TEXT_VOCAB[name]
                arr = np.broadcast_to(np.asarray(v, dtype=np.float64), (len(p),))
                cols[name] = np.array([None if np.isnan(c) else vocab[int(c)] for c in arr], dtype=object)
            else:
                cols[name] = v
        cols["price"] = panel.close[p.row, p.col]
        frames.append(
            R.make_events(
                np.asarray(R.EVENT_KINDS, dtype=object)[p.kind],
                cols,
                symbol=np.asarray(panel.symbols, dtype=object)[p.col],
                date=panel.dates[p.row],
                symbols=panel.symbols,
            )
        )
    return R.concat_events(frames)


def _extra_parts(rng: np.random.Generator, n_rows: int, m: int, variant: str) -> list[R.EventParts]:
    """Parts that exercise the other tie paths of assemble: parts with equal parameters (their rows stay in input
    order), and a scalar-level part sharing kinds with the array-level part (every part falls back to the tie
    order)."""
    k = 40
    out = []
    if variant in ("duplicate", "both"):
        out.append(
            R.EventParts(
                rng.integers(0, n_rows, k),
                rng.integers(0, m, k),
                R.kind_codes(rng.choice([R.PRICE_CROSS_ABOVE, R.PRICE_CROSS_BELOW], k)),
                {"ma": "ema", "window": 50.0, "ma_value": rng.normal(100, 5, k), "threshold": np.nan},
            )
        )
        out.append(
            R.EventParts(
                rng.integers(0, n_rows, k),
                rng.integers(0, m, k),
                R.kind_codes(rng.choice([R.GOLDEN_CROSS, R.PRICE_CROSS_BELOW], k)),
                {"ma": "sma", "fast": 20, "slow": 50, "window": 7, "fast_value": rng.normal(100, 5, k)},
            )
        )
    if variant in ("shared", "both"):
        out.append(
            R.EventParts(
                rng.integers(0, n_rows, k),
                rng.integers(0, m, k),
                R.kind_codes(rng.choice([R.BREAKOUT_ABOVE, R.DEATH_CROSS], k)),
                {"level": 100.0, "level_kind": "support", "touches": 3},
            )
        )
    if variant == "fractional":
        # integer parameters given as fractions: ordered as the Int64 column holds them
        out.append(
            R.EventParts(
                rng.integers(0, 3, k),  # crowded: many ties within the part
                rng.integers(0, 2, k),
                R.kind_codes(rng.choice([R.PRICE_CROSS_ABOVE, R.PRICE_CROSS_BELOW], k)),
                {"ma": "ema", "window": rng.choice([49.9, 50.2, 50.7, np.nan], k), "ma_value": rng.random(k)},
            )
        )
    return out


@pytest.mark.parametrize("variant", ["plain", "duplicate", "shared", "both", "fractional"])
@pytest.mark.parametrize("seed", range(6))
def test_assemble_equals_concat_and_sort(seed: int, variant: str) -> None:
    rng = np.random.default_rng(seed)
    panel, parts = _parts_frame(rng, n_rows=12, m=4)  # few cells: many ties
    parts += _extra_parts(rng, 12, 4, variant)
    fast = R.assemble(panel, parts)  # type: ignore[arg-type]
    ref = _concat_and_sort(panel, parts)
    assert [str(t) for t in fast.dtypes] == list(R.EVENT_DTYPES.values())
    pd.testing.assert_frame_equal(fast, ref)
    key = fast[["date", "symbol", "kind"]].astype(str).agg("|".join, axis=1)
    assert key.duplicated().sum() > 5  # the data really has ties to order


# -- categorical text columns ---------------------------------------------------------------------------------


def test_assemble_text_columns_are_categoricals_of_fixed_categories() -> None:
    rng = np.random.default_rng(3)
    panel, parts = _parts_frame(rng, n_rows=12, m=5)  # symbols not in name order, one without events
    parts = [R.EventParts(p.row, np.minimum(p.col, 3), p.kind, p.fields) for p in parts]
    frame = R.assemble(panel, parts)  # type: ignore[arg-type]
    assert list(frame["symbol"].cat.categories) == sorted(panel.symbols)  # type: ignore[attr-defined]
    assert set(frame["symbol"]) < set(frame["symbol"].cat.categories)
    assert list(frame["kind"].cat.categories) == sorted(R.EVENT_KINDS)
    for name in ("ma", "level_kind"):
        assert list(frame[name].cat.categories) == list(R.TEXT_VOCAB[name])
        assert frame[name].isna().any() and frame[name].notna().any()
    # the codes are those of the names: decoded as strings, the frame is what the strings say
    cols = np.asarray(panel.symbols, dtype=object)  # type: ignore[attr-defined]
    want = sorted(
        (str(d), str(s)) for p in parts for d, s in zip(panel.dates[p.row], cols[p.col], strict=True)
    )  # type: ignore[attr-defined]
    got = sorted(zip(frame["date"].dt.date.astype(str), frame["symbol"].astype(str), strict=True))
    assert got == want


def test_sort_events_orders_categoricals_by_name_missing_first() -> None:
    dates = np.array(["2024-01-02"] * 4, dtype="datetime64[D]")
    ev = R.make_events(
        R.PRICE_CROSS_ABOVE,
        {"ma": np.array(["sma", None, "ema", "sma"], dtype=object), "window": 50},
        symbol=np.array(["m", "z", "z", "a"], dtype=object),
        date=dates,
    )
    # categories in a non-name order: the sort must still go by name
    ev["symbol"] = ev["symbol"].cat.reorder_categories(["z", "m", "a"])
    ev["ma"] = ev["ma"].cat.reorder_categories(["sma", "ema"])
    out = R.sort_events(ev)
    assert list(out["symbol"]) == ["a", "m", "z", "z"]
    assert [None if pd.isna(v) else v for v in out["ma"]] == ["sma", "sma", None, "ema"]


def test_concat_events_unions_symbol_categories() -> None:
    def frame(symbols: list[str], day: str) -> pd.DataFrame:
        return R.make_events(
            R.GOLDEN_CROSS,
            {"ma": "sma", "fast": 50, "slow": 200},
            symbol=np.array(symbols, dtype=object),
            date=np.array([day] * len(symbols), dtype="datetime64[D]"),
            symbols=[*symbols, "Q"],
        )

    a, b = frame(["B", "A"], "2024-01-03"), frame(["C", "A"], "2024-01-02")
    plain = frame(["D"], "2024-01-04").astype({"symbol": "str", "kind": "str", "ma": "str"})
    # the union's categories in another order: recoded to the sorted order, not kept
    c = frame(["B"], "2024-01-05")
    c["symbol"] = c["symbol"].cat.set_categories(["Q", "E", "D", "C", "B", "A"])
    out = R.concat_events([a, R.empty_events(["E"]), b, plain, c])
    assert list(out["symbol"].cat.categories) == ["A", "B", "C", "D", "E", "Q"]
    assert [str(t) for t in out.dtypes] == list(R.EVENT_DTYPES.values())
    assert list(zip(out["date"].dt.day, out["symbol"], strict=True)) == [
        (2, "A"),
        (2, "C"),
        (3, "A"),
        (3, "B"),
        (4, "D"),
        (5, "B"),
    ]
    assert list(out["kind"].cat.categories) == sorted(R.EVENT_KINDS)
    assert list(R.concat_events([c])["symbol"].cat.categories) == ["A", "B", "C", "D", "E", "Q"]
    assert list(R.concat_events([]).columns) == list(R.EVENT_COLUMNS)


def test_records_carry_plain_strings_and_unknown_text_is_rejected() -> None:
    ev = R.make_events(
        R.BREAKOUT_ABOVE,
        {"level": 10.0, "level_kind": "resistance", "touches": 2},
        symbol=np.array(["X"], dtype=object),
        date=np.array(["2024-01-02"], dtype="datetime64[D]"),
    )
    (rec,) = R.events_to_records(ev)
    for name in ("symbol", "kind", "level_kind"):
        assert type(rec[name]) is str
    assert (rec["symbol"], rec["kind"], rec["level_kind"]) == ("X", R.BREAKOUT_ABOVE, "resistance")
    with pytest.raises(ValueError, match="not among"):
        R.make_events(
            "no_such_kind",
            {},
            symbol=np.array(["X"], dtype=object),
            date=np.array(["2024-01-02"], dtype="datetime64[D]"),
        )
    with pytest.raises(ValueError, match="level_kind values"):
        R.make_events(
            R.BREAKOUT_ABOVE,
            {"level_kind": "roof"},
            symbol=np.array(["X"], dtype=object),
            date=np.array(["2024-01-02"], dtype="datetime64[D]"),
        )


def _random_field(rng: np.random.Generator, name: str, k: int, dates: np.ndarray) -> object:
    """One part's field: a scalar (possibly missing) or an array in one of the forms the families hand over."""
    dtype = R.EVENT_DTYPES[name]
    form = rng.integers(0, 4)
    holes = rng.random(k) < 0.3
    if dtype == "float64":
        values = rng.choice([-1.5, 0.0, 2.25, 100.0, 101.0], k)
        return [np.nan, 100.0, np.where(holes, np.nan, values), rng.integers(0, 3, k)][form]
    if dtype == "Int64":
        ints = rng.integers(1, 4, k) * 10
        return [
            [50, np.nan, 7.0][rng.integers(0, 3)],
            ints,
            np.where(holes, np.nan, ints + rng.choice([0.0, 0.4, -0.6], k)),  # fractions truncate
            ints.astype(np.float64),
        ][form]
    if dtype == "boolean":
        flags = rng.random(k) < 0.5
        scalar = [True, np.nan, 0.0][rng.integers(0, 3)]
        return [scalar, flags, np.where(holes, np.nan, flags), flags * 1.0][form]
    if dtype == "category":
        vocab = R.TEXT_VOCAB[name]
        codes = rng.integers(0, len(vocab), k).astype(np.float64)
        return [
            [vocab[-1], np.nan, 0.0][rng.integers(0, 3)],
            np.where(holes, np.nan, codes),
            np.asarray(vocab, dtype=object)[codes.astype(np.int64)],
            codes,
        ][form]
    days = dates[rng.integers(0, len(dates), k)]
    return [
        [dates[1], np.datetime64("NaT")][rng.integers(0, 2)],
        days,  # datetime64[D]: cast to ns on the way in
        np.where(holes, np.datetime64("NaT"), days.astype("datetime64[ns]")),
        days.astype("datetime64[ns]"),
    ][form]


def _random_parts(rng: np.random.Generator, n_rows: int, m: int, dates: np.ndarray) -> list[R.EventParts]:
    """Several parts on a crowded panel: shared kinds, scalar and array fields (sort parameters among them),
    missing values in every dtype, empty parts and one-row parts."""
    kinds = rng.choice(np.asarray(R.EVENT_KINDS), 4, replace=False)  # few kinds: parts share them
    fields = [c for c in R.EVENT_COLUMNS if c not in ("symbol", "date", "kind", "price")]
    parts = []
    for _ in range(rng.integers(1, 7)):
        k = int(rng.choice([0, 1, rng.integers(2, 50)]))
        names = rng.choice(fields, rng.integers(0, len(fields)), replace=False)
        parts.append(
            R.EventParts(
                rng.integers(0, n_rows, k),
                rng.integers(0, m, k),
                R.kind_codes(rng.choice(kinds, k)),
                {str(name): _random_field(rng, str(name), k, dates) for name in names},
            )
        )
    return parts


@pytest.mark.parametrize("seed", range(300))
def test_assemble_equals_concat_and_sort_on_generated_parts(seed: int) -> None:
    rng = np.random.default_rng(seed)
    panel, parts = _parts_frame(rng, n_rows=6, m=3)
    variant = ["plain", "duplicate", "shared", "both", "fractional"][seed % 5]
    extra = _extra_parts(rng, 6, 3, variant) + _random_parts(rng, 6, 3, panel.dates)  # type: ignore[attr-defined]
    for chosen in (extra, parts + extra):
        fast = R.assemble(panel, chosen)  # type: ignore[arg-type]
        assert [str(t) for t in fast.dtypes] == list(R.EVENT_DTYPES.values())
        pd.testing.assert_frame_equal(fast, _concat_and_sort(panel, chosen))


@pytest.mark.parametrize("which", ["prices_panel", "stocks_panel"])
def test_assemble_equals_concat_and_sort_on_sample(which: str, request: pytest.FixtureRequest) -> None:
    from capscope.events.scan import precompute_indicators, scan_parts

    panel = request.getfixturevalue(which)
    cache = precompute_indicators(panel)
    middle = panel.dates[len(panel.dates) // 2]
    for kinds, since in ((None, None), (["levels", "macd", R.BREAKDOWN_FAILED], middle)):
        parts = scan_parts(panel, kinds, since=since, cache=cache)
        fast = R.assemble(panel, parts)
        assert len(fast) > 1000
        pd.testing.assert_frame_equal(fast, _concat_and_sort(panel, parts))
