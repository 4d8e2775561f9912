"""``capscope verify CLAIMS.yaml``: check a market story's claims against the data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from capscope.cli.common import AsOfOption, DataOption, StoreOption, console
from capscope.errors import UsageError


def verify(
    claims_file: Annotated[
        Path | None,
        typer.Argument(
            help="YAML claims file (format: docs/claims.md; examples/).",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ] = None,
    as_of: AsOfOption = None,
    data: DataOption = None,
    store: StoreOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdicts as JSON.")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 unless every claim is supported (default: exit 0).")
    ] = False,
    schema: Annotated[
        bool, typer.Option("--schema", help="Print the claims-file JSON Schema (for editors) and exit.")
    ] = False,
) -> None:
    """Check each claim (level breakouts, MA crosses, MACD crosses, outperformance, patterns) and print a verdict
    with the measured values: supported, contradicted or not determinable. A claims file that breaks the
    format (unknown key or value, bad date, wrong type) is refused with the line at fault (exit code 2).

    Example: capscope verify examples/small-cap-rally-2025.yaml --as-of 2025-12-31
    """
    from capscope.claims.schema import claims_json_schema_text

    if schema:
        typer.echo(claims_json_schema_text(), nl=False)
        return
    if claims_file is None:
        raise UsageError("give a claims file (capscope verify CLAIMS.yaml), or --schema for the format")

    from rich.markup import escape
    from rich.table import Table

    from capscope.claims import SUPPORTED, claim_symbols, load_claims, verify_claims
    from capscope.cli.brief import _source_options
    from capscope.report.loading import load_inputs

    claims, file_as_of = load_claims(claims_file)
    day = as_of or file_as_of
    data, store = _source_options(data, store, day)
    with console.status("checking claims ..."):
        inputs = load_inputs(claim_symbols(claims), data=data, store=store, as_of=day, universe=False)
        verdicts = verify_claims(inputs.prices, claims, day)
    if as_json:
        typer.echo(json.dumps([v.to_dict() for v in verdicts], indent=2, sort_keys=True))
    else:
        colors = {"supported": "green", "contradicted": "red", "not determinable": "yellow"}
        table = Table(title=f"{escape(str(claims_file))} (as of {escape(day or 'latest')})", show_lines=True)
        for col in ("claim", "verdict", "measured"):
            table.add_column(col)
        for v in verdicts:
            says = f"[bold]{escape(v.id)}[/]\n{escape(v.says)}"
            table.add_row(says, f"[{colors[v.verdict]}]{v.verdict}[/]", escape(v.reason))
        console.print(table)
        counts = {k: sum(v.verdict == k for v in verdicts) for k in colors}
        console.print(", ".join(f"{n} {k}" for k, n in counts.items()), highlight=False)
    if strict and any(v.verdict != SUPPORTED for v in verdicts):
        raise typer.Exit(1)
