"""The brief: brief.json facts, Markdown and self-contained HTML rendering, claim checking."""
