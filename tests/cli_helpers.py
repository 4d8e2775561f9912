"""Running the ``capscope`` console entry point in-process, as a user's shell would (exit code, stdout, stderr)."""

from __future__ import annotations

import sys

import pytest

from capscope.cli.app import main


def run_main(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """Run ``capscope ARGS`` through :func:`capscope.cli.app.main`; returns (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["capscope", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err
