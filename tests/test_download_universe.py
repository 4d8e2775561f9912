"""``capscope download`` against a loopback HTTP server: slow answers, 429 with Retry-After, 500s, a connection
dropped mid-body, an unknown symbol; resuming; never the real network."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


def chart_body(symbol: str, days: list[date]) -> bytes:
    """A Yahoo chart answer for ``days`` (session start 14:30 UTC, New York)."""
    ts = [int(datetime(d.year, d.month, d.day, 14, 30, tzinfo=UTC).timestamp()) for d in days]
    base = [100.0 + i for i in range(len(days))]
    quote = {
        "open": base,
        "high": [b + 2 for b in base],
        "low": [b - 2 for b in base],
        "close": [b + 1 for b in base],
        "volume": [1000 + i for i in range(len(days))],
    }
    result = {
        "meta": {"symbol": symbol, "exchangeTimezoneName": "America/New_York", "gmtoffset": -18000},
        "timestamp": ts,
        "indicators": {"quote": [quote], "adjclose": [{"adjclose": quote["close"]}]},
    }
    return json.dumps({"chart": {"result": [result], "error": None}}).encode()


class Server:
    """Scripted loopback chart server: per symbol a list of behaviours consumed one per request."""

    def __init__(self) -> None:
        self.script: dict[str, list[str]] = {}
        self.requests: list[tuple[str, float]] = []
        self.days = [date(2026, 1, 5) + timedelta(days=i) for i in range(10) if (5 + i) % 7 not in (3, 4)]
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parsed = urllib.parse.urlparse(self.path)
                symbol = urllib.parse.unquote(parsed.path.rsplit("/", 1)[-1])
                q = urllib.parse.parse_qs(parsed.query)
                start = datetime.fromtimestamp(int(q["period1"][0]), UTC).date()
                outer.requests.append((symbol, time.monotonic()))
                steps = outer.script.get(symbol, [])
                step = steps.pop(0) if steps else "ok"
                if step == "slow":
                    time.sleep(1.0)
                    step = "ok"
                if step == "429":
                    self._send(429, b'{"error": "too many"}', {"Retry-After": "1"})
                elif step == "500":
                    self._send(500, b"internal error")
                elif step == "404":
                    body = b'{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found"}}}'
                    self._send(404, body)
                elif step == "drop":
                    body = chart_body(symbol, outer.days)
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 3])
                    self.wfile.flush()
                    self.connection.shutdown(2)
                else:
                    days = [d for d in outer.days if d >= start]
                    if not days:
                        body = json.dumps(
                            {"chart": {"result": [{"meta": {}, "indicators": {"quote": [{}]}}]}}
                        )
                        self._send(200, body.encode())
                    else:
                        self._send(200, chart_body(symbol, days))

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v8/finance/chart/{{symbol}}?period1={{period1}}&period2={{period2}}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    with Server() as srv:
        monkeypatch.setenv("CAPSCOPE_CHART_URL", srv.url)
        yield srv


def _fetch(sleeps: list[float]):  # type: ignore[no-untyped-def]
    from capscope.data.fetch import RetryingFetch

    return RetryingFetch(
        attempts=4, initial=0.01, max_wait=0.05, jitter=0.0, min_interval=0.0, sleep=sleeps.append
    )


END = date(2026, 1, 17)


def test_transient_failures_are_retried(server: Server, tmp_path: Path) -> None:
    from capscope.data.download import download_universe
    from capscope.data.readers import read_bars

    server.script = {"AAA": ["500", "500"], "BBB": ["429"], "CCC": ["drop"], "DDD": ["slow"], "EEE": ["404"]}
    sleeps: list[float] = []
    results = download_universe(
        ["AAA", "BBB", "CCC", "DDD", "EEE"], tmp_path, end=END, fetch=_fetch(sleeps), timeout=0.4
    )
    status = {r.symbol: r.status for r in results}
    assert status == {"AAA": "new", "BBB": "new", "CCC": "new", "DDD": "new", "EEE": "failed"}
    tries = {s: sum(1 for r, _ in server.requests if r == s) for s in status}
    assert tries == {"AAA": 3, "BBB": 2, "CCC": 2, "DDD": 2, "EEE": 1}  # 404 is not retried
    assert any(s >= 1.0 for s in sleeps)  # Retry-After: 1 honoured although the backoff is 0.01-0.05 s
    assert "No data found" in str(next(r.error for r in results if r.symbol == "EEE"))
    bars = read_bars(tmp_path / "stocks" / "AAA.csv")
    assert bars.height == len(server.days) and bars["date"].to_list() == server.days
    assert not list(tmp_path.rglob("*.part"))


def test_gives_up_after_attempts(server: Server, tmp_path: Path) -> None:
    from capscope.data.download import download_universe

    server.script = {"AAA": ["500"] * 10}
    sleeps: list[float] = []
    (r,) = download_universe(["AAA"], tmp_path, end=END, fetch=_fetch(sleeps))
    assert r.status == "failed" and "HTTP 500" in str(r.error)
    assert len(sleeps) == 3 and sleeps == sorted(sleeps)  # 4 attempts, growing waits
    assert not (tmp_path / "stocks" / "AAA.csv").exists()


def test_resume_appends_only_new_bars(server: Server, tmp_path: Path) -> None:
    from capscope.data.download import download_universe

    keep = server.days
    server.days = keep[:4]
    (first,) = download_universe(["IWM"], tmp_path, end=END, fetch=_fetch([]))
    path = tmp_path / "prices" / "IWM.csv"
    before = path.read_bytes()
    assert first.status == "new" and first.rows_added == 4
    server.days = keep
    (second,) = download_universe(["IWM"], tmp_path, end=END, fetch=_fetch([]))
    assert second.status == "appended" and second.rows_added == len(keep) - 4
    after = path.read_bytes()
    assert after.startswith(before)  # append-only: the watch ingests only the new rows
    n_requests = len(server.requests)
    (third,) = download_universe(["IWM"], tmp_path, end=END, fetch=_fetch([]))
    assert third.status == "up to date" and path.read_bytes() == after
    assert len(server.requests) == n_requests + 1  # asked once, nothing new


def test_rate_limit_spaces_requests() -> None:
    from capscope.data.fetch import RateLimiter

    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(0.5, clock=lambda: now[0], sleep=sleep)
    limiter.wait()
    now[0] += 0.2
    limiter.wait()
    limiter.wait()
    assert slept == pytest.approx([0.3, 0.5])


def test_retry_after_http_date() -> None:
    from capscope.data.fetch import retry_after_seconds

    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == pytest.approx(10.0)
    assert retry_after_seconds("soon") is None


def test_cli_reports_failures_and_exits_5(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli_helpers import run_main

    server.script = {"BAD": ["404"]}
    argv = ["download", "GOOD", "BAD", "--data", str(tmp_path), "--delay", "0"]
    code, out, err = run_main(argv, monkeypatch, capsys)
    assert code == 5
    assert "1 of 2 symbols failed (BAD)" in err and "GOOD" in out and "new" in out
    assert (tmp_path / "stocks" / "GOOD.csv").is_file()
    argv = ["download", "GOOD", "--data", str(tmp_path), "--since", "2026-02-30"]
    code, out, err = run_main(argv, monkeypatch, capsys)
    assert code == 2 and "not a date" in err
