"""Online download, tested offline: the HTTP getter is replaced by fakes that return chart bodies built here.

The bodies follow the layout of Yahoo's ``/v8/finance/chart`` answer (``chart.result[0].timestamp``,
``meta.exchangeTimezoneName``, ``indicators.quote[0]``, ``indicators.adjclose[0]``; errors as ``chart.error``).
An autouse fixture makes any real network use fail the test.
"""

from __future__ import annotations

import http.server
import json
import logging
import os
import threading
import urllib.error
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from capscope.data import download, sources
from capscope.data.download import (
    DEFAULT_SYMBOLS,
    chart_url,
    download_symbol,
    ensure_downloaded,
    parse_chart,
    urllib_fetch,
)
from capscope.data.readers import read_bars
from capscope.data.validate import Repair
from capscope.errors import DownloadError


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(url: str, timeout: float) -> tuple[int, bytes]:
        raise AssertionError(f"a test tried to reach the network: {url}")

    monkeypatch.setattr(download, "urllib_fetch", refuse)


def _ts(day: date, hour: int = 14, minute: int = 30) -> int:
    """Epoch seconds of ``day`` at ``hour:minute`` UTC (09:30 New York in winter = 14:30 UTC)."""
    return int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC).timestamp())


def chart_body(
    rows: list[tuple[int, float | None, float | None, float | None, float | None, float | None]],
    *,
    adjclose: list[float | None] | None = None,
    tz: str = "America/New_York",
    symbol: str = "^RUT",
) -> bytes:
    """A chart answer: rows of (timestamp, open, high, low, close, volume)."""
    quote = {
        "open": [r[1] for r in rows],
        "high": [r[2] for r in rows],
        "low": [r[3] for r in rows],
        "close": [r[4] for r in rows],
        "volume": [r[5] for r in rows],
    }
    indicators: dict[str, Any] = {"quote": [quote]}
    if adjclose is not None:
        indicators["adjclose"] = [{"adjclose": adjclose}]
    payload = {
        "chart": {
            "result": [
                {
                    "meta": {
                        "currency": "USD",
                        "symbol": symbol,
                        "exchangeTimezoneName": tz,
                        "gmtoffset": -18000,
                        "dataGranularity": "1d",
                    },
                    "timestamp": [r[0] for r in rows],
                    "indicators": indicators,
                }
            ],
            "error": None,
        }
    }
    return json.dumps(payload).encode()


def error_body(code: str = "Not Found", description: str = "No data found, symbol may be delisted") -> bytes:
    return json.dumps(
        {"chart": {"result": None, "error": {"code": code, "description": description}}}
    ).encode()


GOOD_ROWS = [
    (_ts(date(2024, 1, 2)), 2020.0, 2030.5, 1990.25, 2010.0, 3.9e9),
    (_ts(date(2024, 1, 3)), 2010.0, 2015.0, 1980.0, 1985.5, 4.1e9),
    (_ts(date(2024, 1, 4)), 1985.5, 2000.0, 1970.0, 1999.0, 4.0e9),
]


def fake(status: int, body: bytes, seen: list[str] | None = None):  # type: ignore[no-untyped-def]
    def fetch(url: str, timeout: float) -> tuple[int, bytes]:
        if seen is not None:
            seen.append(url)
        return status, body

    return fetch


def test_chart_url_is_hand_checkable() -> None:
    url = chart_url("^RUT", date(2024, 1, 1), date(2024, 2, 1))
    # 2024-01-01T00:00Z = 1704067200, 2024-02-01T00:00Z = 1706745600 (31 days later)
    assert url.startswith("https://query1.finance.yahoo.com/v8/finance/chart/%5ERUT?")
    assert "period1=1704067200" in url and "period2=1706745600" in url and "interval=1d" in url


