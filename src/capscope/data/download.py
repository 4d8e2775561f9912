"""Online download of daily bars (last resort of the data-directory resolution, :mod:`capscope.data.sources`).

Source: Yahoo Finance's public chart endpoint, ``GET /v8/finance/chart/{symbol}?period1=..&period2=..&interval=1d``
(the endpoint the ``yfinance`` library wraps), read with the standard library (:mod:`urllib`). The JSON answer has
``chart.result[0]`` with ``timestamp`` (seconds since the epoch, UTC, of each session's start), ``meta``
(``exchangeTimezoneName``, ``gmtoffset``) and ``indicators.quote[0]`` (``open high low close volume`` lists, with
``null`` for missing values) plus ``indicators.adjclose[0].adjclose``; errors come as ``chart.error``
(``{"code": ..., "description": ...}``), usually with HTTP 404/400.

Each timestamp's calendar day is taken in the exchange's time zone. Rows with any missing price or volume
(Yahoo emits such rows for sessions without data) are dropped and each is logged (logger ``capscope.data``, and
the caller's ``log`` list); the result is then validated like any file (:func:`~capscope.data.validate.validate_bars`).

The HTTP call is injectable (``fetch``) so tests run offline against response bodies they build. The default symbol
set is configuration, not analysis logic: the indices and ETFs the brief compares.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final

import polars as pl

from capscope.data.validate import Repair, validate_bars
from capscope.errors import DataError, DownloadError

logger = logging.getLogger("capscope.data")

#: Chart endpoint; ``{symbol}`` is URL-quoted (``^RUT`` -> ``%5ERUT``).
YAHOO_CHART_URL: Final = (
    "https://query1.finance.yahoo.com/v8/finance/chart/{symbol}?period1={period1}&period2={period2}"
    "&interval=1d&includeAdjustedClose=true&events=div%2Csplits"
)
#: Environment variable naming another chart endpoint with the same placeholders (a mirror, a test server).
CHART_URL_ENV: Final = "CAPSCOPE_CHART_URL"
#: Default download set: file symbol -> Yahoo symbol (indices carry a ``^``).
DEFAULT_SYMBOLS: Final[Mapping[str, str]] = {
    "RUT": "^RUT",
    "GSPC": "^GSPC",
    "NDX": "^NDX",
    "IWM": "IWM",
    "SPY": "SPY",
    "QQQ": "QQQ",
    "IWO": "IWO",
    "IWN": "IWN",
    "IWF": "IWF",
    "IWD": "IWD",
}
#: First day requested by default (before the Russell 2000's 1987 start on Yahoo).
DEFAULT_START: Final = date(1985, 1, 1)
#: Seconds before a request is abandoned.
DEFAULT_TIMEOUT: Final = 30.0
#: Marker file written when every symbol of a download is in place.
COMPLETE_MARKER: Final = ".complete"
_HOW_TO_PROCEED: Final = (
    "check the network connection and retry, or use local files: pass --data DIR or set CAPSCOPE_DATA"
)


class NoBarsError(DownloadError):
    """The answer is well formed but holds no bar in the requested range (e.g. nothing new since the last bar)."""


#: ``fetch(url, timeout) -> (http_status, body)``; raises :class:`OSError` (e.g. :class:`urllib.error.URLError`,
#: :class:`TimeoutError`) when no answer arrives.
Fetch = Callable[[str, float], tuple[int, bytes]]


def urllib_fetch(url: str, timeout: float) -> tuple[int, bytes]:
    """Fetch ``url`` with :mod:`urllib`; HTTP error statuses are returned, not raised (their body explains them)."""
    request = urllib.request.Request(
        url, headers={"User-Agent": "Mozilla/5.0 (capscope)", "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def file_symbol(yahoo_symbol: str) -> str:
    """Symbol used for files and the store: the Yahoo symbol without the index caret (``^RUT`` -> ``RUT``)."""
    return yahoo_symbol.lstrip("^")


def chart_url(yahoo_symbol: str, start: date, end: date) -> str:
    """URL of the daily chart of ``yahoo_symbol`` from ``start`` (inclusive) to ``end`` (exclusive), UTC days."""
    period1 = int(datetime.combine(start, time(), tzinfo=UTC).timestamp())
    period2 = int(datetime.combine(end, time(), tzinfo=UTC).timestamp())
    return os.environ.get(CHART_URL_ENV, YAHOO_CHART_URL).format(
        symbol=urllib.parse.quote(yahoo_symbol, safe=""), period1=period1, period2=period2
    )


def _chart_error(body: bytes) -> str | None:
    try:
        payload = json.loads(body)
        error = payload["chart"]["error"]
    except (ValueError, KeyError, TypeError):
        return None
    if not error:
        return None
    if isinstance(error, dict):
        return f"{error.get('code', 'error')}: {error.get('description', '')}".strip(": ")
    return str(error)


def parse_chart(body: bytes, *, symbol: str, url: str, log: list[Repair] | None = None) -> pl.DataFrame:
    """Turn a chart JSON body into a bar table for ``symbol``.

    Parameters
    ----------
    body
        The response body.
    symbol
        Symbol of the rows (the file symbol, e.g. ``RUT``).
    url
        Where the body came from (for messages).
    log
        Receives one :class:`~capscope.data.validate.Repair` per dropped incomplete row.

    Raises
    ------
    DownloadError
        The body is not the expected JSON, reports an error, or holds no bars.
    """
    try:
        payload = json.loads(body)
    except ValueError:
        raise DownloadError(
            f"{url}: the answer is not JSON (starts with {body[:60]!r}); Yahoo may have changed its API or "
            f"blocked the request; {_HOW_TO_PROCEED}"
        ) from None
    message = _chart_error(body)
    if message:
        raise DownloadError(f"Yahoo reports for {symbol}: {message} ({url}); {_HOW_TO_PROCEED}")
    try:
        result = payload["chart"]["result"][0]
        timestamps = result.get("timestamp") or []
        quote = result["indicators"]["quote"][0]
        meta = result.get("meta") or {}
    except (KeyError, IndexError, TypeError):
        raise DownloadError(
            f"{url}: unexpected JSON layout (no chart.result[0].indicators.quote); {_HOW_TO_PROCEED}"
        ) from None
    if not timestamps:
        raise NoBarsError(
            f"Yahoo returned no bars for {symbol} in the requested range ({url}); {_HOW_TO_PROCEED}"
        )
    columns: dict[str, Any] = {"ts": timestamps}
    for field in ("open", "high", "low", "close", "volume"):
        values = quote.get(field)
        if values is None or len(values) != len(timestamps):
            raise DownloadError(
                f"{url}: field '{field}' is missing or has {0 if values is None else len(values)} values for "
                f"{len(timestamps)} timestamps; {_HOW_TO_PROCEED}"
            )
        columns[field] = values
    adj = ((result["indicators"].get("adjclose") or [{}])[0] or {}).get("adjclose")
    has_adj = adj is not None and len(adj) == len(timestamps)
    columns["adj_close"] = adj if has_adj else [None] * len(timestamps)
    frame = pl.DataFrame(
        columns,
        schema={
            "ts": pl.Int64,
            **{c: pl.Float64 for c in ("open", "high", "low", "close", "volume", "adj_close")},
        },
        strict=False,
    )
    frame = frame.with_columns(_session_date(frame["ts"], meta).alias("date"), pl.lit(symbol).alias("symbol"))
    needed = ["open", "high", "low", "close", "volume", *(["adj_close"] if has_adj else [])]
    incomplete = frame.filter(pl.any_horizontal([pl.col(c).is_null() for c in needed]))
    for row in incomplete.iter_rows(named=True):
        missing = [c for c in needed if row[c] is None]
        repair = Repair(
            url,
            None,
            "dropped_incomplete_bar",
            f"{symbol} {row['date']}: no {', '.join(missing)} in Yahoo's answer",
        )
        logger.warning("download: %s", repair)
        if log is not None:
            log.append(repair)
    frame = frame.filter(~pl.any_horizontal([pl.col(c).is_null() for c in needed]))
    if frame.height == 0:
        raise DownloadError(f"Yahoo returned only empty bars for {symbol} ({url}); {_HOW_TO_PROCEED}")
    try:
        return validate_bars(frame.drop("ts"), path=url, repair=True, log=log)
    except DataError as exc:
        raise DownloadError(f"the download of {symbol} breaks the bar-table contract: {exc}") from None


def _session_date(ts: pl.Series, meta: Mapping[str, Any]) -> pl.Series:
    """Calendar day of each session start in the exchange's time zone (``meta.exchangeTimezoneName``)."""
    instants = pl.from_epoch(ts, time_unit="s").dt.replace_time_zone("UTC")
    tz = meta.get("exchangeTimezoneName")
    if isinstance(tz, str) and tz:
        try:
            return instants.dt.convert_time_zone(tz).dt.date()
        except pl.exceptions.PolarsError:
            pass  # unknown zone name: fall back to the fixed offset
    offset = int(meta.get("gmtoffset") or 0)
    return (pl.from_epoch(ts + offset, time_unit="s")).dt.date()


