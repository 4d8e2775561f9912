"""brief.md: the brief as Markdown, rendered from brief.json only.

Each section lists its facts' ``text`` in order (every sentence comes from a fact), followed by the section's
table when it has one. Table cells are printed with :func:`cell_text`, which never reformats a number, so every
number printed is a number stored in brief.json.
"""

from __future__ import annotations

from typing import Any


def cell_text(value: Any) -> str:
    """Text of one table cell: numbers exactly as stored, ``None`` as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def section_view(brief: dict[str, Any]) -> list[dict[str, Any]]:
    """Sections with their fact records resolved (shared by the Markdown and HTML renderers)."""
    by_id = {fact["id"]: fact for fact in brief["facts"]}
    views = []
    for section in brief["sections"]:
        tables = [section["table"]] if section.get("table") else []
        if section["id"] == "provenance" and brief.get("data", {}).get("symbols"):
            # where each file came from (brief.json "data"; not part of the as-of comparison)
            tables.append(
                {
                    "columns": ["symbol", "source", "first date in source", "last date in source", "rows"],
                    "rows": [
                        [
                            d["symbol"],
                            d.get("source", ""),
                            d.get("first_date"),
                            d.get("last_date"),
                            d.get("rows"),
                        ]
                        for d in brief["data"]["symbols"]
                    ],
                }
            )
        views.append(
            {
                "id": section["id"],
                "title": section["title"],
                "facts": [by_id[fid] for fid in section["facts"]],
                "tables": [
                    {"columns": t["columns"], "rows": [[cell_text(c) for c in row] for row in t["rows"]]}
                    for t in tables
                    if t["rows"]
                ],
            }
        )
    return views


def _escape_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(brief: dict[str, Any]) -> str:
    """Render the brief as Markdown (headings, one bullet per fact, tables)."""
    params = brief["params"]
    lines = [f"# capscope brief: {params['symbol']} as of {brief['as_of']}", ""]
    for view in section_view(brief):
        lines += [f"## {view['title']}", ""]
        lines += [f"- {fact['text']}" for fact in view["facts"]]
        lines.append("")
        for table in view["tables"]:
            lines.append("| " + " | ".join(_escape_cell(c) for c in table["columns"]) + " |")
            lines.append("|" + "---|" * len(table["columns"]))
            for row in table["rows"]:
                lines.append("| " + " | ".join(_escape_cell(c) for c in row) + " |")
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