def test_download_parses_chart() -> None:
    seen: list[str] = []
    bars = download_symbol(
        "^RUT", date(2024, 1, 1), date(2024, 1, 5), fetch=fake(200, chart_body(GOOD_ROWS), seen)
    )
    assert len(seen) == 1 and "%5ERUT" in seen[0]
    assert bars["symbol"].unique().to_list() == ["RUT"]
    assert bars["date"].to_list() == [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]
    assert bars["close"].to_list() == [2010.0, 1985.5, 1999.0]
    assert bars["volume"].to_list() == [3.9e9, 4.1e9, 4.0e9]
    assert bars["adj_close"].null_count() == 3


def test_session_day_is_taken_in_exchange_time_zone() -> None:
    # 2024-01-03 03:00 UTC is still 2024-01-02 in New York, already 2024-01-03 in Tokyo
    rows = [(_ts(date(2024, 1, 3), hour=3, minute=0), 1.0, 2.0, 0.5, 1.5, 10.0)]
    ny = parse_chart(chart_body(rows), symbol="X", url="u")
    tokyo = parse_chart(chart_body(rows, tz="Asia/Tokyo"), symbol="X", url="u")
    assert ny["date"].to_list() == [date(2024, 1, 2)]
    assert tokyo["date"].to_list() == [date(2024, 1, 3)]


def test_unknown_time_zone_falls_back_to_gmtoffset() -> None:
    rows = [(_ts(date(2024, 1, 3), hour=3, minute=0), 1.0, 2.0, 0.5, 1.5, 10.0)]
    bars = parse_chart(chart_body(rows, tz="Mars/Olympus_Mons"), symbol="X", url="u")
    assert bars["date"].to_list() == [date(2024, 1, 2)]  # gmtoffset -18000 s


def test_adjclose_is_kept() -> None:
    bars = parse_chart(chart_body(GOOD_ROWS, adjclose=[2009.0, 1984.5, 1998.0]), symbol="IWM", url="u")
    assert bars["adj_close"].to_list() == [2009.0, 1984.5, 1998.0]


def test_null_rows_are_dropped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    rows = [
        GOOD_ROWS[0],
        (_ts(date(2024, 1, 3)), None, None, None, None, None),
        (_ts(date(2024, 1, 4)), 1985.5, 2000.0, 1970.0, 1999.0, None),
    ]
    log: list[Repair] = []
    with caplog.at_level(logging.WARNING, logger="capscope.data"):
        bars = parse_chart(chart_body(rows), symbol="RUT", url="https://example/chart", log=log)
    assert bars["date"].to_list() == [date(2024, 1, 2)]
    assert [r.action for r in log] == ["dropped_incomplete_bar"] * 2
    assert "RUT 2024-01-03: no open, high, low, close, volume" in log[0].detail
    assert "RUT 2024-01-04: no volume" in log[1].detail
    assert sum("dropped_incomplete_bar" in m for m in caplog.messages) == 2


def test_only_null_rows_is_an_error() -> None:
    rows = [(_ts(date(2024, 1, 3)), None, None, None, None, None)]
    with pytest.raises(DownloadError, match="only empty bars"):
        parse_chart(chart_body(rows), symbol="RUT", url="u")


def test_yahoo_error_body_with_http_404() -> None:
    with pytest.raises(DownloadError) as info:
        download_symbol("^NOPE", date(2024, 1, 1), date(2024, 1, 5), fetch=fake(404, error_body()))
    message = str(info.value)
    assert "HTTP 404" in message and "No data found, symbol may be delisted" in message
    assert "--data" in message and "CAPSCOPE_DATA" in message
    assert info.value.exit_code == 5


def test_yahoo_error_body_with_http_200() -> None:
    with pytest.raises(DownloadError, match="Yahoo reports for NOPE: Not Found"):
        download_symbol("NOPE", date(2024, 1, 1), date(2024, 1, 5), fetch=fake(200, error_body()))


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html>Too Many Requests</html>", "not JSON"),
        (b'{"chart": {"result": [{"timestamp": [1]}], "error": null}}', "unexpected JSON layout"),
        (b'{"chart": {"result": [{"indicators": {"quote": [{}]}}], "error": null}}', "no bars"),
        (chart_body(GOOD_ROWS).replace(b'"volume": [', b'"volume": [1, '), "has 4 values for 3 timestamps"),
    ],
)
def test_unexpected_bodies(body: bytes, words: str) -> None:
    with pytest.raises(DownloadError, match=words):
        download_symbol("^RUT", date(2024, 1, 1), date(2024, 1, 5), fetch=fake(200, body))


