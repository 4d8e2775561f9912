"""Claim files: one pydantic model per claim kind, and a loader whose every error names the line.

Why pydantic (v2): the models are the single statement of the format. They validate (``extra="forbid"`` rejects
misspelled keys instead of ignoring them, ``strict=True`` refuses ``"2110"`` for a number or ``yes`` for a
word, ``Literal`` fields refuse unknown values), they dispatch on ``kind`` as a discriminated union, and they
export the same format as JSON Schema (:func:`claims_json_schema`, ``capscope verify --schema``,
docs/claims.schema.json) for editors. msgspec would validate faster, but claim files are tiny, and pydantic's
error records (location, input, expected choices) are what the line-numbered messages below are built from.

A claims file is YAML (docs/claims.md)::

    as_of: 2025-12-31
    claims:
      - id: rut-neckline
        kind: level_breakout
        symbol: RUT
        level: 2110
        start: 2025-04-09
        end: 2025-12-31

:func:`load_claims` reads it with :class:`LineLoader` (a ``yaml.SafeLoader`` that records where every key and
value starts), validates it against :class:`ClaimsFile` and turns every problem into one
:class:`~capscope.errors.UsageError` (exit code 2) whose lines read
``FILE:LINE: claim ID: key 'KEY': VALUE ...; valid: A, B (did you mean A?)``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from capscope.errors import UsageError
from capscope.events.crosses import MA_KINDS
from capscope.patterns.records import ALL_KINDS as PATTERN_KINDS
from capscope.patterns.records import ALL_STATUSES

__all__ = [
    "KINDS",
    "Claim",
    "ClaimsFile",
    "LagClaim",
    "LevelBreakoutClaim",
    "LineLoader",
    "MaCrossClaim",
    "MacdCrossClaim",
    "OutperformanceClaim",
    "PatternClaim",
    "claim_symbols",
    "claims_json_schema",
    "load_claims",
    "parse_claims",
]


# -- field types -----------------------------------------------------------------------------------------------
def _to_date(value: Any) -> Any:
    """Accept a YAML date or an ISO ``YYYY-MM-DD`` string; anything else is a type error with the value."""
    if isinstance(value, dt.datetime):
        raise PydanticCustomError("date_type", "expected a date YYYY-MM-DD, not a date and time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise PydanticCustomError("date_format", "expected a date YYYY-MM-DD")
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise PydanticCustomError(
                "date_invalid", "not a calendar date ({reason})", {"reason": str(exc)}
            ) from None
    raise PydanticCustomError("date_type", "expected a date YYYY-MM-DD")


ClaimDate = Annotated[dt.date, BeforeValidator(_to_date), Field(description="Calendar date YYYY-MM-DD.")]
Symbol = Annotated[
    str,
    Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9^.\-_=]+$", description="Symbol as in the data."),
]
Tolerance = Annotated[float, Field(ge=0.0, lt=1.0, description="Relative tolerance, 0.02 = 2%.")]
Window = Annotated[int, Field(ge=1, le=5000, description="Window length in bars.")]
PatternKind = Literal[PATTERN_KINDS]  # type: ignore[valid-type]
PatternStatus = Literal[ALL_STATUSES]  # type: ignore[valid-type]
MaKind = Literal[MA_KINDS]  # type: ignore[valid-type]


def _rule(key: str, message: str, index: int | None = None) -> PydanticCustomError:
    """A cross-field rule broken at ``key`` (of claim ``index`` for file-level rules); the loader points at that
    key's line."""
    ctx: dict[str, Any] = {"key": key, "message": message}
    if index is not None:
        ctx["index"] = index
    return PydanticCustomError("claim_rule", "{message}", ctx)