def download_symbol(
    symbol: str,
    start: date = DEFAULT_START,
    end: date | None = None,
    *,
    fetch: Fetch | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    log: list[Repair] | None = None,
) -> pl.DataFrame:
    """Download the daily bars of one Yahoo symbol.

    Parameters
    ----------
    symbol
        Yahoo symbol (``^RUT``, ``IWM``); the bar table uses :func:`file_symbol` (``RUT``).
    start, end
        First day (inclusive) and last day (exclusive, UTC midnight; default today, so today's unfinished
        session is not included).
    fetch
        HTTP getter (injectable for offline tests); default :func:`urllib_fetch`, looked up when called.
    timeout
        Seconds before the request is abandoned.
    log
        Receives a :class:`~capscope.data.validate.Repair` per dropped incomplete row.

    Returns
    -------
    polars.DataFrame
        A validated bar table.

    Raises
    ------
    DownloadError
        Network failure, timeout, HTTP error, an error reported by Yahoo, or an unexpected answer; the message
        says what failed and how to proceed (local files via ``--data``).
    """
    end = end or datetime.now(UTC).date()
    if end <= start:
        raise DownloadError(f"empty date range {start}..{end} for {symbol}; pick an end after the start")
    url = chart_url(symbol, start, end)
    getter = fetch if fetch is not None else urllib_fetch
    try:
        status, body = getter(url, timeout)
    except TimeoutError:
        raise DownloadError(
            f"timed out after {timeout:g} s downloading {symbol} from {url}; {_HOW_TO_PROCEED}"
        ) from None
    except urllib.error.URLError as exc:
        raise DownloadError(
            f"network error downloading {symbol} from {url} ({exc.reason}); {_HOW_TO_PROCEED}"
        ) from None
    except OSError as exc:
        raise DownloadError(
            f"network error downloading {symbol} from {url} ({exc}); {_HOW_TO_PROCEED}"
        ) from None
    if status != 200:
        detail = _chart_error(body) or body[:120].decode("utf-8", "replace")
        raise DownloadError(f"HTTP {status} downloading {symbol} from {url}: {detail}; {_HOW_TO_PROCEED}")
    return parse_chart(body, symbol=file_symbol(symbol), url=url, log=log)