def test_http_error_without_json() -> None:
    with pytest.raises(DownloadError, match=r"HTTP 503.*Service Unavailable"):
        download_symbol("^RUT", date(2024, 1, 1), date(2024, 1, 5), fetch=fake(503, b"Service Unavailable"))


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (TimeoutError("timed out"), "timed out after 7 s"),
        (urllib.error.URLError("[Errno -3] Temporary failure in name resolution"), "name resolution"),
        (ConnectionResetError(104, "Connection reset by peer"), "Connection reset"),
    ],
)
def test_network_failures_are_clear(exc: Exception, words: str) -> None:
    def failing(url: str, timeout: float) -> tuple[int, bytes]:
        raise exc

    with pytest.raises(DownloadError, match=words) as info:
        download_symbol("^RUT", date(2024, 1, 1), date(2024, 1, 5), fetch=failing, timeout=7)
    assert "network" in str(info.value) or "timed out" in str(info.value)
    assert "--data" in str(info.value)


def test_conflicting_duplicate_session_is_an_error() -> None:
    rows = [GOOD_ROWS[0], (GOOD_ROWS[0][0] + 60, 2020.0, 2030.5, 1990.25, 2011.0, 3.9e9)]
    with pytest.raises(DownloadError, match=r"bar-table contract.*duplicate date 2024-01-02"):
        parse_chart(chart_body(rows), symbol="RUT", url="u")


def test_bad_range() -> None:
    with pytest.raises(DownloadError, match="empty date range"):
        download_symbol("^RUT", date(2024, 1, 5), date(2024, 1, 5), fetch=fake(200, chart_body(GOOD_ROWS)))


# ------------------------------------------------------------------------------------------------ ensure_downloaded


def _per_symbol_fetch(seen: list[str]):  # type: ignore[no-untyped-def]
    def fetch(url: str, timeout: float) -> tuple[int, bytes]:
        seen.append(url)
        return 200, chart_body(GOOD_ROWS)

    return fetch


def test_ensure_downloaded_writes_sample_layout(tmp_path: Path) -> None:
    seen: list[str] = []
    symbols = {"RUT": "^RUT", "IWM": "IWM"}
    progress: list[str] = []
    target = ensure_downloaded(
        tmp_path / "data",
        symbols=symbols,
        end=date(2024, 1, 5),
        fetch=_per_symbol_fetch(seen),
        progress=progress.append,
    )
    assert progress == ["RUT", "IWM"] and len(seen) == 2
    rut = target / "prices" / "RUT.csv"
    assert rut.read_text().splitlines()[0] == "date,open,high,low,close,adj_close,volume"
    bars = read_bars(rut)
    assert bars["close"].to_list() == [2010.0, 1985.5, 1999.0]
    assert bars["volume"].to_list() == [3.9e9, 4.1e9, 4.0e9]
    assert (target / ".complete").is_file() and "^RUT" in (target / "SOURCES.md").read_text()
    # a complete directory is returned without any network access
    assert ensure_downloaded(target, symbols=symbols, fetch=fake(500, b"")) == target
    assert len(seen) == 2