class _ClaimBase(BaseModel):
    """Keys every claim has. ``start``/``end`` bound the window (inclusive, calendar dates)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: Annotated[str, Field(min_length=1, description="Name of the claim (default claim-N).")] | None = None
    says: Annotated[str, Field(description="The sentence of the story this claim checks.")] = ""
    symbol: Symbol
    start: ClaimDate
    end: ClaimDate

    @model_validator(mode="after")
    def _window(self) -> _ClaimBase:
        if self.end < self.start:
            raise _rule("end", f"end {self.end} is before start {self.start}")
        return self

    @property
    def name(self) -> str:
        """The claim id (``claim`` if none was given)."""
        return self.id or "claim"

    def symbols(self) -> list[str]:
        """Symbols the claim needs."""
        versus = getattr(self, "versus", None)
        return [self.symbol] + ([versus] if versus else [])


class LevelBreakoutClaim(_ClaimBase):
    """The close broke above (or below) a level in the window."""

    kind: Literal["level_breakout"]
    level: Annotated[float, Field(gt=0, description="The price level.")]
    tolerance: Tolerance = 0.02
    direction: Literal["above", "below"] = "above"


class MaCrossClaim(_ClaimBase):
    """A moving-average cross (golden/death: fast over slow average; price_above/below: close over one average)."""

    kind: Literal["ma_cross"]
    cross: Literal["golden", "death", "price_above", "price_below"] = "golden"
    ma: MaKind = "sma"
    fast: Window | None = Field(default=None, description="golden/death only (default 50).")
    slow: Window | None = Field(default=None, description="golden/death only (default 200).")
    window: Window | None = Field(default=None, description="price_above/price_below only (default 50).")

    @model_validator(mode="after")
    def _keys_of_cross(self) -> MaCrossClaim:
        pair = self.cross in ("golden", "death")
        if pair and self.window is not None:
            raise _rule("window", f"'window' applies to price_above/price_below, not to a {self.cross} cross")
        if not pair and (self.fast is not None or self.slow is not None):
            key = "fast" if self.fast is not None else "slow"
            raise _rule(key, f"'{key}' applies to golden/death crosses; use 'window' for {self.cross}")
        if pair and self.fast_window >= self.slow_window:
            raise _rule(
                "slow" if "slow" in self.model_fields_set else "fast",
                f"slow ({self.slow_window}) must be longer than fast ({self.fast_window})",
            )
        return self

    @property
    def fast_window(self) -> int:
        """Fast average window (default 50)."""
        return self.fast if self.fast is not None else 50

    @property
    def slow_window(self) -> int:
        """Slow average window (default 200)."""
        return self.slow if self.slow is not None else 200

    @property
    def price_window(self) -> int:
        """The average the close crosses (default 50)."""
        return self.window if self.window is not None else 50


class MacdCrossClaim(_ClaimBase):
    """A MACD signal-line crossover of a direction, optionally on one side of the zero line."""

    kind: Literal["macd_cross"]
    direction: Literal["bullish", "bearish"] = "bullish"
    zero: Literal["above", "below", "any"] = "any"
    fast: Window = 12
    slow: Window = 26
    signal: Window = 9

    @model_validator(mode="after")
    def _periods(self) -> MacdCrossClaim:
        if self.fast >= self.slow:
            raise _rule(
                "slow" if "slow" in self.model_fields_set else "fast",
                f"slow ({self.slow}) must be longer than fast ({self.fast})",
            )
        return self


class OutperformanceClaim(_ClaimBase):
    """``symbol`` did better than ``versus`` over the window (returns from the last bar on or before start)."""

    kind: Literal["outperformance"]
    versus: Symbol
    ratio_at_least: Annotated[float, Field(gt=0)] | None = None
    ratio_at_most: Annotated[float, Field(gt=0)] | None = None
    approx_ratio: Annotated[float, Field(gt=0)] | None = None
    tolerance: Tolerance | None = Field(default=None, description="With approx_ratio only (default 0.25).")
    difference_at_least: Annotated[float, Field(description="Percentage points.")] | None = None
    difference_at_most: Annotated[float, Field(description="Percentage points.")] | None = None

    @model_validator(mode="after")
    def _bounds(self) -> OutperformanceClaim:
        if self.tolerance is not None and self.approx_ratio is None:
            raise _rule("tolerance", "'tolerance' applies to approx_ratio, which this claim does not set")
        if self.versus == self.symbol:
            raise _rule("versus", f"versus is the claim's own symbol {self.symbol}")
        lo, hi = self.ratio_at_least, self.ratio_at_most
        if lo is not None and hi is not None and lo > hi:
            raise _rule("ratio_at_most", f"ratio_at_most {hi:g} is below ratio_at_least {lo:g}")
        dlo, dhi = self.difference_at_least, self.difference_at_most
        if dlo is not None and dhi is not None and dlo > dhi:
            raise _rule(
                "difference_at_most", f"difference_at_most {dhi:g} is below difference_at_least {dlo:g}"
            )
        return self

    @property
    def ratio_tolerance(self) -> float:
        """Tolerance of ``approx_ratio`` (default 0.25)."""
        return self.tolerance if self.tolerance is not None else 0.25


class LagClaim(_ClaimBase):
    """``symbol``'s return since the window start was below ``versus``'s on at least a share of the sessions."""

    kind: Literal["lagging"]
    versus: Symbol
    share_at_least: Annotated[float, Field(gt=0.0, le=1.0)] = 0.5

    @model_validator(mode="after")
    def _pair(self) -> LagClaim:
        if self.versus == self.symbol:
            raise _rule("versus", f"versus is the claim's own symbol {self.symbol}")
        return self


class PatternClaim(_ClaimBase):
    """The pattern detector, run on data up to the window end, finds such a pattern inside the window."""

    kind: Literal["pattern"]
    pattern: PatternKind
    status: PatternStatus | list[PatternStatus] | None = None
    neckline_near: Annotated[float, Field(gt=0)] | None = None
    tolerance: Tolerance | None = Field(default=None, description="With neckline_near only (default 0.03).")

    @model_validator(mode="after")
    def _neckline(self) -> PatternClaim:
        if self.tolerance is not None and self.neckline_near is None:
            raise _rule("tolerance", "'tolerance' applies to neckline_near, which this claim does not set")
        return self

    @property
    def statuses(self) -> list[str]:
        """Accepted statuses (empty: any)."""
        if self.status is None:
            return []
        return [self.status] if isinstance(self.status, str) else list(self.status)

    @property
    def neckline_tolerance(self) -> float:
        """Tolerance of ``neckline_near`` (default 0.03)."""
        return self.tolerance if self.tolerance is not None else 0.03


_MODELS: tuple[type[_ClaimBase], ...] = (
    LevelBreakoutClaim,
    MaCrossClaim,
    MacdCrossClaim,
    OutperformanceClaim,
    LagClaim,
    PatternClaim,
)
#: Claim kinds in the order of the docs.
KINDS: tuple[str, ...] = tuple(typing.get_args(m.model_fields["kind"].annotation)[0] for m in _MODELS)
_BY_KIND: dict[str, type[_ClaimBase]] = dict(zip(KINDS, _MODELS, strict=True))

Claim = Annotated[
    Union[  # noqa: UP007 (a discriminated union needs the Union form for the JSON Schema title)
        LevelBreakoutClaim, MaCrossClaim, MacdCrossClaim, OutperformanceClaim, LagClaim, PatternClaim
    ],
    Field(discriminator="kind"),
]
AnyClaim = Union[  # noqa: UP007
    LevelBreakoutClaim, MaCrossClaim, MacdCrossClaim, OutperformanceClaim, LagClaim, PatternClaim
]


class ClaimsFile(BaseModel):
    """A claims file: optional ``as_of`` and the list of claims."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        title="capscope claims file",
        json_schema_extra={"$comment": "Generated from capscope.claims.schema; see docs/claims.md."},
    )

    as_of: ClaimDate | None = Field(default=None, description="Last date that may be used (--as-of wins).")
    claims: Annotated[list[Claim], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_ids(self) -> ClaimsFile:
        seen: set[str] = set()
        for i, c in enumerate(self.claims):
            if c.id is not None and c.id in seen:
                raise _rule("id", f"claim id {c.id!r} is used twice", index=i)
            if c.id is not None:
                seen.add(c.id)
        return self


_CLAIM_LIST = TypeAdapter(list[Claim])


def claims_json_schema() -> dict[str, Any]:
    """The claims-file format as JSON Schema (draft 2020-12), generated from the models.

    Returns
    -------
    dict
        The schema; ``json.dumps(..., indent=2, sort_keys=True)`` of it is docs/claims.schema.json.
    """
    schema = ClaimsFile.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def claims_json_schema_text() -> str:
    """The JSON Schema as the text committed in docs/claims.schema.json (sorted keys, 2-space indent)."""
    return json.dumps(claims_json_schema(), indent=2, sort_keys=True) + "\n"


# -- YAML with line numbers --------------------------------------------------------------------------------------
class LineDict(dict[str, Any]):
    """A YAML mapping that remembers the line (1-based) of itself, each key and each value."""

    line: int = 0
    key_lines: dict[Any, int]
    value_lines: dict[Any, int]


class LineList(list[Any]):
    """A YAML sequence that remembers its line and the line of each item."""

    line: int = 0
    item_lines: list[int]


class _DuplicateKey(Exception):
    def __init__(self, key: Any, line: int, first: int) -> None:
        super().__init__(key)
        self.key, self.line, self.first = key, line, first


class LineLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that builds :class:`LineDict`/:class:`LineList` (with start lines), refuses duplicate
    keys, and leaves an impossible date such as ``2025-13-01`` as its text (the schema then names it) instead of
    raising from inside the constructor."""


def _construct_mapping(loader: Any, node: Any) -> LineDict:
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines, out.value_lines = {}, {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            key = str(key)
        line = key_node.start_mark.line + 1
        if key in out:
            raise _DuplicateKey(key, line, out.key_lines[key])
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = line
        out.value_lines[key] = value_node.start_mark.line + 1
    return out


def _construct_sequence(loader: Any, node: Any) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


def _construct_timestamp(loader: Any, node: Any) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)
    except (ValueError, OverflowError):
        return loader.construct_scalar(node)


LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


# -- loading -------------------------------------------------------------------------------------------------------
def _show(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    text = repr(value) if isinstance(value, str) else json.dumps(_plain(value), default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _choices(annotation: Any) -> list[str]:
    """The allowed words of a Literal field (also inside ``X | list[X] | None``)."""
    out: list[str] = []
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return [str(a) for a in typing.get_args(annotation)]
    for arg in typing.get_args(annotation):
        for c in _choices(arg):
            if c not in out:
                out.append(c)
    return out


def _suggest(word: Any, choices: list[str]) -> str:
    match = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _valid(choices: list[str], word: Any = None) -> str:
    shown = ", ".join(choices)
    return f"; valid: {shown}" + (_suggest(word, choices) if word is not None else "")


class _Problem:
    def __init__(self, line: int, text: str) -> None:
        self.line, self.text = line, text
        self.group: tuple[Any, ...] = ()
        self.specific = False
        self.misspelt: str | None = None


def _merge(problems: list[_Problem]) -> list[_Problem]:
    """One problem per (claim, key): a list item's error wins over the union's summary; a missing key whose
    misspelling is present is reported once, at the misspelling's line."""
    best: dict[tuple[Any, ...], _Problem] = {}
    order: list[tuple[Any, ...]] = []
    for p in problems:
        g = p.group or (id(p),)
        if g not in best:
            best[g] = p
            order.append(g)
        elif p.specific and not best[g].specific:
            best[g] = p
    out = [best[g] for g in order]
    misspelt = {(p.group[0], p.misspelt) for p in out if p.misspelt is not None and p.group}
    return [
        p
        for p in out
        if not (p.group and p.group[1:2] and (p.group[0], p.group[1]) in misspelt and "unknown key" in p.text)
    ]


def _describe(err: Any, claims: list[Any], doc: LineDict) -> _Problem:
    """One pydantic error record as a line-numbered sentence."""
    loc = list(err["loc"])
    etype = err["type"]
    if etype == "claim_rule" and "index" in err["ctx"]:
        loc = ["claims", err["ctx"]["index"]]
    where = "file"
    mapping: Any = doc
    model: type[BaseModel] | None = ClaimsFile
    fallback = doc.line
    if loc and loc[0] == "claims" and len(loc) >= 2 and isinstance(loc[1], int):
        index = loc[1]
        raw = claims[index] if index < len(claims) else None
        mapping = raw
        lines = getattr(doc.get("claims"), "item_lines", [])
        if index < len(lines):
            fallback = lines[index]
        loc = loc[2:]
        ident = raw.get("id") if isinstance(raw, dict) else None
        where = f"claim {ident}" if isinstance(ident, str) and ident else f"claim {index + 1}"
        model = None
        if loc and loc[0] in _BY_KIND:
            model = _BY_KIND[str(loc[0])]
            loc = loc[1:]
    key = loc[0] if loc and isinstance(loc[0], str) else None
    if etype == "claim_rule":
        key = err["ctx"]["key"]
    items = [x for x in loc[1:] if isinstance(x, int)]
    line = _line_of(mapping, key, items[:1], fallback=fallback, at_key=etype == "extra_forbidden")
    problem = _describe_at(err, etype, key, line, f"{where}: ", mapping, model)
    problem.group = (where, key)
    problem.specific = bool(items)
    return problem


def _describe_at(
    err: Any, etype: str, key: Any, line: int, head: str, mapping: Any, model: type[BaseModel] | None
) -> _Problem:
    if etype == "claim_rule":
        return _Problem(line, head + f"key {key!r}: {err['ctx']['message']}")
    if etype == "extra_forbidden" and key is not None:
        allowed = list(model.model_fields) if model is not None else []
        if model is not None and "kind" in allowed:
            allowed.remove("kind")
            allowed.insert(0, "kind")
        return _Problem(line, head + f"unknown key {key!r}" + _valid(allowed, key))
    if etype == "missing" and key is not None:
        if isinstance(mapping, dict):
            extra = [str(k) for k in mapping if model is None or k not in model.model_fields]
            match = difflib.get_close_matches(str(key), extra, n=1, cutoff=0.6)
            if match:
                at = _line_of(mapping, match[0], [], fallback=line, at_key=True)
                problem = _Problem(
                    at,
                    head + f"unknown key {match[0]!r} (did you mean {key!r}?); missing required key {key!r}",
                )
                problem.misspelt = match[0]
                return problem
        return _Problem(line, head + f"missing required key {key!r}")
    if etype in ("union_tag_invalid", "union_tag_not_found"):
        kind = mapping.get("kind") if isinstance(mapping, dict) else None
        if etype == "union_tag_not_found":
            return _Problem(line, head + "missing required key 'kind'" + _valid(list(KINDS)))
        line = _line_of(mapping, "kind", [], fallback=line)
        return _Problem(line, head + f"key 'kind': unknown value {_show(kind)}" + _valid(list(KINDS), kind))
    if etype == "model_type" or etype == "model_attributes_type" or etype == "dict_type":
        what = "file" if head.startswith("file") else "claim"
        return _Problem(
            line, head + f"a {what} must be a mapping of keys to values, got {_show(err.get('input'))}"
        )
    choices: list[str] = []
    if model is not None and key in model.model_fields:
        choices = _choices(model.model_fields[key].annotation)
    if etype == "literal_error" or (choices and etype in ("string_type", "list_type")):
        bad = err.get("input")
        return _Problem(line, head + f"key {key!r}: unknown value {_show(bad)}" + _valid(choices, bad))
    msg = err["msg"]
    msg = msg[0].lower() + msg[1:] if msg else msg
    shown = _show(err.get("input"))
    label = f"key {key!r}" if key is not None else "value"
    return _Problem(line, head + f"{label}: {shown}: {msg}")


def _line_of(mapping: Any, key: Any, rest: list[Any], fallback: int, *, at_key: bool = False) -> int:
    if not isinstance(mapping, LineDict):
        return getattr(mapping, "line", fallback) or fallback
    if key is None or key not in mapping:
        return mapping.line or fallback
    value = mapping[key]
    if rest and isinstance(value, LineList) and isinstance(rest[0], int) and rest[0] < len(value.item_lines):
        return value.item_lines[rest[0]]
    if at_key:
        return mapping.key_lines.get(key, fallback)
    return mapping.value_lines.get(key, mapping.key_lines.get(key, fallback))


def _fail(path: Path, problems: list[_Problem]) -> UsageError:
    problems = sorted(problems, key=lambda p: p.line)
    lines = [f"{path}:{p.line}: {p.text}" for p in problems]
    if len(lines) == 1:
        return UsageError(f"invalid claims file {lines[0]}")
    return UsageError(f"invalid claims file {path} ({len(lines)} problems):\n  " + "\n  ".join(lines))


def load_claims(path: str | Path) -> tuple[list[AnyClaim], str | None]:
    """Read, validate and return the claims of a YAML claims file.

    Parameters
    ----------
    path
        The YAML file.

    Returns
    -------
    (claims, as_of)
        The claims (ids defaulted to ``claim-N``) and the file's ``as_of`` as ``YYYY-MM-DD`` (or ``None``).

    Raises
    ------
    UsageError
        Missing/unreadable file, YAML syntax error, empty file, or any schema violation; the message names the
        file, line, claim id, key, the bad value and the valid choices (module docstring).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such claims file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, not a claims file") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the claims file ({exc.strerror})") from None
    try:
        doc = yaml.load(text, Loader=LineLoader)
    except _DuplicateKey as dup:
        raise UsageError(
            f"invalid claims file {path}:{dup.line}: key {dup.key!r} is given twice (first on line {dup.first})"
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"{mark.line + 1}" if mark is not None else "?"
        what = " ".join(x for x in (exc.context, exc.problem) if x)
        raise UsageError(f"invalid claims file {path}:{line}: not valid YAML: {what}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"invalid claims file {path}: not valid YAML: {exc}") from None
    if doc is None:
        raise UsageError(
            f"invalid claims file {path}: the file is empty; expected a mapping with a 'claims' list"
        )
    if not isinstance(doc, LineDict):
        raise UsageError(
            f"invalid claims file {path}:1: expected a mapping with a 'claims' list, got "
            f"{'a list' if isinstance(doc, list) else 'the value'} {_show(doc)}"
        )
    claims = doc.get("claims")
    raw_claims: list[Any] = list(claims) if isinstance(claims, list) else []
    data = _plain_top(doc)
    try:
        parsed = ClaimsFile.model_validate(data)
    except ValidationError as exc:
        raise _fail(path, _merge([_describe(e, raw_claims, doc) for e in exc.errors()])) from None
    out = _with_ids(parsed.claims)
    as_of = parsed.as_of.isoformat() if parsed.as_of is not None else None
    return out, as_of


def _plain_top(doc: LineDict) -> dict[str, Any]:
    """Plain dicts/lists for pydantic (strict mode refuses dict subclasses as model input)."""
    return typing.cast(dict[str, Any], _plain_any(doc))


def _plain_any(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain_any(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_any(v) for v in value]
    return value


def _with_ids(claims: list[AnyClaim]) -> list[AnyClaim]:
    taken = {c.id for c in claims if c.id}
    out: list[AnyClaim] = []
    for i, c in enumerate(claims):
        if c.id:
            out.append(c)
            continue
        name = f"claim-{i + 1}"
        while name in taken:
            name += "-"
        taken.add(name)
        out.append(c.model_copy(update={"id": name}))
    return out


def parse_claims(claims: list[dict[str, Any]]) -> list[AnyClaim]:
    """Validate claims given as Python dicts (library use and tests; files go through :func:`load_claims`).

    Parameters
    ----------
    claims
        One dict per claim, keys as in a claims file (dates as ``date`` or ``YYYY-MM-DD``).

    Returns
    -------
    list
        The claim models, ids defaulted to ``claim-N``.

    Raises
    ------
    UsageError
        A claim breaks the schema (the message names the claim and key).
    """
    try:
        parsed = _CLAIM_LIST.validate_python([_plain_any(c) for c in claims])
    except ValidationError as exc:
        doc = LineDict()
        doc.key_lines, doc.value_lines = {}, {}
        found: list[_Problem] = []
        for e in exc.errors():
            err: dict[str, Any] = {**e, "loc": ("claims", *e["loc"])}
            found.append(_describe(err, list(claims), doc))
        raise UsageError("invalid claims: " + "; ".join(p.text for p in _merge(found))) from None
    return _with_ids(list(parsed))


def claim_symbols(claims: list[AnyClaim]) -> list[str]:
    """Every symbol the claims name (``symbol`` and ``versus``), in order of appearance.

    Parameters
    ----------
    claims
        Validated claims.

    Returns
    -------
    list of str
        Unique symbols.
    """
    out: dict[str, None] = {}
    for claim in claims:
        for sym in claim.symbols():
            out[sym] = None
    return list(out)