def write_bars_csv(bars: pl.DataFrame, path: Path) -> None:
    """Write one symbol's bars in the sample layout (``date,open,high,low,close,adj_close,volume``), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    bars.select("date", "open", "high", "low", "close", "adj_close", "volume").write_csv(
        tmp, date_format="%Y-%m-%d"
    )
    tmp.replace(path)


def ensure_downloaded(
    target_dir: str | Path,
    *,
    symbols: Mapping[str, str] = DEFAULT_SYMBOLS,
    start: date = DEFAULT_START,
    end: date | None = None,
    fetch: Fetch | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[str], None] | None = None,
    log: list[Repair] | None = None,
) -> Path:
    """Make sure ``target_dir`` holds a downloaded data directory and return it.

    Writes ``target_dir/prices/SYMBOL.csv`` per symbol (the sample layout) and, when all are in place, a
    ``.complete`` marker; a directory with the marker is returned without any network access. An interrupted
    download resumes: symbols whose file exists are not fetched again. Delete the directory to refresh it.

    Parameters
    ----------
    target_dir
        Usually ``<user cache>/capscope/data``.
    symbols
        File symbol -> Yahoo symbol.
    start, end, fetch, timeout, log
        As in :func:`download_symbol`.
    progress
        Called with each symbol before it is fetched.

    Returns
    -------
    pathlib.Path
        ``target_dir``.

    Raises
    ------
    DownloadError
        On the first symbol that cannot be downloaded (files already written are kept).
    """
    target = Path(target_dir)
    prices = target / "prices"
    marker = target / COMPLETE_MARKER
    wanted = {name: prices / f"{name}.csv" for name in symbols}
    if marker.is_file() and all(p.is_file() for p in wanted.values()):
        return target
    try:
        prices.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(
            f"cannot create {prices} ({exc.strerror}); pass --data DIR to use local files"
        ) from None
    for name, yahoo in symbols.items():
        if wanted[name].is_file():
            continue
        if progress is not None:
            progress(name)
        bars = download_symbol(yahoo, start, end, fetch=fetch, timeout=timeout, log=log)
        write_bars_csv(bars, wanted[name])
    today = datetime.now(UTC).date().isoformat()
    lines = [
        "# Downloaded by capscope",
        "",
        f"Daily bars from Yahoo Finance's chart endpoint ({YAHOO_CHART_URL.split('?')[0]}), {today}.",
        "Yahoo's terms restrict redistribution: keep these files for your own analysis.",
        "",
        *[f"- `prices/{name}.csv`: {yahoo}" for name, yahoo in symbols.items()],
        "",
    ]
    (target / "SOURCES.md").write_text("\n".join(lines), encoding="utf-8")
    marker.write_text(json.dumps({"symbols": dict(symbols), "date": today}), encoding="utf-8")
    return target


# -- any universe: resumable per-symbol files -----------------------------------------------------------------
#: Header of the files written (the sample layout).
SAMPLE_HEADER: Final = "date,open,high,low,close,adj_close,volume"


@dataclass(frozen=True)
class SymbolResult:
    """Outcome of one symbol of :func:`download_universe`.

    ``status`` is ``new`` (file created), ``appended`` (new rows added), ``up to date`` (nothing new) or
    ``failed`` (``error`` says why; the file, if any, is unchanged).
    """

    symbol: str
    path: Path
    status: str
    rows_added: int = 0
    last_date: date | None = None
    error: str | None = None


def yahoo_symbol(symbol: str) -> str:
    """Yahoo symbol of a file symbol (``RUT`` -> ``^RUT`` for the default indices; others unchanged)."""
    return DEFAULT_SYMBOLS.get(symbol, symbol)


def symbol_path(target: Path, symbol: str) -> Path:
    """Where a symbol's file goes: an existing file under ``prices/`` or ``stocks/``, else ``prices/`` for the
    default indices/ETFs and index symbols (``^``), ``stocks/`` for the rest."""
    name = file_symbol(symbol)
    for sub in ("prices", "stocks"):
        if (target / sub / f"{name}.csv").is_file():
            return target / sub / f"{name}.csv"
    sub = "prices" if name in DEFAULT_SYMBOLS or symbol.startswith("^") else "stocks"
    return target / sub / f"{name}.csv"


def _last_line_date(path: Path) -> tuple[str, date]:
    """Header and last row date of a sample-layout file written before (read from the ends of the file)."""
    with open(path, "rb") as fh:
        header = fh.readline().decode("utf-8", "replace").strip()
        size = fh.seek(0, 2)
        fh.seek(max(0, size - 4096))
        tail = fh.read().decode("utf-8", "replace").strip().splitlines()
    if header != SAMPLE_HEADER:
        raise DownloadError(
            f"{path}: header {header!r} is not the layout downloads append to ({SAMPLE_HEADER}); move the file "
            "away or download into another --data directory"
        )
    try:
        return header, date.fromisoformat(tail[-1].split(",", 1)[0])
    except (IndexError, ValueError):
        raise DownloadError(f"{path}: no bar in the file; delete it to download from the start") from None


def download_to_file(
    symbol: str,
    target: Path,
    *,
    since: date = DEFAULT_START,
    end: date | None = None,
    fetch: Fetch | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    log: list[Repair] | None = None,
) -> SymbolResult:
    """Download one symbol into ``target`` (resuming after the last bar of its file); never raises for it.

    The file is rewritten atomically (a ``.part`` file renamed over it) with the old rows followed by the new
    ones, so an interrupted download leaves the previous file and a rerun continues after its last bar.
    """
    path = symbol_path(target, symbol)
    name = file_symbol(symbol)
    end = end or datetime.now(UTC).date()
    try:
        last: date | None = None
        start = since
        if path.is_file():
            _, last = _last_line_date(path)
            start = last + timedelta(days=1)
            if start >= end:
                return SymbolResult(name, path, "up to date", 0, last)
        try:
            bars = download_symbol(yahoo_symbol(symbol), start, end, fetch=fetch, timeout=timeout, log=log)
        except NoBarsError:
            if last is not None:
                return SymbolResult(name, path, "up to date", 0, last)
            raise
        if last is not None:
            bars = bars.filter(pl.col("date") > last)
        if bars.height == 0:
            return SymbolResult(name, path, "up to date", 0, last)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        new_rows = bars.select("date", "open", "high", "low", "close", "adj_close", "volume").write_csv(
            None, date_format="%Y-%m-%d", include_header=last is None
        )
        with open(tmp, "wb") as out:
            if last is not None:
                with open(path, "rb") as old:
                    data = old.read()
                out.write(data if data.endswith(b"\n") else data + b"\n")
            out.write(new_rows.encode())
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
        new_last: date = bars["date"].max()  # type: ignore[assignment]
        return SymbolResult(name, path, "appended" if last is not None else "new", bars.height, new_last)
    except DownloadError as exc:
        return SymbolResult(name, path, "failed", 0, None, str(exc))
    except OSError as exc:
        return SymbolResult(name, path, "failed", 0, None, f"cannot write {path}: {exc.strerror or exc}")


def download_universe(
    symbols: Sequence[str],
    target: str | Path,
    *,
    since: date = DEFAULT_START,
    end: date | None = None,
    fetch: Fetch | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[SymbolResult], None] | None = None,
    log: list[Repair] | None = None,
) -> list[SymbolResult]:
    """Download the daily bars of any symbols into ``target`` (``prices/`` and ``stocks/`` files, sample layout).

    Resumable: a symbol whose file exists gets only the bars after its last row. A failing symbol is reported in
    its :class:`SymbolResult` and the others continue. ``fetch`` defaults to a
    :class:`capscope.data.fetch.RetryingFetch` (retries with backoff, rate limited).

    Parameters
    ----------
    symbols
        File symbols (``RUT``, ``IWM``, ``AAPL``) or Yahoo symbols (``^RUT``).
    target
        The data directory.
    since
        First day for symbols without a file.
    end, timeout, log
        As in :func:`download_symbol`.
    progress
        Called with each symbol's result.
    """
    from capscope.data.fetch import RetryingFetch

    getter = fetch if fetch is not None else RetryingFetch()
    out = []
    for symbol in symbols:
        result = download_to_file(
            symbol, Path(target), since=since, end=end, fetch=getter, timeout=timeout, log=log
        )
        out.append(result)
        if progress is not None:
            progress(result)
    return out