def test_ensure_downloaded_resumes_after_failure(tmp_path: Path) -> None:
    calls: list[str] = []

    def flaky(url: str, timeout: float) -> tuple[int, bytes]:
        calls.append(url)
        if "IWM" in url and len(calls) == 2:
            raise urllib.error.URLError("connection refused")
        return 200, chart_body(GOOD_ROWS)

    symbols = {"RUT": "^RUT", "IWM": "IWM"}
    with pytest.raises(DownloadError, match="connection refused"):
        ensure_downloaded(tmp_path, symbols=symbols, end=date(2024, 1, 5), fetch=flaky)
    assert (tmp_path / "prices" / "RUT.csv").is_file()
    assert not (tmp_path / "prices" / "IWM.csv").exists() and not (tmp_path / ".complete").exists()
    assert not list((tmp_path / "prices").glob("*.part"))
    ensure_downloaded(tmp_path, symbols=symbols, end=date(2024, 1, 5), fetch=flaky)
    assert len(calls) == 3 and "IWM" in calls[-1]  # RUT was not fetched again
    assert (tmp_path / ".complete").is_file()


def test_default_symbols_are_the_index_and_etf_set() -> None:
    assert (
        DEFAULT_SYMBOLS["RUT"] == "^RUT"
        and DEFAULT_SYMBOLS["GSPC"] == "^GSPC"
        and DEFAULT_SYMBOLS["NDX"] == "^NDX"
    )
    assert set(DEFAULT_SYMBOLS) == {"RUT", "GSPC", "NDX", "IWM", "SPY", "QQQ", "IWO", "IWN", "IWF", "IWD"}


def test_resolve_data_dir_downloads_as_last_resort(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAPSCOPE_DATA", raising=False)
    monkeypatch.setattr(sources, "shared_data_beside_checkout", lambda: tmp_path / "absent")
    seen: list[str] = []
    monkeypatch.setattr(download, "urllib_fetch", _per_symbol_fetch(seen))
    resolved = sources.resolve_data_dir()
    assert resolved.how == "download"
    assert resolved.path == sources.user_cache_dir() / "data"
    assert Path(os.environ["XDG_CACHE_HOME"]) in resolved.path.parents  # the isolated user cache
    assert len(seen) == len(DEFAULT_SYMBOLS)
    assert read_bars(resolved.path / "prices" / "RUT.csv").height == 3


def test_resolve_data_dir_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "opt").mkdir()
    (tmp_path / "env").mkdir()
    (tmp_path / "beside").mkdir()
    monkeypatch.setattr(sources, "shared_data_beside_checkout", lambda: tmp_path / "beside")
    monkeypatch.setenv("CAPSCOPE_DATA", str(tmp_path / "env"))
    assert sources.resolve_data_dir(tmp_path / "opt") == sources.DataDir(tmp_path / "opt", "option")
    assert sources.resolve_data_dir() == sources.DataDir(tmp_path / "env", "env")
    monkeypatch.delenv("CAPSCOPE_DATA")
    assert sources.resolve_data_dir() == sources.DataDir(tmp_path / "beside", "checkout")
    monkeypatch.setattr(sources, "shared_data_beside_checkout", lambda: tmp_path / "absent")
    with pytest.raises(Exception, match="--data"):
        sources.resolve_data_dir(allow_download=False)


# ------------------------------------------------------------------------------------------------ urllib getter


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if "NOPE" in self.path:
            status, body = 404, error_body()
        else:
            status, body = 200, chart_body(GOOD_ROWS)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    """A loopback HTTP server (no internet) to exercise the real urllib getter."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_urllib_fetch_returns_status_and_body(local_server: str) -> None:
    status, body = urllib_fetch(f"{local_server}/v8/finance/chart/IWM", 5)
    assert status == 200
    bars = parse_chart(body, symbol="IWM", url="local")
    assert bars.height == 3
    status, body = urllib_fetch(f"{local_server}/v8/finance/chart/NOPE", 5)
    assert status == 404 and b"No data found" in body


def test_urllib_fetch_connection_refused() -> None:
    with pytest.raises(urllib.error.URLError):
        urllib_fetch("http://127.0.0.1:9/none", 2)  # port 9 (discard): nothing listens


def test_frame_dtypes() -> None:
    bars = parse_chart(chart_body(GOOD_ROWS), symbol="RUT", url="u")
    assert bars.schema["date"] == pl.Date and bars.schema["volume"] == pl.Float64
